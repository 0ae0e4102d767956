"""``mlqa run``: the whole suite in check mode over a repo, one summary table.

Runs format (black ``--check``), lint (ruff), docstrings (ruff D + pydoclint),
types (mypy), notebooks (``mlqa strip --verify``) and the ML rules
(``mlqa check``) over the same files with the same config, rewriting nothing,
then prints a table (tool, files, findings, seconds) and the findings.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from mlqa import config as config_mod
from mlqa.diagnostics import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FINDINGS,
    FORMATS,
    InputError,
    render,
)
from mlqa.files import select
from mlqa.runner import STEPS, Result, run_files


def run_steps(
    files: Sequence[Path], config: config_mod.Config, skip: Sequence[str] = ()
) -> list[Result]:
    """Run every step in check mode, in process, over one selection of files.

    Args:
        files: The selected files (each step takes those with its suffixes).
        config: The project config.
        skip: Names of steps to leave out.

    Returns:
        One result per step run, named after the step.
    """
    results = []
    for name, step in STEPS.items():
        if name in skip:
            continue
        started = time.perf_counter()
        targets = [f for f in files if f.suffix in step.suffixes]
        if name == "types":
            from mlqa.tools.mypy import in_scope

            targets = [Path(p) for p in in_scope([str(f) for f in targets], config)]
        result = run_files(step, targets, config, fix=False)
        result.tool = name
        result.files = len(targets)
        result.seconds = time.perf_counter() - started
        results.append(result)
    return results


def summary_table(results: Sequence[Result]) -> str:
    """Render the summary table (tool, files, findings, errors, seconds) with rich.

    Args:
        results: One result per step.

    Returns:
        The table as plain text.
    """
    from rich.console import Console
    from rich.table import Table

    table = Table(title="mlqa run", title_justify="left")
    for column in ("tool", "files", "findings", "errors", "seconds", "status"):
        table.add_column(
            column, justify="left" if column in ("tool", "status") else "right"
        )
    for r in results:
        status = "error" if r.errors else ("fail" if r.findings else "ok")
        table.add_row(
            r.tool, str(r.files), str(len(r.findings)), str(len(r.errors)),
            f"{r.seconds:.2f}", status,
        )  # fmt: skip
    buffer = io.StringIO()
    Console(file=buffer, width=100, force_terminal=False, color_system=None).print(
        table
    )
    return buffer.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mlqa run``.

    Args:
        argv: ``[PATH] [--format FMT] [--output FILE] [--skip STEP ...]``.

    Returns:
        0 when every step is clean, 1 on findings, 2 on unreadable input or
        bad config.
    """
    ap = argparse.ArgumentParser(
        prog="mlqa run",
        description="Run the whole mlqa suite in check mode over a repo.",
    )
    ap.add_argument(
        "path", nargs="?", default=".", help="the repo or directory (default: .)"
    )
    ap.add_argument("--format", choices=FORMATS, default="text", help="findings format")
    ap.add_argument(
        "--output", help="write the findings to this file instead of stdout"
    )
    ap.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=list(STEPS),
        help="skip a step (repeatable)",
    )
    args = ap.parse_args(list(sys.argv[1:] if argv is None else argv))
    root = Path(args.path)
    if not root.exists():
        print(f"{args.path}: no such file or directory", file=sys.stderr)
        return EXIT_ERROR
    try:
        config = config_mod.load(root)
    except InputError as exc:
        print(exc, file=sys.stderr)
        return EXIT_ERROR
    suffixes = sorted({suffix for step in STEPS.values() for suffix in step.suffixes})
    results = run_steps(select([root], config, suffixes).files, config, args.skip)
    findings = sorted(f for r in results for f in r.findings)
    errors = [e for r in results for e in r.errors]
    machine = args.format in ("json", "sarif") and not args.output
    table_stream = sys.stderr if machine else sys.stdout
    table_stream.write(summary_table(results))
    for err in errors:
        print(err, file=sys.stderr)
    text = render(findings, args.format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    elif text:
        sys.stdout.write(text)
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if findings else EXIT_CLEAN
