"""``mlqa format``: black, in process, with atomic writes and clean errors.

black reads its settings as ``black`` does: ``[tool.black]`` (line length,
target versions inferred from ``requires-python`` when unset, ``include``,
``exclude``, ``extend-exclude``, ``force-exclude``); with no table, black's
defaults are mlqa's preset. Notebooks are formatted cell by cell with black's
own Jupyter support (the ``jupyter`` extra; without it notebooks are
skipped with one notice, as black skips them); a notebook that was in
nbstripout's canonical layout stays in it. Files black has already seen
unchanged are skipped through black's own cache, as ``black`` itself does.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import Any

import black
from black.cache import Cache
from black.const import DEFAULT_EXCLUDES, DEFAULT_INCLUDES, DEFAULT_LINE_LENGTH
from black.files import parse_pyproject_toml
from black.mode import Mode, TargetVersion
from black.report import NothingChanged

from mlqa.config import Config
from mlqa.diagnostics import Finding, InputError
from mlqa.files import display, relative, write_atomic
from mlqa.parallel import pmap, workers
from mlqa.runner import Result
from mlqa.tools._common import run_command

NAME = "black"
_POSITION = re.compile(r":\s*(\d+):(\d+)\b")
#: Said once on stderr when notebooks are skipped because black's notebook
#: support (IPython, tokenize-rt) is missing, as black itself skips them.
JUPYTER_SKIPPED = (
    "mlqa format: skipped {count} notebook(s): black's Jupyter support is not "
    "installed (pip install 'mlqa-toolkit[jupyter]')"
)


#: black 25.9 gave ``decode_bytes`` a mode argument (for a preview feature).
_DECODE_TAKES_MODE = tuple(
    int(part) for part in metadata.version("black").split(".")[:2] if part.isdigit()
) >= (25, 9)


def decode_bytes(body: bytes, mode: Mode) -> tuple[str, str, str]:
    """Decode a source as black does, on every black version mlqa supports.

    Args:
        body: The file's bytes.
        mode: black's mode.

    Returns:
        The text (universal newlines), its encoding, and its newline.
    """
    if _DECODE_TAKES_MODE:
        return black.decode_bytes(body, mode)  # type: ignore[call-arg,unused-ignore]
    return black.decode_bytes(body)  # type: ignore[call-arg,unused-ignore]


def black_options(config: Config) -> dict[str, Any]:
    """Read ``[tool.black]`` as black does (``target_version`` from ``requires-python``).

    Args:
        config: The project config.

    Returns:
        black's options with underscored keys; empty with no pyproject.toml.
    """
    if config.pyproject is None:
        return {}
    try:
        return dict(parse_pyproject_toml(str(config.pyproject)))
    except (OSError, ValueError):  # unreadable: config.load reported it already
        return {}


def mode_for(config: Config) -> tuple[Mode, re.Pattern[str] | None]:
    """Build black's Mode from the project's ``[tool.black]`` (or the defaults).

    Args:
        config: The project config.

    Returns:
        The mode, and the project's ``force-exclude`` regex if it sets one.
    """
    options = black_options(config)
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


def excluded(files: list[Path], config: Config) -> list[Path]:
    """Drop the files black's ``include``/``exclude``/``extend-exclude``/``force-exclude`` skip.

    black matches each regex against ``/`` plus the root-relative posix path
    (a directory with a trailing ``/``). black applies ``exclude`` and
    ``extend-exclude`` to the files it finds in directories; mlqa, whose
    selector walks the directories, applies them to every file (as black does
    for ``force-exclude``), so a hook skips what ``black .`` skips.

    Args:
        files: The selected files.
        config: The project config.

    Returns:
        The files black would format.

    Raises:
        InputError: If one of the regexes does not compile.
    """
    options = black_options(config)
    try:
        include = black.re_compile_maybe_verbose(
            options.get("include", DEFAULT_INCLUDES)
        )
        skips = [
            black.re_compile_maybe_verbose(options[key])
            for key in ("exclude", "extend_exclude", "force_exclude")
            if options.get(key)
        ]
        if not options.get("exclude"):
            skips.append(black.re_compile_maybe_verbose(DEFAULT_EXCLUDES))
    except re.error as exc:
        where = display(config.pyproject) if config.pyproject else "."
        raise InputError(where, f"[tool.black] invalid regex: {exc}") from None
    kept = []
    for path in files:
        rel = "/" + relative(path, config.root)
        if not include.search(rel):
            continue
        parts = rel.split("/")
        prefixes = ["/".join(parts[:i]) + "/" for i in range(2, len(parts))] + [rel]
        if not any(skip.search(p) for skip in skips for p in prefixes):
            kept.append(path)
    return kept


def _error(path: Path, exc: Exception, cell: Any = None) -> InputError:
    """Turn black's parse failure into a one-line error; notebook cells named."""
    text = str(exc).strip()
    if isinstance(exc, SyntaxError) or type(exc).__name__ == "TokenError":
        args = exc.args
        where = args[1] if len(args) > 1 and isinstance(args[1], tuple) else None
        line, col = (int(where[0]), int(where[1]) + 1) if where else (1, 1)
        message = str(args[0]) if args else "invalid syntax"
    else:
        message = text.splitlines()[0] if text else "invalid syntax"
        match = _POSITION.search(message)
        line, col = (int(match[1]), int(match[2]) + 1) if match else (1, 1)
        message = _POSITION.sub("", message).rstrip(": ")
    if cell is None:
        return InputError(display(path), f"syntax error: black {message}", line, col)
    return InputError(
        display(path),
        f"[cell {cell.number}, line {line}] syntax error: black {message}",
        cell.file_line(line),
        col,
    )


