"""``mlqa lint``: ruff with mlqa's preset as the base and the project's settings on top.

ruff is a native binary: this runner locates it, layers the config
(:mod:`mlqa.tools.layering`), runs it once over all files (notebooks
included, with ruff's own notebook support) and turns its ``concise`` report
into findings; a notebook finding names its cell and line as ``mlqa check``
does. The concise lines (``path:[cell N:]row:col: CODE [*] message``, ``[*]``
for a fix ruff applies with ``--fix``) carry all mlqa uses; ruff's JSON report
carries every fix's edits too and is ~10x larger (2.3 MB for 250 timm files,
14 ms to parse).
Syntax errors and unreadable files become input errors (exit 2), as in every
mlqa command.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlqa import early as mlqa_early
from mlqa.config import Config
from mlqa.diagnostics import Finding, InputError
from mlqa.files import display
from mlqa.runner import Result
from mlqa.tools._common import run_command
from mlqa.tools.layering import ruff_options

NAME = "ruff"
#: ruff codes that mean "this file could not be read or parsed".
INPUT_ERROR_CODES = frozenset({"invalid-syntax", "E902", "E999", "SyntaxError"})
#: One concise line: where (the path may hold colons; the cell is there for
#: notebooks), a code, ``[*]`` when ruff's ``--fix`` fixes it, the message.
#: Syntax errors are ``invalid-syntax: message`` (``SyntaxError: message`` in
#: older ruff, e.g. 0.5).
_LINE = re.compile(
    r"^(.+?):(?:cell (\d+):)?(\d+):(\d+): "
    r"([A-Z]+[0-9]+|[a-z]+(?:-[a-z]+)+:|SyntaxError:) (\[\*\] )?([^\r\n]*)",
    re.MULTILINE,
)


def ruff_binary() -> str:
    """Return the path of the ruff executable installed with mlqa.

    Returns:
        The executable's path (``ruff`` on PATH as a last resort).
    """
    import sys

    beside = os.path.join(os.path.dirname(sys.executable), "ruff")
    if os.path.isfile(beside) and os.access(beside, os.X_OK):  # the usual venv layout
        return beside
    try:
        from ruff.__main__ import find_ruff_bin  # asks sysconfig: about 13 ms

        return str(os.fspath(find_ruff_bin()))
    except (ImportError, FileNotFoundError):  # pragma: no cover - ruff is a dependency
        return "ruff"


def uses_own_config(config: Config) -> bool:
    """Tell whether the project configures ruff itself.

    Args:
        config: The project config.

    Returns:
        True for ``[tool.ruff]`` in pyproject.toml or a ``ruff.toml``/``.ruff.toml``.
    """
    return config.has_tool_config("ruff")


def config_error(stderr: str, first: str, config: Config) -> InputError:
    """Word ruff's refusal of a setting as an error at the project's setting.

    Args:
        stderr: ruff's error output.
        first: Its first line.
        config: The project config.

    Returns:
        ``file:line: ruff: <why>`` for a bad project setting (layered as a
        ``--config`` override), else ruff's first line at the config file.
    """
    from mlqa.config import line_of

    where = config.tool_config("ruff") or config.pyproject or config.root
    marker = "Could not parse the supplied argument"
    if marker not in stderr:
        return InputError(display(where), f"ruff: {first}")
    why = stderr.split(marker, 1)[1].split("\n\n", 2)
    reason = " ".join(why[1].split()) if len(why) > 1 else first
    key = re.search(r"in `([^`]+)`", reason)
    line = None
    if key and isinstance(where, Path) and where.is_file():
        table = "tool.ruff" if where.name == "pyproject.toml" else ""
        text = where.read_text(encoding="utf-8", errors="replace")
        line = line_of(text, key[1].split(".")[-1], table)
    return InputError(display(where), f"ruff: {reason}", line)


def run_ruff(
    files: list[Path],
    config: Config,
    options: Sequence[str],
    tool: str,
    *,
    early: bool = False,
) -> Result:
    """Run ``ruff check`` with options over files and collect its report.

    Args:
        files: The files.
        config: The project config (its root is ruff's working directory).
        options: Options that pick config and rules.
        tool: The display name for the result.
        early: Adopt the ruff :mod:`mlqa.early` started, if it runs this very
            command, and save this command for the next run.

    Returns:
        The findings; syntax and read errors as input errors.
    """
    result = Result(tool, files=len(files))
    cache = [] if config.get("cache") else ["--no-cache"]
    command = [
        ruff_binary(), "check", "--output-format=concise", *cache, "--force-exclude",
        "--quiet", *options, "--", *[os.path.abspath(f) for f in files],
    ]  # fmt: skip
    started = mlqa_early.take(command, str(config.root)) if early else None
    if started is not None:
        stdout, stderr = started.communicate()
        proc = subprocess.CompletedProcess(command, started.returncode, stdout, stderr)
    else:
        proc = subprocess.run(
            command, cwd=config.root, capture_output=True, text=True, check=False,
            env={**os.environ, "NO_COLOR": "1"},
        )  # fmt: skip
    if early and config.get("cache") and proc.returncode in (0, 1):
        mlqa_early.remember(command, str(config.root))
    if proc.returncode not in (0, 1):
        lines = (
            proc.stderr.strip() or proc.stdout.strip() or "ruff failed"
        ).splitlines()
        result.errors.append(config_error(proc.stderr, lines[0], config))
        return result
    seen_errors: set[str] = set()
    notebooks: dict[str, Any] = {}
    shown: dict[str, tuple[str, str]] = {}
    for item in _parse(proc.stdout):
        name, cell, row, col, code, fixable, message = item
        where = shown.get(name)
        if where is None:
            absolute = os.path.join(config.root, name)
            where = shown[name] = (absolute, display(absolute))
        path = where[1]
        if cell:  # a notebook: ruff's row is the cell's line
            prefix, row = in_cell(where[0], cell, row, notebooks)
            message = f"{prefix} {message}"
        if code in INPUT_ERROR_CODES:
            if path not in seen_errors:  # one error line per file is enough
                seen_errors.add(path)
                kind = "cannot read file" if code == "E902" else "syntax error"
                if message.startswith("[cell"):
                    prefix, _, rest = message.partition("] ")
                    kind, message = f"{prefix}] {kind}", rest
                result.errors.append(InputError(path, f"{kind}: {message}", row, col))
            continue
        result.findings.append(Finding(path, row, col, code, message, fixable))
    return result


def _parse(report: str) -> list[tuple[str, int, int, int, str, bool, str]]:
    """Read ruff's concise report.

    Args:
        report: ruff's standard output.

    Returns:
        ``(path, cell or 0, row, column, code, fixable, message)`` per finding,
        the path as ruff printed it (relative to its working directory).
    """
    return [  # --quiet: nothing but findings; one pattern over the whole report
        (path, int(cell or 0), int(row), int(col), code.rstrip(":"), bool(fix), what)
        for path, cell, row, col, code, fix, what in _LINE.findall(report)
    ]


def in_cell(
    filename: str, number: int, line: int, notebooks: dict[str, Any]
) -> tuple[str, int]:
    """Place a finding in a notebook: ``[cell N, line M]`` and the ``.ipynb`` line.

    ruff numbers cells as Jupyter does (markdown cells too, from 1) and gives
    the line within the cell, the convention :mod:`mlqa.notebooks.cells` shares.

    Args:
        filename: The notebook.
        number: ruff's cell number.
        line: The line within the cell.
        notebooks: Cells already read, by file name (filled in here).

    Returns:
        The message prefix and the line in the notebook file (the line of the
        cell's source when the layout is not one source line per JSON line).
    """
    from mlqa.notebooks.cells import code_cells

    if filename not in notebooks:
        try:
            text = Path(filename).read_text(encoding="utf-8-sig")
            notebooks[filename] = {c.number: c for c in code_cells(text, filename)}
        except (OSError, UnicodeDecodeError, InputError):
            notebooks[filename] = {}
    cell = notebooks[filename].get(number)
    return f"[cell {number}, line {line}]", cell.file_line(line) if cell else 1


def run(files: list[Path], config: Config, *, fix: bool) -> Result:
    """Run ruff's linter: mlqa's preset, the project's settings layered on top.

    Args:
        files: The files to lint.
        config: The project config.
        fix: Whether to apply ruff's safe fixes.

    Returns:
        The findings that remain.
    """
    try:
        options = ruff_options(config)
    except InputError as exc:
        return Result(NAME, files=len(files), errors=[exc])
    if fix:
        options.append("--fix")
    return run_ruff(files, config, options, NAME, early=not fix)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mlqa lint``.

    Args:
        argv: Command arguments: ``[--fix] [--format FMT] [PATHS...]``.

    Returns:
        0 clean, 1 findings, 2 unreadable input or bad ruff config.
    """
    return run_command(
        "lint",
        argv,
        prog="mlqa lint",
        description="Lint Python files with ruff and mlqa's preset.",
        fixer=False,
        optional_fix=True,
    )
