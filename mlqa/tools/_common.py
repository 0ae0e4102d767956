"""What the tool commands share: presets, arguments, and the command door.

Each tool module (black, ruff, docstrings, mypy) implements the runner
contract of :mod:`mlqa.runner`; :func:`run_command` turns its step into a
command (``main(argv) -> int``) with the same options and exit codes as every
other mlqa command.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from mlqa import config as config_mod
from mlqa.cliargs import new_parser
from mlqa.diagnostics import EXIT_ERROR, FORMATS, InputError, emit
from mlqa.runner import STEPS, run_paths

#: A noqa comment, bare or with codes (ruff's and flake8's spelling).
NOQA = re.compile(
    r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.I
)


def noqa_codes(text: str) -> frozenset[str] | None:
    """Read the noqa comment in a line or comment.

    Args:
        text: The text to search.

    Returns:
        None for a bare noqa (every code); else the codes it names,
        upper-cased (none without a noqa comment).
    """
    match = NOQA.search(text)
    if match is None:
        return frozenset()
    codes = re.findall(r"[A-Z]+[0-9]+", (match["codes"] or "").upper())
    return frozenset(codes) if codes else None


def preset(name: str) -> Path:
    """Return the path of one of mlqa's bundled preset files.

    Args:
        name: The file name inside ``mlqa/presets``.

    Returns:
        The absolute path.
    """
    return Path(__file__).resolve().parent.parent / "presets" / name


def parser(
    prog: str, description: str, *, fixer: bool, optional_fix: bool = False
) -> argparse.ArgumentParser:
    """Build the argument parser shared by the tool commands.

    Args:
        prog: The program name shown in usage lines.
        description: One line on what the command does.
        fixer: Whether the tool rewrites files by default (adds ``--check``).
        optional_fix: Whether the tool can fix on request (adds ``--fix``).

    Returns:
        The parser.
    """
    ap = new_parser(prog, description)
    ap.add_argument(
        "paths", nargs="*", default=["."], help="files or directories (default: .)"
    )
    if fixer:
        ap.add_argument(
            "--check", action="store_true", help="report, do not rewrite files"
        )
    if optional_fix:
        ap.add_argument(
            "--fix", action="store_true", help="apply the tool's safe fixes"
        )
    ap.add_argument("--format", choices=FORMATS, default="text", help="output format")
    return ap


def load_config(paths: Sequence[str]) -> config_mod.Config:
    """Load the config of the project the paths belong to.

    Args:
        paths: The paths given on the command line.

    Returns:
        The config found from the first path (or the cwd).
    """
    start = Path(paths[0]) if paths else Path.cwd()
    if not start.exists():
        start = Path.cwd()
    return config_mod.load(start)


def run_command(
    step: str,
    argv: Sequence[str] | None,
    *,
    prog: str,
    description: str,
    fixer: bool,
    optional_fix: bool = False,
) -> int:
    """Run a tool as a command: parse args, run, print findings and errors.

    Args:
        step: The step's name in :data:`mlqa.runner.STEPS`.
        argv: The command's arguments.
        prog: The program name for usage lines.
        description: One line of help.
        fixer: Whether the tool rewrites files by default (``--check`` to report).
        optional_fix: Whether the tool fixes on request (``--fix``).

    Returns:
        The exit code.
    """
    args = parser(prog, description, fixer=fixer, optional_fix=optional_fix).parse_args(
        list(sys.argv[1:] if argv is None else argv)
    )
    try:
        config = load_config(args.paths)
    except InputError as exc:
        print(exc, file=sys.stderr)
        return EXIT_ERROR
    fix = (fixer and not args.check) or (optional_fix and args.fix)
    result = run_paths(STEPS[step], args.paths, config, fix=fix)
    for err in result.errors:
        print(err, file=sys.stderr)
    for path in result.changed:
        print(f"{path}: reformatted by {result.tool}", file=sys.stderr)
    emit(sorted(result.findings), args.format)
    return result.exit_code
