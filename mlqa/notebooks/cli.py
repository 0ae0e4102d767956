"""``mlqa strip`` and the notebooks step: strip outputs, byte-identical to nbstripout.

:func:`run` is the step of the runner contract (:mod:`mlqa.runner`): ``fix``
strips in place, otherwise it only reports (``--verify``); each notebook that
is (or would be) stripped is one ``NB001`` finding. :func:`main` is the
command: its flags are nbstripout's, layered over ``[tool.mlqa.notebooks]``.

Exit codes: 0 nothing to strip, 1 files stripped (or, with ``--verify``, files
that would be stripped), 2 usage error or an unreadable or invalid notebook.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlqa.cliargs import new_parser
from mlqa.diagnostics import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FINDINGS,
    FORMATS,
    Finding,
    InputError,
)
from mlqa.files import display, select
from mlqa.notebooks import options as opts
from mlqa.notebooks.options import StripOptions
from mlqa.notebooks.strip import strip_file

if TYPE_CHECKING:
    from mlqa.config import Config
    from mlqa.runner import Result

#: The code of the finding reported for a notebook that is (or would be) stripped.
CODE = "NB001"
NAME = "notebooks"

#: Without ``--jobs``, a second process pays from about this many notebooks: one
#: takes 0.2-0.6 ms, forking a worker and sending its results back 2-3 ms
#: (measured on the notebooks of ``benchmarks/bench_strip.py``, 2 cores).
PARALLEL_THRESHOLD = 32

#: One notebook's outcome: its kind ("changed", "clean" or "error"), what was
#: stripped, and an error as InputError's arguments (data, so that it pickles).
_Outcome = tuple[str, str, tuple[str, str, int | None, int | None] | None]


def _strip_one(job: tuple[Path, StripOptions, bool]) -> _Outcome:
    """Strip one notebook (in a worker too): errors come back as data."""
    path, options, verify = job
    try:
        result = strip_file(path, options, verify=verify)
    except InputError as exc:
        return "error", "", (display(exc.path), exc.message, exc.line, exc.column)
    return ("changed", result.summary, None) if result.changed else ("clean", "", None)


def strip_paths(
    paths: Sequence[Path], options: StripOptions, verify: bool, processes: int
) -> list[_Outcome]:
    """Strip many notebooks, in ``processes`` processes (:func:`mlqa.parallel.pmap`).

    Args:
        paths: The notebooks.
        options: What to strip.
        verify: Only tell what would change.
        processes: How many processes (1: this one).

    Returns:
        One outcome per path, in order.
    """
    import gc

    from mlqa.parallel import pmap

    # Notebooks parse into acyclic trees that reference counting frees; the
    # cyclic collector would only re-walk them (about 8% of the time).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        jobs = [(path, options, verify) for path in paths]
        return pmap(_strip_one, jobs, processes)
    finally:
        if was_enabled:
            gc.enable()


def _options(config: Config) -> StripOptions:
    """Read the options from ``[tool.mlqa.notebooks]``.

    Args:
        config: The project config.

    Returns:
        The options.

    Raises:
        InputError: If the table is invalid.
    """
    settings = opts.validate(config.get("notebooks"), config.pyproject)
    try:
        return opts.build(settings)
    except ValueError as exc:
        where = config.pyproject or "pyproject.toml"
        raise InputError(where, f"[{opts.TABLE}] {exc}") from None


def _collect(
    files: list[Path], options: StripOptions, fix: bool, jobs: int | None
) -> tuple[list[Finding], list[InputError], list[str]]:
    """Strip (or verify) notebooks; return findings, errors and files rewritten."""
    from mlqa.parallel import workers

    minimum = PARALLEL_THRESHOLD if jobs is None else 2
    processes = workers(len(files), min_items=minimum, jobs=jobs or 0)
    verb = "stripped" if fix else "would strip"
    findings: list[Finding] = []
    errors: list[InputError] = []
    changed: list[str] = []
    outcomes = strip_paths(files, options, not fix, processes)
    for path, (kind, summary, error) in zip(files, outcomes, strict=True):
        if error is not None:
            errors.append(InputError(*error))
        elif kind == "changed":
            shown = display(path)
            findings.append(Finding(shown, 1, 1, CODE, f"{verb} {summary}"))
            if fix:
                changed.append(shown)
    return findings, errors, changed


def run(
    files: list[Path], config: Config, *, fix: bool, jobs: int | None = None
) -> Result:
    """Strip notebooks (``fix``) or report those that would be stripped.

    Args:
        files: The notebooks.
        config: The project config; ``[tool.mlqa.notebooks]`` says what to strip.
        fix: Whether to rewrite notebooks; otherwise only report (``--verify``).
        jobs: Processes to use: None decides by the number of notebooks, 0 is
            one per CPU, N is N.

    Returns:
        One ``NB001`` finding per notebook stripped (or that would be).
    """
    from mlqa.runner import Result

    result = Result(NAME, files=len(files))
    try:
        options = _options(config)
    except InputError as exc:
        result.errors.append(exc)
        return result
    result.findings, result.errors, result.changed = _collect(files, options, fix, jobs)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "mlqa strip",
        (
            "Strip outputs, execution counts and volatile metadata from Jupyter "
            "notebooks, byte-identical to nbstripout. Exit 0: nothing to strip; "
            "1: notebooks stripped (or would be, with --verify); 2: usage error "
            "or invalid notebook."
        ),
    )
    add = parser.add_argument
    add("paths", nargs="*", metavar="PATH", help="notebooks or directories")
    add(
        "--verify",
        action="store_true",
        help="change nothing; exit 1 if any notebook would be stripped",
    )
    flag = argparse.BooleanOptionalAction
    add("--keep-output", action=flag, help="do not strip outputs")
    add("--keep-count", action=flag, help="do not strip execution counts")
    add("--keep-id", action=flag, help="keep cell ids (default: renumber)")
    add(
        "--extra-keys",
        action="append",
        metavar="KEYS",
        help="space-separated metadata keys to strip too, e.g. 'metadata.foo cell.metadata.bar'",
    )
    add(
        "--keep-metadata-keys",
        action="append",
        metavar="KEYS",
        help="space-separated metadata keys NOT to strip (even default ones)",
    )
    add("--drop-empty-cells", action=flag, help="remove blank cells")
    add(
        "--drop-tagged-cells",
        action="append",
        metavar="TAGS",
        help="remove cells with these tags",
    )
    add("--strip-init-cells", action=flag, help="strip cells with init_cell: true too")
    add(
        "--keep-output-type",
        dest="keep_output_types",
        action="append",
        metavar="TYPE",
        help="output types to keep, e.g. stream or stream:stderr",
    )
    add(
        "--drop-output-type",
        dest="drop_output_types",
        action="append",
        metavar="TYPE",
        help="output types to drop even with --keep-output",
    )
    add(
        "--max-size",
        metavar="SIZE",
        help="keep outputs up to SIZE characters (e.g. 10K)",
    )
    add(
        "--jobs",
        type=int,
        metavar="N",
        help=(
            f"strip in N processes (0: one per CPU; default: one per CPU from "
            f"{PARALLEL_THRESHOLD} notebooks, else 1)"
        ),
    )
    add(
        "--format",
        choices=FORMATS,
        default="text",
        help="how to print stripped notebooks",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mlqa strip``.

    Args:
        argv: The arguments after ``strip``; ``sys.argv[1:]`` if None.

    Returns:
        0 nothing to strip, 1 notebooks stripped (with ``--verify``: would be
        stripped), 2 usage error or an unreadable or invalid notebook.
    """
    from mlqa import config as config_mod
    from mlqa.diagnostics import emit

    parser = _parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:
        return EXIT_CLEAN if exc.code == 0 else EXIT_ERROR
    if not args.paths:
        parser.print_usage(sys.stderr)
        print("mlqa strip: error: no notebook or directory given", file=sys.stderr)
        return EXIT_ERROR
    flags = {key: getattr(args, key.replace("-", "_")) for key in opts.CONFIG_KEYS}
    try:
        start = os.path.commonpath([os.path.abspath(p) for p in args.paths])
        config = config_mod.load(start)
        table = opts.validate(config.get("notebooks"), config.pyproject)
        options = opts.build(opts.merge_flags(table, flags))
    except InputError as exc:
        print(exc, file=sys.stderr)
        return EXIT_ERROR
    except ValueError as exc:
        print(f"mlqa strip: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    # The step's own pieces, not run(): this door skips importing mlqa.runner
    # (dataclasses, inspect: a fifth of a typical run's time).
    selection = select(args.paths, config, (".ipynb",))
    findings, errors, _ = _collect(selection.files, options, not args.verify, args.jobs)
    missing = [InputError(p, "no such file or directory") for p in selection.missing]
    for error in missing + errors:
        print(error, file=sys.stderr)
    emit(findings, args.format)
    if missing or errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if findings else EXIT_CLEAN
