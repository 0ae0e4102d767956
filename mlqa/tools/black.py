"""``mlqa format``: black, in process, with atomic writes and clean errors.

The project's ``[tool.black]`` settings are used when present; otherwise
black's defaults are mlqa's preset. Files black has already seen unchanged are
skipped through black's own cache, as ``black`` itself does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import black
from black.cache import Cache
from black.const import DEFAULT_LINE_LENGTH
from black.files import parse_pyproject_toml
from black.mode import Mode, TargetVersion
from black.report import NothingChanged

from mlqa.config import Config
from mlqa.diagnostics import Finding, InputError
from mlqa.files import display, write_atomic
from mlqa.parallel import pmap, workers
from mlqa.runner import Result
from mlqa.tools._common import run_command

NAME = "black"
_POSITION = re.compile(r":\s*(\d+):(\d+)\b")


def mode_for(config: Config) -> tuple[Mode, re.Pattern[str] | None]:
    """Build black's Mode from the project's ``[tool.black]`` (or the defaults).

    Args:
        config: The project config.

    Returns:
        The mode, and the project's ``force-exclude`` regex if it sets one.
    """
    options: dict[str, Any] = {}
    if config.pyproject is not None and config.has_tool_config("black"):
        options = parse_pyproject_toml(str(config.pyproject))
    versions = {TargetVersion[v.upper()] for v in options.get("target_version", [])}
    mode = Mode(
        target_versions=versions,
        line_length=int(options.get("line_length", DEFAULT_LINE_LENGTH)),
        string_normalization=not options.get("skip_string_normalization", False),
        magic_trailing_comma=not options.get("skip_magic_trailing_comma", False),
        skip_source_first_line=bool(options.get("skip_source_first_line", False)),
        preview=bool(options.get("preview", False)),
        unstable=bool(options.get("unstable", False)),
    )
    force_exclude = options.get("force_exclude")
    return mode, re.compile(force_exclude) if force_exclude else None


def format_one(path: Path, mode: Mode, fix: bool) -> bool:
    """Format one file; return whether it changed (or would change).

    Args:
        path: The file.
        mode: black's mode.
        fix: Whether to rewrite the file.

    Returns:
        True when black's output differs from the file.

    Raises:
        InputError: If the file cannot be read, decoded or parsed.
    """
    if path.suffix == ".pyi":
        mode = replace(mode, is_pyi=True)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read file: {exc.strerror or exc}") from None
    header = b""
    body = raw
    if mode.skip_source_first_line:
        cut = raw.find(b"\n") + 1 or len(raw)
        header, body = raw[:cut], raw[cut:]
    try:
        src, encoding, newline = black.decode_bytes(body, mode)
    except (UnicodeDecodeError, LookupError, SyntaxError) as exc:
        raise InputError(display(path), f"cannot decode file: {exc}", 1, 1) from None
    try:
        dst = black.format_file_contents(src, fast=False, mode=mode)
    except NothingChanged:
        return False
    except black.parsing.InvalidInput as exc:
        message = (
            str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid syntax"
        )
        match = _POSITION.search(message)
        line, col = (int(match[1]), int(match[2]) + 1) if match else (1, 1)
        message = _POSITION.sub("", message).rstrip(": ")
        raise InputError(
            display(path), f"syntax error: black {message}", line, col
        ) from None
    except (ValueError, AssertionError) as exc:
        raise InputError(display(path), f"black failed: {exc}", 1, 1) from None
    if fix:
        write_atomic(path, header + dst.replace("\n", newline).encode(encoding))
    return True


def _format_job(
    job: tuple[Path, Mode, bool],
) -> tuple[bool, tuple[str, str, int | None, int | None] | None]:
    """Format one file in a worker: errors come back as data (they must pickle)."""
    path, mode, fix = job
    try:
        return format_one(path, mode, fix), None
    except InputError as exc:
        return False, (exc.path, exc.message, exc.line, exc.column)


#: Below this many files a process pool costs more than it saves.
PARALLEL_THRESHOLD = 8


def run(files: list[Path], config: Config, *, fix: bool) -> Result:
    """Run black over files, in parallel when there are many.

    Args:
        files: The files to format.
        config: The project config.
        fix: Whether to rewrite files; otherwise only report.

    Returns:
        One ``format`` finding per file that is (or was) not black-formatted.
    """
    mode, force_exclude = mode_for(config)
    if force_exclude is not None:
        files = [f for f in files if not force_exclude.search("/" + display(f))]
    result = Result(NAME, files=len(files))
    cache = Cache.read(mode)
    todo, _ = cache.filtered_cached(files)
    jobs = [(path, mode, fix) for path in sorted(todo)]
    processes = workers(len(jobs), min_items=PARALLEL_THRESHOLD)
    outcomes = pmap(_format_job, jobs, processes)
    clean: list[Path] = []
    for (path, _, _), (changed, error) in zip(jobs, outcomes, strict=True):
        if error is not None:
            result.errors.append(InputError(*error))
        elif not changed:
            clean.append(path)
        elif fix:
            result.changed.append(display(path))
            clean.append(path)
        else:
            result.findings.append(
                Finding(display(path), 1, 1, "format", "would be reformatted by black")
            )
    if clean:
        cache.write(clean)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mlqa format``.

    Args:
        argv: Command arguments: ``[--check] [--format FMT] [PATHS...]``.

    Returns:
        0 when every file was formatted already, 1 when files were (or would
        be) reformatted, 2 when a file could not be read or parsed.
    """
    return run_command(
        "format",
        argv,
        prog="mlqa format",
        description="Format Python files with black.",
        fixer=True,
    )
