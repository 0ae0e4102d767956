"""Notebook code-cell extraction: magics, line mapping, bad notebooks."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from mlqa.diagnostics import InputError
from mlqa.notebooks.cells import code_cells, combine, neutralise


def _write(tmp_path: Path, sources: list[str], markdown_first: bool = True) -> Path:
    nb = nbformat.v4.new_notebook()
    if markdown_first:
        nb.cells.append(nbformat.v4.new_markdown_cell("# Title\ntext"))
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return path


def test_magics_become_pass_and_keep_lines() -> None:
    source = "%matplotlib inline\n!pip install x\nfiles = !ls\nif x:\n    %time f()\nmodel?\ny = 1"
    out = neutralise(source)
    assert out.split("\n") == [
        "pass",
        "pass",
        "pass",
        "if x:",
        "    pass",
        "pass",
        "y = 1",
    ]
    compile(out, "cell", "exec")


def test_cell_magics() -> None:
    assert neutralise("%%bash\nls -la\necho $HOME") == "\n\n"
    assert neutralise("%%time\nx = g(lr=0.1)") == "\nx = g(lr=0.1)"


def test_lines_map_to_the_notebook_file(tmp_path: Path) -> None:
    path = _write(tmp_path, ["import torch\nx = 1", "y = 2\nz = 3\nw = 4"])
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    cells = code_cells(text, path)
    assert [c.number for c in cells] == [2, 3]
    for cell in cells:
        for number, source_line in enumerate(cell.source.split("\n"), 1):
            file_line = lines[cell.file_line(number) - 1]
            assert json.loads(file_line.strip().rstrip(",")).rstrip("\n") == source_line


def test_non_standard_layout_falls_back_to_the_source_key(tmp_path: Path) -> None:
    nb = {
        "cells": [{"cell_type": "code", "source": "a = 1\nb = 2", "metadata": {}}],
        "nbformat": 4,
    }
    text = json.dumps(nb)
    (cell,) = code_cells(text, "nb.ipynb")
    assert cell.json_lines is None and cell.file_line(2) == 1


def test_combine_keeps_origins(tmp_path: Path) -> None:
    path = _write(tmp_path, ["a = 1\nb = 2", "c = 3"])
    cells = code_cells(path.read_text(encoding="utf-8"), path)
    joined = combine(cells)
    assert joined.source == "a = 1\nb = 2\nc = 3\n"
    assert [(c.number, n) for c, n in joined.origin] == [(2, 1), (2, 2), (3, 1)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"cells": [', "invalid notebook JSON"),
        ("[1, 2]", "not a Jupyter notebook"),
        ('{"metadata": {}}', "not a Jupyter notebook"),
        ('{"cells": [1]}', "not a JSON object"),
        ('{"cells": [{"cell_type": "code", "source": 3}]}', "'source' is not text"),
    ],
)
def test_bad_notebooks(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        code_cells(text, "bad.ipynb")
    assert str(info.value).startswith("bad.ipynb:")


def test_nbformat_3_worksheets() -> None:
    nb = {
        "nbformat": 3,
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "markdown", "source": ["# t"]},
                    {"cell_type": "code", "input": ["import torch\n", "x = g(lr=0.1)"]},
                ]
            }
        ],
    }
    text = json.dumps(nb, indent=1)
    (cell,) = code_cells(text, "old.ipynb")
    assert cell.number == 2 and cell.source == "import torch\nx = g(lr=0.1)"
    assert '"x = g(lr=0.1)"' in text.splitlines()[cell.file_line(2) - 1]
