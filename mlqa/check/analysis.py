"""One file through the rules: bytes in, raw findings and errors out, never an exception.

:func:`analyze` decodes a ``.py`` file or reads a notebook's code cells,
parses, and runs the rules selected in its :class:`~mlqa.rules.context.Options`.
Results are plain tuples, so they pickle cheaply to and from worker processes
and are stored as they are in the cache.

Notebook findings carry ``[cell N, line M]`` in the message (N: the cell's
1-based position among all cells); their line is the line of the ``.ipynb``
file that holds that source line (as Jupyter and nbformat lay notebooks out)
and their column the column in that source line, so an editor or a GitHub
annotation lands on the offending code. A code cell that is not valid Python
even after IPython's transforms is one :data:`SYNTAX_ERROR` finding; the
other cells are still checked (a teaching notebook may hold a broken cell on
purpose: ``# noqa: NB100`` on the cell's first line or on the reported line
silences it, and ``select``/``ignore`` take ``NB100`` like a rule code). A ``.py`` file that does not parse stays an error.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from mlqa.diagnostics import InputError, decode_source
from mlqa.rules.context import Options, RawFinding
from mlqa.rules.engine import analyze_source, analyze_tree, parse, suppressed

if TYPE_CHECKING:
    from mlqa.notebooks.cells import Cell

#: An error before it has a path: (line, column, message); None when unknown.
RawError = tuple[int | None, int | None, str]
#: What one file gives: its findings and its errors.
FileResult = tuple[list[RawFinding], list[RawError]]
#: A unit of work: the bytes, the path shown, whether a notebook, the options.
Task = tuple[bytes, str, bool, Options]
#: The code of a notebook cell that is not valid Python (IPython syntax aside).
SYNTAX_ERROR = "NB100"


def _syntax(exc: SyntaxError) -> RawError:
    return exc.lineno, exc.offset, f"syntax error: {exc.msg}"


def _analyze_notebook(text: str, path: str, options: Options) -> FileResult:
    from mlqa.notebooks.cells import code_cells, combine

    findings: list[RawFinding] = []
    good = []
    report = options.codes is None or SYNTAX_ERROR in options.codes
    for cell in code_cells(text, path):
        try:
            parse(cell.source, path, top_level_await=True)
        except SyntaxError as exc:
            line = exc.lineno or 1
            lines = cell.source.split("\n")
            if not report or any(  # a noqa comment on the reported or first line
                suppressed(lines[n - 1], SYNTAX_ERROR)
                for n in {1, line}
                if 0 < n <= len(lines)
            ):
                continue
            findings.append(
                (
                    cell.file_line(line),
                    cell.column(line, exc.offset or 1),
                    SYNTAX_ERROR,
                    f"[cell {cell.number}, line {line}] {_syntax(exc)[2]}",
                )
            )
            continue
        good.append(cell)
    combined = combine(good)
    try:
        trees = [(parse(combined.source, path, top_level_await=True), combined)]
    except SyntaxError:  # e.g. ``from __future__`` in a later cell: check cells alone
        trees = []
        for cell in good:
            one = combine([cell])
            trees.append((parse(one.source, path, top_level_await=True), one))
    for tree, joined in trees:
        origin = joined.origin

        def where(
            match: re.Match[str], origin: tuple[tuple[Cell, int], ...] = origin
        ) -> str:
            number = int(match.group(1))
            if 0 < number <= len(origin):
                cell, line = origin[number - 1]
                return f"(cell {cell.number}, line {line})"
            return match.group(0)

        for line, col, code, message in analyze_tree(tree, joined.source, options):
            cell, cell_line = origin[line - 1]
            message = re.sub(r"\(line (\d+)\)", where, message)
            findings.append(
                (
                    cell.file_line(cell_line),
                    cell.column(cell_line, col),
                    code,
                    f"[cell {cell.number}, line {cell_line}] {message}",
                )
            )
    return findings, []


def analyze(data: bytes, path: str, notebook: bool, options: Options) -> FileResult:
    """Check one file's bytes; every failure becomes an error entry, never an exception.

    Args:
        data: The file's contents.
        path: The path shown in messages.
        notebook: Whether it is a ``.ipynb`` notebook.
        options: What to check.

    Returns:
        The findings and the errors.
    """
    try:
        if notebook:
            from mlqa.notebooks import io

            return _analyze_notebook(io.decode(data, path), path, options)
        text = decode_source(data, path)
        return analyze_source(text, path, options), []
    except InputError as exc:
        return [], [(exc.line, exc.column, exc.message)]
    except SyntaxError as exc:
        return [], [_syntax(exc)]
    except (RecursionError, MemoryError):
        return [], [(1, 1, "too deeply nested to analyse")]
    except ValueError as exc:  # e.g. "source code string cannot contain null bytes"
        return [], [(1, 1, f"cannot parse: {exc}")]


def analyze_task(task: Task) -> FileResult:
    """Run :func:`analyze` on one task; a bug in a rule becomes one error line.

    Args:
        task: ``(data, path, notebook, options)``.

    Returns:
        The findings and the errors.
    """
    try:
        return analyze(*task)
    except Exception as exc:  # noqa: BLE001
        name = type(exc).__name__
        return [], [
            (1, 1, f"internal error in mlqa check ({name}: {exc}); please report it")
        ]
