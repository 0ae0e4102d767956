"""What every tool runner shares: arguments, file discovery, result, printing.

A runner is a function ``run(files, config, fix) -> ToolResult``; this module
turns it into a command (``main(argv) -> int``) with the same options and exit
codes as every other mlqa command.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlqa import config as config_mod
from mlqa.diagnostics import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FINDINGS,
    FORMATS,
    Finding,
    InputError,
    emit,
    read_source,
)
from mlqa.files import discover

PY_SUFFIXES = (".py", ".pyi")


@dataclass
class ToolResult:
    """What one tool found over a set of files.

    Attributes:
        tool: The tool's display name.
        files: How many files it looked at.
        findings: The problems found.
        errors: Files it could not read or parse.
        changed: Files it rewrote (fix mode only).
        seconds: Wall time.
    """

    tool: str
    files: int = 0
    findings: list[Finding] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """Return 2 for unreadable input, 1 for findings or rewrites, else 0."""
        if self.errors:
            return EXIT_ERROR
        if self.findings or self.changed:
            return EXIT_FINDINGS
        return EXIT_CLEAN


Runner = Callable[[list[Path], config_mod.Config, bool], ToolResult]


def display(path: Path | str) -> str:
    """Return the path as shown to the user: relative to the cwd when inside it.

    String arithmetic on absolute paths, not ``Path.resolve()``: this runs once
    per file and per finding, and resolving symlinks costs a syscall per part.

    Args:
        path: A file path.

    Returns:
        The path to print, with forward slashes.
    """
    full = os.path.abspath(path)
    cwd = os.getcwd()
    if full.startswith(cwd + os.sep):
        return full[len(cwd) + 1 :].replace(os.sep, "/")
    return (
        full.replace(os.sep, "/")
        if os.path.isabs(path)
        else str(path).replace(os.sep, "/")
    )


def unreadable(path: Path) -> InputError | None:
    """Tell why a Python source file cannot be checked, if it cannot.

    Checking this once here gives every tool the same one-line error
    (:func:`mlqa.diagnostics.read_source`) instead of each tool's own.

    Args:
        path: The file.

    Returns:
        The error, or None when the file is readable.
    """
    try:
        read_source(path)
    except InputError as exc:
        exc.path = display(path)
        return exc
    return None


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
    ap = argparse.ArgumentParser(prog=prog, description=description)
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


def collect(
    runner: Runner,
    name: str,
    paths: Sequence[str],
    config: config_mod.Config,
    *,
    fix: bool,
    suffixes: Sequence[str] = PY_SUFFIXES,
) -> ToolResult:
    """Discover files and run one tool over them.

    Args:
        runner: The tool's runner.
        name: The tool's display name.
        paths: Files and directories.
        config: The project config.
        fix: Whether to rewrite files.
        suffixes: Which files to pick inside directories.

    Returns:
        The result, timed.
    """
    started = time.perf_counter()
    missing = [p for p in paths if not Path(p).exists()]
    files = discover(
        [p for p in paths if p not in missing],
        suffixes,
        config.root,
        config.get("exclude"),
    )
    checked = [(f, unreadable(f) if f.suffix in PY_SUFFIXES else None) for f in files]
    files = [f for f, error in checked if error is None]
    bad = [error for _, error in checked if error is not None]
    result = runner(files, config, fix) if files else ToolResult(name)
    result.files += len(bad)
    missing_errors = [InputError(p, "no such file or directory") for p in missing]
    result.errors = missing_errors + bad + result.errors
    result.seconds = time.perf_counter() - started
    return result


def run_command(
    runner: Runner,
    name: str,
    argv: Sequence[str] | None,
    *,
    prog: str,
    description: str,
    fixer: bool,
    optional_fix: bool = False,
) -> int:
    """Run a tool as a command: parse args, run, print findings and errors.

    Args:
        runner: The tool's runner.
        name: The tool's display name.
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
    result = collect(runner, name, args.paths, config, fix=fix)
    for err in result.errors:
        print(err, file=sys.stderr)
    for path in result.changed:
        print(f"{path}: reformatted by {name}", file=sys.stderr)
    emit(sorted(result.findings), args.format)
    return result.exit_code
