"""``mlqa lint``: ruff with mlqa's preset, unless the project configures ruff.

ruff is a native binary: this runner locates it, picks the config, runs it once
over all files and turns its JSON report into findings. Syntax errors and
unreadable files become input errors (exit 2), as in every mlqa command.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from mlqa.config import Config
from mlqa.diagnostics import Finding, InputError
from mlqa.files import display
from mlqa.runner import Result
from mlqa.tools._common import preset, run_command

NAME = "ruff"
#: ruff codes that mean "this file could not be read or parsed".
INPUT_ERROR_CODES = frozenset({"invalid-syntax", "E902", "E999", None})


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


def run_ruff(
    files: list[Path], config: Config, options: Sequence[str], tool: str
) -> Result:
    """Run ``ruff check`` with options over files and collect its report.

    Args:
        files: The files.
        config: The project config (its root is ruff's working directory).
        options: Options that pick config and rules.
        tool: The display name for the result.

    Returns:
        The findings; syntax and read errors as input errors.
    """
    result = Result(tool, files=len(files))
    command = [
        ruff_binary(), "check", "--output-format=json", "--no-cache", "--force-exclude",
        "--quiet", *options, "--", *[os.path.abspath(f) for f in files],
    ]  # fmt: skip
    proc = subprocess.run(
        command, cwd=config.root, capture_output=True, text=True, check=False
    )
    if proc.returncode not in (0, 1):
        message = (
            proc.stderr.strip() or proc.stdout.strip() or "ruff failed"
        ).splitlines()
        where = config.pyproject or config.root
        result.errors.append(InputError(display(where), f"ruff: {message[0]}"))
        return result
    try:
        report = json.loads(proc.stdout or "[]")
    except json.JSONDecodeError:  # pragma: no cover - ruff always writes JSON here
        result.errors.append(
            InputError(display(config.root), "ruff: unreadable report")
        )
        return result
    seen_errors: set[str] = set()
    for item in report:
        path = display(Path(item["filename"]))
        row = int(item["location"]["row"]) if item.get("location") else 1
        col = int(item["location"]["column"]) if item.get("location") else 1
        code = item.get("code")
        if code in INPUT_ERROR_CODES:
            if path not in seen_errors:  # one error line per file is enough
                seen_errors.add(path)
                kind = (
                    "syntax error" if code == "invalid-syntax" else "cannot read file"
                )
                result.errors.append(
                    InputError(path, f"{kind}: {item['message']}", row, col)
                )
            continue
        result.findings.append(Finding(path, row, col, str(code), str(item["message"])))
    return result


def run(files: list[Path], config: Config, *, fix: bool) -> Result:
    """Run ruff's linter with the project's config, or mlqa's preset.

    Args:
        files: The files to lint.
        config: The project config.
        fix: Whether to apply ruff's safe fixes.

    Returns:
        The findings that remain.
    """
    options = (
        [] if uses_own_config(config) else ["--config", os.fspath(preset("ruff.toml"))]
    )
    if fix:
        options.append("--fix")
    return run_ruff(files, config, options, NAME)


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
