"""Transition shim: the code-cell reader moved to :mod:`mlqa.notebooks.cells`."""

from mlqa.notebooks.cells import (
    PYTHON_CELL_MAGICS,
    Cell,
    Combined,
    code_cells,
    combine,
    is_python,
    neutralise,
)

__all__ = [
    "PYTHON_CELL_MAGICS",
    "Cell",
    "Combined",
    "code_cells",
    "combine",
    "is_python",
    "neutralise",
]
