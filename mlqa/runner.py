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


class Result:
    """What one step found over a set of files.

    A plain class rather than a dataclass: importing :mod:`dataclasses` (and
    :mod:`inspect` with it) costs every hook run about 10 ms.

    Attributes:
        tool: The step's display name.
        files: How many files it looked at.
        findings: The problems found.
        errors: Files it could not read or parse (and bad tool config).
        changed: Files it rewrote (fix mode only), as displayed.
        seconds: Wall time.
    """

    __slots__ = ("tool", "files", "findings", "errors", "changed", "seconds")

    def __init__(
        self,
        tool: str,
        files: int = 0,
        findings: list[Finding] | None = None,
        errors: list[InputError] | None = None,
        changed: list[str] | None = None,
        seconds: float = 0.0,
    ) -> None:
        """Make a result; the lists default to new empty ones."""
        self.tool = tool
        self.files = files
        self.findings: list[Finding] = [] if findings is None else findings
        self.errors: list[InputError] = [] if errors is None else errors
        self.changed: list[str] = [] if changed is None else changed
        self.seconds = seconds

    def _key(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        """Compare field by field, as a dataclass does."""
        if not isinstance(other, Result):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # mutable, as a dataclass

    def __repr__(self) -> str:
        """Show the fields, as a dataclass does."""
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"Result({fields})"

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
        own_process: Whether the tool reads the files in a process of its own
            (ruff): its notebooks are then read first too, and in check mode
            all are read while it runs.
    """

    name: str
    module: str
    suffixes: tuple[str, ...]
    check_sources: bool = True
    own_process: bool = False

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
        Step("lint", "mlqa.tools.ruff", (*PY_SUFFIXES, ".ipynb"), own_process=True),
        Step("docstrings", "mlqa.tools.docstrings", PY_SUFFIXES),
        Step("types", "mlqa.tools.mypy", PY_SUFFIXES),
        Step("notebooks", "mlqa.notebooks", (".ipynb",), check_sources=False),
        Step("rules", "mlqa.check", (".py", ".ipynb"), check_sources=False),
    )
}


def unreadable(path: Path) -> InputError | None:
    """Tell why a Python source file or a notebook cannot be checked, if it cannot.

    Checking this once here gives every tool the same one-line error
    (:func:`mlqa.diagnostics.read_source`; for a notebook the reader ``mlqa
    strip`` and ``mlqa check`` use) instead of each tool's own.

    Args:
        path: The file.

    Returns:
        The error, or None when the file is readable.
    """
    try:
        if path.suffix == ".ipynb":
            from mlqa.notebooks import io
            from mlqa.notebooks.cells import code_cells

            shown = display(path)
            code_cells(io.decode(io.read_bytes(path), shown), shown)
        else:
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
    # Notebooks are read first only for a tool with a reader of its own
    # (ruff, in its words); the others read them with mlqa's notebook reader.
    checked_suffixes = (*PY_SUFFIXES, ".ipynb") if step.own_process else PY_SUFFIXES
    sources = (
        [f for f in targets if f.suffix in checked_suffixes]
        if step.check_sources
        else []
    )
    if sources and step.own_process and not fix:
        result = _alongside(step, targets, sources, config)
    else:
        checked = {f: unreadable(f) for f in sources}
        bad = [e for e in checked.values() if e is not None]
        targets = [f for f in targets if checked.get(f) is None]
        result = (
            step.runner()(targets, config, fix=fix) if targets else Result(step.name)
        )
        result.files += len(bad)
        result.errors = bad + result.errors
    result.seconds = time.perf_counter() - started
    return result


def _alongside(
    step: Step, targets: list[Path], sources: list[Path], config: Config
) -> Result:
    """Run a tool that reads files in its own process while the sources are decoded.

    The tool sees every file; what it says about an unreadable one is replaced
    by that file's one-line error, so the output is what checking first gives.

    Args:
        step: The step (check mode).
        targets: All its files.
        sources: The sources and notebooks among them.
        config: The project config.

    Returns:
        The step's result.
    """
    import threading

    box: dict[str, Result | BaseException] = {}

    def work() -> None:
        try:
            box["result"] = step.runner()(targets, config, fix=False)
        except BaseException as exc:  # re-raised in the caller's thread
            box["result"] = exc

    thread = threading.Thread(target=work, name=f"mlqa-{step.name}", daemon=True)
    thread.start()
    bad = [e for e in map(unreadable, sources) if e is not None]
    thread.join()
    result = box["result"]
    if isinstance(result, BaseException):
        raise result
    if bad:
        broken = {e.path for e in bad}
        result.findings = [f for f in result.findings if f.path not in broken]
        result.errors = bad + [e for e in result.errors if e.path not in broken]
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
