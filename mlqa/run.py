"""``mlqa run``: the whole suite in check mode over a repo, one summary.

Runs format (black ``--check``), lint (ruff), docstrings (ruff D + pydoclint),
types (mypy), notebooks (``mlqa strip --verify``) and the ML rules
(``mlqa check``) over the same files with the same config, rewriting nothing,
then prints a table per step and per code (with the command that fixes what is
fixable), the findings once each, and a total. ``--statistics`` prints counts
per code only; ``--baseline FILE`` fails only on findings the file does not
hold (:mod:`mlqa.baseline`); ``-q`` prints only findings. See docs/run.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from mlqa import baseline as baseline_mod
from mlqa import config as config_mod
from mlqa import summary
from mlqa.cliargs import new_parser
from mlqa.diagnostics import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FINDINGS,
    FORMATS,
    Finding,
    InputError,
    encodable,
    render,
    write,
)
from mlqa.files import select
from mlqa.runner import STEPS, Result, run_files

#: Which step's error to keep when several report the same file: ruff's
#: parser says most precisely what is wrong, black's least.
PRECISION = ("lint", "docstrings", "rules", "notebooks", "types", "format")


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


def unique_findings(results: Sequence[Result]) -> None:
    """Keep each finding in the first step that reports it (in place).

    Args:
        results: One result per step, in step order.
    """
    seen: set[tuple[str, int, int, str]] = set()
    for result in results:
        kept = []
        for f in result.findings:
            if (f.path, f.line, f.column, f.code) not in seen:
                seen.add((f.path, f.line, f.column, f.code))
                kept.append(f)
        result.findings = kept


def unique_errors(results: Sequence[Result]) -> list[InputError]:
    """Return the input errors, one per problem, the most precise first.

    Several steps report the same unreadable file (a syntax error reaches
    black, ruff, pydoclint, mypy and the rules): one line per file for
    syntax errors and notebooks, one per file and line otherwise, taken from the step
    first in :data:`PRECISION`. Errors without a line (bad config) are
    kept unless their text repeats.

    Args:
        results: One result per step.

    Returns:
        The errors, in the order the steps ran.
    """
    rank = {name: i for i, name in enumerate(PRECISION)}
    chosen: dict[tuple[str, object], tuple[int, int, InputError]] = {}
    order = 0
    for result in results:
        for err in result.errors:
            order += 1
            if "syntax error" in err.message or err.path.endswith(".ipynb"):
                # one line per file (a notebook's errors are all about the file)
                key: tuple[str, object] = (err.path, "file")
            else:
                key = (err.path, err.line if err.line is not None else err.message)
            score = rank.get(result.tool, len(rank))
            if key not in chosen or score < chosen[key][0]:
                first = chosen[key][1] if key in chosen else order
                chosen[key] = (score, first, err)
    return [err for _, _, err in sorted(chosen.values(), key=lambda c: c[1])]


def apply_baseline(
    results: Sequence[Result],
    path: Path,
    root: Path,
    *,
    rewrite: bool,
) -> tuple[int, int]:
    """Write or honour a baseline, leaving only new findings in the results.

    Args:
        results: One result per step (findings replaced in place).
        path: The baseline file.
        root: The project root (baseline paths are relative to it).
        rewrite: Write the file even when it exists.

    Returns:
        How many findings the baseline holds, and how many of its entries
        matched nothing.

    Raises:
        InputError: If the baseline cannot be read.
    """
    if rewrite or not path.exists():
        everything = [f for r in results for f in r.findings]
        count = baseline_mod.write(path, everything, root)
        print(f"mlqa run: wrote {path} ({count} findings)", file=sys.stderr)
        for result in results:
            result.findings = []
        return count, 0
    budget = baseline_mod.load(path)
    held = stale = 0
    for result in results:
        part = baseline_mod.split(result.findings, budget, root)
        result.findings = part.new
        held += len(part.baselined)
        stale = part.stale
    return held, stale


def parser() -> argparse.ArgumentParser:
    """Build ``mlqa run``'s argument parser.

    Returns:
        The parser.
    """
    ap = new_parser("mlqa run", "Run the whole mlqa suite in check mode over a repo.")
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
    ap.add_argument(
        "--statistics",
        action="store_true",
        help="print counts per code (json with --format json), not the findings",
    )
    ap.add_argument(
        "--baseline",
        metavar="FILE",
        help="fail only on findings FILE does not hold; written when missing",
    )
    ap.add_argument(
        "--write-baseline",
        action="store_true",
        help="rewrite the --baseline file with today's findings",
    )
    ap.add_argument(
        "-q",
        "--quiet",
        action="count",
        default=0,
        help="print only the findings (-qq: nothing, like --silent)",
    )
    ap.add_argument(
        "-s",
        "--silent",
        action="store_true",
        help="print nothing but input errors; the exit code still tells",
    )
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mlqa run``.

    Args:
        argv: ``[PATH] [--format FMT] [--output FILE] [--skip STEP ...]
            [--statistics] [--baseline FILE [--write-baseline]] [-q|-qq|-s]``.

    Returns:
        0 when every step is clean (or every finding is in the baseline),
        1 on new findings, 2 on unreadable input, bad config or baseline.
    """
    ap = parser()
    args = ap.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.write_baseline and not args.baseline:
        ap.error("--write-baseline needs --baseline FILE")
    quiet = 2 if args.silent else min(args.quiet, 2)
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
    unique_findings(results)
    held = stale = 0
    if args.baseline:
        try:
            held, stale = apply_baseline(
                results, Path(args.baseline), config.root, rewrite=args.write_baseline
            )
        except InputError as exc:
            print(exc, file=sys.stderr)
            return EXIT_ERROR
    errors = unique_errors(results)
    findings = sorted(f for r in results for f in r.findings)
    rows = summary.by_code(results)
    report(args, results, rows, findings, quiet, (held, stale))
    for err in errors:
        print(err, file=sys.stderr)
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if findings else EXIT_CLEAN


def report(
    args: argparse.Namespace,
    results: Sequence[Result],
    rows: Sequence[summary.CodeStats],
    findings: Sequence[Finding],
    quiet: int,
    baselined: tuple[int, int],
) -> None:
    """Print the tables, the findings (or statistics) and the total.

    Args:
        args: The parsed arguments.
        results: One result per step.
        rows: Counts per code.
        findings: The findings to report, sorted.
        quiet: 0 everything, 1 only findings, 2 nothing.
        baselined: How many findings the baseline held, and its stale entries.
    """
    machine = args.format in ("json", "sarif") and not args.output
    side: IO[str] = sys.stderr if machine else sys.stdout
    if args.statistics:
        text = summary.statistics(rows, findings, args.format)
    else:
        text = render(findings, args.format)
    if quiet < 1 and not args.statistics:
        ascii_only = not encodable(side, "┏━┃│└")
        write(side, summary.steps_table(results, ascii_only=ascii_only))
        write(side, summary.codes_table(rows, ascii_only=ascii_only))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    elif text and quiet < 2:
        write(sys.stdout, text)
    if quiet < 1:
        write(side, summary.totals(rows, args.path, *baselined))
    sys.stdout.flush()
