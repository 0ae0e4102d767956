"""The one runner contract every step follows, and the steps that follow it.

A step (format, lint, docstrings, types, notebooks, rules) is a module with::

    def run(files: list[Path], config: Config, *, fix: bool) -> Result

``files`` come from :func:`mlqa.files.select` (the one selector), ``config``
from :func:`mlqa.config.load`, and ``fix`` says whether the step may rewrite
files (black formats, ruff applies safe fixes, strip strips; the others ignore
it). Every door calls steps through :func:`run_paths` or :func:`run_files`:
the ``mlqa X`` commands and hooks (one step), ``mlqa run`` and the CI workflow
(every step in check mode, in process, over one selection).
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

from mlqa.diagnostics import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FINDINGS,
    Finding,
    InputError,
    read_source,
)
from mlqa.files import display, select

if TYPE_CHECKING:
    from mlqa.config import Config

PY_SUFFIXES = (".py", ".pyi")


@dataclass
class Result:
    """What one step found over a set of files.

    Attributes:
        tool: The step's display name.
        files: How many files it looked at.
        findings: The problems found.
        errors: Files it could not read or parse (and bad tool config).
        changed: Files it rewrote (fix mode only), as displayed.
        seconds: Wall time.
    """

    tool: str
    files: int = 0
    findings: list[Finding] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """Return 2 for unreadable input, 1 for findings or rewrites, else 0."""
        if self.errors:
            return EXIT_ERROR
        if self.findings or self.changed:
            return EXIT_FINDINGS
        return EXIT_CLEAN


class Runner(Protocol):
    """The signature of every step's ``run``."""

    def __call__(
        self, files: list[Path], config: Config, *, fix: bool
    ) -> Result:  # pragma: no cover - a protocol
        """Run the step over files.

        Args:
            files: The selected files.
            config: The project config.
            fix: Whether the step may rewrite files.

        Returns:
            The step's findings, errors and rewritten files.
        """


class Step(NamedTuple):
    """A step of the suite: its name, its module and the files it takes.

    Attributes:
        name: The name shown in ``mlqa run``'s table and ``--skip``.
        module: The module whose ``run`` implements it (imported when used).
        suffixes: The file suffixes it takes from a directory.
        check_sources: Whether Python sources are decoded first, so that an
            unreadable one is the same one-line error for every tool.
    """

    name: str
    module: str
    suffixes: tuple[str, ...]
    check_sources: bool = True

    def runner(self) -> Runner:
        """Import the step's module and return its ``run``.

        Returns:
            The runner.
        """
        run: Runner = importlib.import_module(self.module).run
        return run


#: The steps in the order ``mlqa run`` runs them.
STEPS: dict[str, Step] = {
    step.name: step
    for step in (
        Step("format", "mlqa.tools.black", (*PY_SUFFIXES, ".ipynb")),
        Step("lint", "mlqa.tools.ruff", (*PY_SUFFIXES, ".ipynb")),
        Step("docstrings", "mlqa.tools.docstrings", PY_SUFFIXES),
        Step("types", "mlqa.tools.mypy", PY_SUFFIXES),
        Step("notebooks", "mlqa.notebooks", (".ipynb",), check_sources=False),
        Step("rules", "mlqa.check", (".py", ".ipynb"), check_sources=False),
    )
}


def unreadable(path: Path) -> InputError | None:
    """Tell why a Python source file cannot be checked, if it cannot.

    Checking this once here gives every tool the same one-line error
    (:func:`mlqa.diagnostics.read_source`) instead of each tool's own.

    Args:
        path: The file.

    Returns:
        The error, or None when the file is readable.
    """
    try:
        read_source(path)
    except InputError as exc:
        exc.path = display(path)
        return exc
    return None


def run_files(
    step: Step, files: Iterable[Path], config: Config, *, fix: bool
) -> Result:
    """Run one step over already-selected files, timed.

    Args:
        step: The step.
        files: Selected files.
        config: The project config.
        fix: Whether the step may rewrite files.

    Returns:
        The step's result; unreadable sources are errors, the rest is checked.
    """
    started = time.perf_counter()
    targets = list(files)
    bad: list[InputError] = []
    if step.check_sources:
        checked = [
            (f, unreadable(f) if f.suffix in PY_SUFFIXES else None) for f in targets
        ]
        targets = [f for f, error in checked if error is None]
        bad = [error for _, error in checked if error is not None]
    result = step.runner()(targets, config, fix=fix) if targets else Result(step.name)
    result.files += len(bad)
    result.errors = bad + result.errors
    result.seconds = time.perf_counter() - started
    return result


def run_paths(
    step: Step,
    paths: Sequence[str | Path],
    config: Config,
    *,
    fix: bool,
    suffixes: Sequence[str] | None = None,
) -> Result:
    """Select files from command-line paths and run one step over them.

    Args:
        step: The step.
        paths: Files and directories, as given.
        config: The project config.
        fix: Whether the step may rewrite files.
        suffixes: Which files to take from directories (the step's by default).

    Returns:
        The result, with one error per path that does not exist.
    """
    started = time.perf_counter()
    selection = select(paths, config, step.suffixes if suffixes is None else suffixes)
    result = run_files(step, selection.files, config, fix=fix)
    missing = [InputError(p, "no such file or directory") for p in selection.missing]
    result.errors = missing + result.errors
    result.seconds = time.perf_counter() - started
    return result
