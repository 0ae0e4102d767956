"""Code cells of a Jupyter notebook, as Python a linter can parse.

:func:`code_cells` reads a notebook's JSON with the shared reader
(:func:`mlqa.notebooks.io.parse_json`; nbformat 3 and 4) and returns each
code cell's source with IPython magics and shell escapes (``%timeit``,
``!pip install``, ``x = !ls``, ``obj?``) replaced by ``pass`` at the same
indentation, so line numbers and blocks stay intact. Each cell knows the line of the ``.ipynb`` file each of
its source lines sits on when the notebook is laid out as Jupyter and
nbformat write it (one source line per JSON line); :func:`combine` joins the
cells into one module with a map back to (cell, line).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple

from mlqa.diagnostics import InputError
from mlqa.notebooks.io import parse_json

#: Cell magics whose body is still Python.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "memit"})
_SOURCE_KEY = re.compile(r'^\s*"source"\s*:\s*(\[)?')
_MAGIC = re.compile(r"^(\s*)(?:[%!]|[\w.]+\s*=\s*[%!])")
_HELP = re.compile(r"^(\s*)[\w.]+\?\??\s*$")


class Cell(NamedTuple):
    """One code cell.

    Attributes:
        number: The 1-based position of the cell among all cells (markdown too),
            as shown by Jupyter's cell list.
        source: The Python source, magics replaced by ``pass``.
        json_lines: For each source line, its 1-based line in the ``.ipynb``
            file, or None when the layout is not one line per source line.
        key_line: The line of the cell's ``"source"`` key, or None.
    """

    number: int
    source: str
    json_lines: tuple[int, ...] | None
    key_line: int | None

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


def neutralise(source: str) -> str:
    """Replace IPython magics and shell escapes with ``pass``, keeping lines.

    Args:
        source: A code cell's source.

    Returns:
        Python source with the same number of lines.
    """
    lines = source.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic = lines[first].lstrip()[2:].split(None, 1)
        if not magic or magic[0] not in PYTHON_CELL_MAGICS:
            return "\n".join("" for _ in lines)
        lines[first] = ""
    out = []
    for line in lines:
        match = _MAGIC.match(line) or _HELP.match(line)
        out.append(match.group(1) + "pass" if match else line)
    return "\n".join(out)


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
        cells.append(Cell(position + 1, neutralise(source), json_lines, key_line))
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