def format_notebook(path: Path, text: str, mode: Mode) -> str | None:
    """Format a notebook's code cells as ``black`` does; None when unchanged.

    Args:
        path: The notebook, for messages.
        text: Its JSON text.
        mode: black's mode (``is_ipynb`` set).

    Returns:
        The new text: black's bytes, or nbstripout's layout when the notebook
        was in it; None when no cell changes.

    Raises:
        InputError: If the notebook is not JSON or a cell cannot be parsed
            (named by cell and line). Callers skip notebooks when black's
            Jupyter support is missing (:func:`run`).
    """
    from mlqa.notebooks import io
    from mlqa.notebooks.cells import code_cells

    nb = io.parse_json(text, display(path), "notebook JSON")
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        # as the shared cell reader words it (mlqa.notebooks.cells)
        raise InputError(
            display(path), "not a Jupyter notebook (no 'cells' list)", 1, 1
        )
    try:
        black.validate_metadata(nb)
    except NothingChanged:  # another kernel's language: black leaves it alone
        return None
    modified = False
    cells: list[Any] | None = None
    for number, cell in enumerate(nb["cells"], 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        try:
            dst = black.format_cell(source, fast=False, mode=mode)
        except NothingChanged:
            continue
        except Exception as exc:  # black raises its parser's own error types
            cells = code_cells(text, display(path)) if cells is None else cells
            where = next((c for c in cells if c.number == number), None)
            if where is None:
                raise InputError(display(path), f"cell {number}: {exc}") from None
            raise _error(path, exc, where) from None
        cell["source"] = dst.splitlines(keepends=True)
        modified = True
    if not modified:
        return None
    out = json.dumps(nb, indent=1, ensure_ascii=False)
    out += "\n" if text.endswith("\n") else ""
    try:
        canonical = io.dumps(io.parse(text, display(path))) == text
    except InputError:
        canonical = False
    return io.dumps(io.parse(out, display(path))) if canonical else out


def format_one(path: Path, mode: Mode, fix: bool) -> bool:
    """Format one file; return whether it changed (or would change).

    Args:
        path: The file (``.py``, ``.pyi`` or ``.ipynb``).
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
    if path.suffix == ".ipynb":
        from mlqa.notebooks import io

        text = io.decode(raw, display(path))
        new = format_notebook(path, text, replace(mode, is_ipynb=True))
        if new is not None and fix:
            write_atomic(path, new.encode("utf-8"))
        return new is not None
    header = b""
    body = raw
    if mode.skip_source_first_line:
        cut = raw.find(b"\n") + 1 or len(raw)
        header, body = raw[:cut], raw[cut:]
    try:
        src, encoding, newline = decode_bytes(body, mode)
    except (UnicodeDecodeError, LookupError, SyntaxError) as exc:
        raise InputError(display(path), f"cannot decode file: {exc}", 1, 1) from None
    try:
        dst = black.format_file_contents(src, fast=False, mode=mode)
    except NothingChanged:
        return False
    except black.parsing.InvalidInput as exc:
        raise _error(path, exc) from None
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


def _without_notebooks_black_cannot_read(files: list[Path]) -> list[Path]:
    """Drop notebooks, with one notice, when black's Jupyter support is missing.

    black itself skips them with a warning then (exit 0): a plain install
    without the ``jupyter`` extra is not a broken project.
    """
    notebooks = [path for path in files if path.suffix == ".ipynb"]
    if not notebooks:
        return files
    from black.handle_ipynb_magics import jupyter_dependencies_are_installed

    if jupyter_dependencies_are_installed(warn=False):
        return files
    print(JUPYTER_SKIPPED.format(count=len(notebooks)), file=sys.stderr)
    return [path for path in files if path.suffix != ".ipynb"]


def run(files: list[Path], config: Config, *, fix: bool) -> Result:
    """Run black over files, in parallel when there are many.

    Args:
        files: The files to format (Python sources and notebooks).
        config: The project config.
        fix: Whether to rewrite files; otherwise only report.

    Returns:
        One ``format`` finding per file that is (or was) not black-formatted.
    """
    mode, _ = mode_for(config)
    try:
        files = excluded(files, config)
    except InputError as exc:
        return Result(NAME, errors=[exc])
    files = _without_notebooks_black_cannot_read(files)
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
        description="Format Python files and notebooks with black.",
        fixer=True,
    )
