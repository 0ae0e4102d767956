"""Code cells of a Jupyter notebook, as Python a linter can parse.

:func:`code_cells` reads a notebook's JSON with the shared reader
(:func:`mlqa.notebooks.io.parse_json`; nbformat 3 and 4) and returns each
code cell's source turned into Python as Jupyter turns it
(:func:`mlqa.notebooks.ipysyntax.transform`: magics, shell escapes, ``obj?``,
indented cells), line for line, so line numbers and blocks stay intact and
columns map back through each line's shift. Each cell knows the line of the
``.ipynb`` file each of its source lines sits on when the notebook is laid out
as Jupyter and nbformat write it (one source line per JSON line);
:func:`combine` joins the cells into one module with a map back to (cell,
line).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple

from mlqa.diagnostics import InputError
from mlqa.notebooks.io import parse_json
from mlqa.notebooks.ipysyntax import PYTHON_CELL_MAGICS, transform

__all__ = [
    "PYTHON_CELL_MAGICS",
    "Cell",
    "Combined",
    "code_cells",
    "combine",
    "is_python",
]

_SOURCE_KEY = re.compile(r'^\s*"source"\s*:\s*(\[)?')


class Cell(NamedTuple):
    """One code cell.

    Attributes:
        number: The 1-based position of the cell among all cells (markdown
            and raw cells too), counted from the top of the notebook.
        source: The cell as Python (:func:`~mlqa.notebooks.ipysyntax.transform`),
            with as many lines as the cell.
        json_lines: For each source line, its 1-based line in the ``.ipynb``
            file, or None when the layout is not one line per source line.
        key_line: The line of the cell's ``"source"`` key, or None.
    """

    number: int
    source: str
    json_lines: tuple[int, ...] | None
    key_line: int | None
    shifts: tuple[int, ...] = ()

    def column(self, line: int, column: int) -> int:
        """Map a column of :attr:`source` back to the column in the cell's text.

        Args:
            line: The 1-based line within the cell.
            column: A column (0- or 1-based, kept as given) in ``source``.

        Returns:
            The column plus the characters IPython's cleanup removed from the
            start of that line (a cell indented as a whole).
        """
        if 0 < line <= len(self.shifts):
            return column + self.shifts[line - 1]
        return column

    def file_line(self, line: int) -> int:
        """Map a 1-based line of the cell to the line in the notebook file.

        Args:
            line: The line within the cell.

        Returns:
            The ``.ipynb`` line of that source line when known, else the line
            of the cell's ``"source"`` key, else 1.
        """
        if self.json_lines and 0 < line <= len(self.json_lines):
            return self.json_lines[line - 1]
        return self.key_line or 1


def _source_keys(text: str, key: str = "source") -> list[tuple[int, bool]]:
    keys = []
    pattern = (
        _SOURCE_KEY if key == "source" else re.compile(rf'^\s*"{key}"\s*:\s*(\[)?')
    )
    for number, line in enumerate(text.splitlines(), 1):
        match = pattern.match(line)
        if match:
            opened = match.group(1) is not None and line.rstrip().endswith("[")
            keys.append((number, opened))
    return keys


def is_python(notebook: dict[str, Any]) -> bool:
    """Tell whether a notebook's kernel runs Python (Julia, R ... are skipped).

    Args:
        notebook: The parsed notebook.

    Returns:
        False only when the metadata names another language.
    """
    metadata = notebook.get("metadata")
    if not isinstance(metadata, dict):
        return True
    names = []
    for key, field in (("kernelspec", "language"), ("language_info", "name")):
        table = metadata.get(key)
        if isinstance(table, dict) and isinstance(table.get(field), str):
            names.append(table[field].lower())
    return not names or any(name.startswith(("python", "ipython")) for name in names)


def code_cells(text: str, path: str | Path) -> list[Cell]:
    """Read the code cells of a notebook.

    Args:
        text: The notebook file's text.
        path: The notebook, for error messages.

    Returns:
        The code cells, in order.

    Raises:
        InputError: If the text is not JSON or not a notebook.
    """
    data = parse_json(text, path, "notebook JSON")
    source_key = "source"
    if isinstance(data, dict) and isinstance(data.get("worksheets"), list):
        # nbformat 3: cells live in worksheets and code is under "input"
        data = {
            "metadata": data.get("metadata"),
            "cells": [
                cell
                for sheet in data["worksheets"]
                if isinstance(sheet, dict) and isinstance(sheet.get("cells"), list)
                for cell in sheet["cells"]
            ],
        }
        source_key = "input"
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise InputError(path, "not a Jupyter notebook (no 'cells' list)", 1, 1)
    if not is_python(data):
        return []
    raw_cells = data["cells"]
    keys = _source_keys(
        text, "source" if source_key == "source" else "(?:input|source)"
    )
    mapped = len(keys) == len(raw_cells)
    cells = []
    for position, cell in enumerate(raw_cells):
        if not isinstance(cell, dict):
            raise InputError(path, f"cell {position + 1} is not a JSON object", 1, 1)
        if cell.get("cell_type") != "code":
            continue
        raw = cell.get(source_key, "")
        if isinstance(raw, list) and all(isinstance(part, str) for part in raw):
            source = "".join(raw)
        elif isinstance(raw, str):
            source = raw
        else:
            raise InputError(
                path, f"cell {position + 1}: {source_key!r} is not text", 1, 1
            )
        key_line, json_lines = None, None
        if mapped:
            key_line, opened = keys[position]
            one_per_line = isinstance(raw, list) and all(
                "\n" not in part[:-1] and (i == len(raw) - 1 or part.endswith("\n"))
                for i, part in enumerate(raw)
            )
            if opened and one_per_line:
                json_lines = tuple(key_line + 1 + i for i in range(max(len(raw), 1)))
        cleaned = transform(source)
        cells.append(
            Cell(position + 1, cleaned.source, json_lines, key_line, cleaned.shifts)
        )
    return cells


class Combined(NamedTuple):
    """Code cells joined into one module.

    Attributes:
        source: The joined Python source.
        origin: For each 1-based line of ``source`` (index ``line - 1``), the
            cell and the 1-based line within it.
    """

    source: str
    origin: tuple[tuple[Cell, int], ...]


def combine(cells: list[Cell]) -> Combined:
    """Join cells into one module so imports in one cell resolve in the next.

    Args:
        cells: The cells (those that parse on their own).

    Returns:
        The joined source and its line map.
    """
    parts: list[str] = []
    origin: list[tuple[Cell, int]] = []
    for cell in cells:
        lines = cell.source.split("\n")
        parts.extend(lines)
        origin.extend((cell, number) for number in range(1, len(lines) + 1))
    return Combined("\n".join(parts) + "\n", tuple(origin))
