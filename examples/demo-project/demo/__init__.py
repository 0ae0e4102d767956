"""A tiny image classifier."""
