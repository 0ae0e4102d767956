"""mlqa: a quality toolkit for machine-learning repositories.

Importing this package is cheap: it imports no tool and no torch. The parts
live in submodules (``mlqa.cli``, ``mlqa.config``, ``mlqa.diagnostics``,
``mlqa.testing`` ...), loaded only when used.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
