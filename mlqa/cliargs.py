"""argparse, without the ~3 ms ``shutil`` import on every hook run.

argparse's help formatter imports :mod:`shutil` (and with it ``bz2``,
``lzma``) to ask for the terminal width, and ``add_argument`` builds a
formatter for every argument it adds. Every mlqa command builds its parser
with :func:`new_parser`, whose formatter finds the width as ``shutil`` does.
"""

from __future__ import annotations

import argparse
import os
import sys
from functools import lru_cache


@lru_cache(maxsize=1)
def columns() -> int:
    """Return the terminal width, as ``shutil.get_terminal_size`` finds it."""
    try:
        width = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        width = 0
    if width <= 0:
        stdout = sys.__stdout__
        try:
            width = os.get_terminal_size(stdout.fileno()).columns if stdout else 0
        except (AttributeError, ValueError, OSError):
            width = 0
    return width or 80


class Formatter(argparse.HelpFormatter):
    """argparse's default formatter, given the width up front."""

    def __init__(self, prog: str) -> None:
        """Make the formatter for prog's help, two columns narrower than the terminal."""
        super().__init__(prog, width=columns() - 2)


def new_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """Make an argument parser that uses :class:`Formatter`.

    Args:
        prog: The program name shown in usage lines.
        description: What the command does.

    Returns:
        The parser.
    """
    return argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=Formatter
    )
