"""Jupyter notebooks: one reader/writer (nbstripout-identical bytes) and stripping.

* :mod:`mlqa.notebooks.io` reads (bytes, UTF-8, JSON, nbformat 4 structure,
  nbformat's read normalisation) and writes (nbformat's exact bytes);
* :mod:`mlqa.notebooks.cells` gives code cells as Python with a line map
  (``mlqa check``);
* :mod:`mlqa.notebooks.strip` strips one notebook with nbstripout's own
  function, never parsing the outputs it drops (:mod:`mlqa.notebooks.scan`);
* :mod:`mlqa.notebooks.options` is ``[tool.mlqa.notebooks]`` and its flags;
* :mod:`mlqa.notebooks.upstream` is the one place that touches nbstripout's
  and nbformat's internals;
* :mod:`mlqa.notebooks.cli` is ``mlqa strip`` and the ``notebooks`` step.

This package is the step and the command: :func:`run` and :func:`main` load
:mod:`mlqa.notebooks.cli` when called, so importing a submodule stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlqa.config import Config
    from mlqa.runner import Result


def run(
    files: list[Path], config: Config, *, fix: bool, jobs: int | None = None
) -> Result:
    """Strip notebooks, or report those that would be stripped (the step).

    Args:
        files: The notebooks.
        config: The project config.
        fix: Whether to rewrite notebooks.
        jobs: Processes to use (None: decide; 0: one per CPU).

    Returns:
        One ``NB001`` finding per notebook stripped (or that would be).
    """
    from mlqa.notebooks.cli import run as run_step

    return run_step(files, config, fix=fix, jobs=jobs)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mlqa strip``.

    Args:
        argv: The arguments after ``strip``.

    Returns:
        The exit code: 0 nothing to strip, 1 stripped, 2 usage or input error.
    """
    from mlqa.notebooks.cli import main as main_command

    return main_command(argv)
