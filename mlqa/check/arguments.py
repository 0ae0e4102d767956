"""The command line of ``mlqa check``: a small parser (argparse costs start-up time).

The pre-commit hook starts ``mlqa check`` once per batch of staged files, so
its start-up is most of its run time; this parser gives argparse's messages
and exit status for the few options the command has.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from mlqa.diagnostics import FORMATS

USAGE = (
    "usage: mlqa check [-h] [--select CODES] [--ignore CODES]\n"
    "                  [--format {text,json,github,sarif}] [--no-cache]\n"
    "                  [--exit-zero] [--statistics] [PATH ...]"
)
HELP = f"""{USAGE}

Check Python files and notebooks for hardcoded hyperparameters (MLQ1xx) and
hardcoded devices (MLQ2xx).

positional arguments:
  PATH              files or directories (default: .)

options:
  -h, --help        show this help message and exit
  --select CODES    only these codes or prefixes (MLQ1,MLQ201); repeatable
  --ignore CODES    skip these codes or prefixes; repeatable
  --format FORMAT   output format: text, json, github or sarif (default: text)
  --no-cache        do not read or write the cache
  --exit-zero       exit 0 even with findings
  --statistics      print counts per rule instead of the findings

Run 'mlqa rule' to list the rules, 'mlqa rule CODE' for one rule's docs."""

_FLAGS = ("--no-cache", "--exit-zero", "--statistics")


class Arguments(NamedTuple):
    """The parsed command line of ``mlqa check``.

    Attributes:
        paths: Files and directories.
        select: The ``--select`` codes, split at commas and spaces.
        ignore: The ``--ignore`` codes, split likewise.
        format: The output format.
        no_cache: Bypass the cache.
        exit_zero: Exit 0 even with findings.
        statistics: Print counts per rule.
    """

    paths: list[str]
    select: list[str]
    ignore: list[str]
    format: str = "text"
    no_cache: bool = False
    exit_zero: bool = False
    statistics: bool = False


def wants_help(argv: Sequence[str]) -> bool:
    """Tell whether ``-h``/``--help`` comes before any ``--``.

    Args:
        argv: The arguments after ``mlqa check``.

    Returns:
        True when help is asked for.
    """
    options = argv[: list(argv).index("--")] if "--" in argv else argv
    return "-h" in options or "--help" in options


def _codes(values: Sequence[str]) -> list[str]:
    return [c for v in values for c in re.split(r"[\s,]+", v) if c]


def parse_arguments(argv: Sequence[str]) -> Arguments:
    """Parse the command line.

    Args:
        argv: The arguments after ``mlqa check``.

    Returns:
        The arguments.

    Raises:
        ValueError: With a one-line message for a usage error.
    """
    paths: list[str] = []
    values: dict[str, list[str]] = {"--select": [], "--ignore": [], "--format": []}
    flags: set[str] = set()
    index = 0
    while index < len(argv):
        arg = argv[index]
        index += 1
        if arg == "--":
            paths += argv[index:]
            break
        if not arg.startswith("-") or arg == "-":
            paths.append(arg)
            continue
        name, eq, value = arg.partition("=")
        if name in values:
            if not eq:
                if index >= len(argv):
                    raise ValueError(f"argument {name}: expected one argument")
                value = argv[index]
                index += 1
            values[name].append(value)
        elif name in _FLAGS and not eq:
            flags.add(name)
        else:
            raise ValueError(f"unrecognized arguments: {arg}")
    fmt = values["--format"][-1] if values["--format"] else "text"
    if fmt not in FORMATS:
        choices = ", ".join(repr(f) for f in FORMATS)
        raise ValueError(
            f"argument --format: invalid choice: {fmt!r} (choose from {choices})"
        )
    return Arguments(
        paths,
        _codes(values["--select"]),
        _codes(values["--ignore"]),
        fmt,
        "--no-cache" in flags,
        "--exit-zero" in flags,
        "--statistics" in flags,
    )
