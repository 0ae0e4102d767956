"""Compare mlqa's cell transform with IPython's own on every code cell of real notebooks.

For each code cell of each ``.ipynb`` under the given directories (default:
``benchmarks/data``, where the strip benchmark and the rules evaluation keep
their public notebooks), :func:`mlqa.notebooks.ipysyntax.transform` must give
what ``IPython.core.inputtransformer2.TransformerManager().transform_cell``
gives, blank lines aside (mlqa keeps every line in place). Cells of Python
cell magics (``%%time`` ...) are compared on their body, which mlqa keeps as
Python. Also prints the time of both and of ``ast.parse`` on the result.

Run: ``python benchmarks/eval_ipysyntax.py [DIR ...]`` (needs IPython).
"""

from __future__ import annotations

import ast
import contextlib
import json
import re
import sys
import time
import warnings
from pathlib import Path

from mlqa.notebooks.ipysyntax import PYTHON_CELL_MAGICS, transform


def _cells(roots: list[Path]) -> list[str]:
    cells = []
    for root in roots:
        for path in sorted(root.rglob("*.ipynb")):
            try:
                nb = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
                if isinstance(cell, dict) and cell.get("cell_type") == "code":
                    source = cell.get("source", "")
                    cells.append(
                        "".join(source) if isinstance(source, list) else str(source)
                    )
    return cells


def _nonblank(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


def main() -> int:
    """Compare and time; print a summary.

    Returns:
        0 when every compared cell agrees, else 1.
    """
    from IPython.core.inputtransformer2 import TransformerManager

    warnings.simplefilter("ignore")
    here = Path(__file__).parent
    roots = [Path(a) for a in sys.argv[1:]] or [here / "data"]
    cells = _cells(roots)
    ipython = TransformerManager().transform_cell
    compared = differ = ipython_errors = 0
    for cell in cells:
        magic = re.match(r"%%(\w+)", cell.lstrip())
        text = cell
        if magic and magic.group(1) in PYTHON_CELL_MAGICS:
            text = cell.lstrip().split("\n", 1)[1] if "\n" in cell.lstrip() else ""
        try:
            expected = ipython(text)
        except Exception:  # noqa: BLE001 - IPython raises on some invalid cells
            ipython_errors += 1
            continue
        compared += 1
        ours = transform(cell).source
        if _nonblank(ours) != _nonblank(expected):
            differ += 1
            print("DIFFERS:", repr(cell[:120]))
    start = time.process_time()
    out = [transform(cell).source for cell in cells]
    ours_s = time.process_time() - start
    start = time.process_time()
    for cell in cells:
        try:
            ipython(cell)
        except Exception:  # noqa: BLE001, S112
            continue
    ipython_s = time.process_time() - start
    start = time.process_time()
    for source in out:
        with contextlib.suppress(SyntaxError):
            ast.parse(source)
    parse_s = time.process_time() - start
    print(
        f"{len(cells)} code cells; compared {compared} "
        f"(IPython raised on {ipython_errors}); differences: {differ}"
    )
    print(
        f"CPU: mlqa transform {ours_s:.3f} s, IPython transform_cell "
        f"{ipython_s:.3f} s, ast.parse of the result {parse_s:.3f} s"
    )
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
