"""``mlqa run``: the whole suite in check mode over a repo, one summary table.

Runs format (black ``--check``), lint (ruff), docstrings (ruff D + pydoclint),
types (mypy), notebooks (``mlqa strip --verify``) and the ML rules
(``mlqa check``) over the same files with the same config, rewriting nothing,
then prints a table (tool, files, findings, seconds) and the findings.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from mlqa import config as config_mod
from mlqa.diagnostics import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FINDINGS,
    FORMATS,
    Finding,
    InputError,
    render,
)
from mlqa.files import discover
from mlqa.tools._common import PY_SUFFIXES, ToolResult, collect, display

STEPS = ("format", "lint", "docstrings", "types", "notebooks", "rules")


def _tool_step(
    module: str, name: str
) -> Callable[[list[Path], config_mod.Config], ToolResult]:
    def step(files: list[Path], config: config_mod.Config) -> ToolResult:
        import importlib

        py = [str(f) for f in files if f.suffix in PY_SUFFIXES]
        if not py:
            return ToolResult(name)
        if name == "types":
            from mlqa.tools.mypy import in_scope

            py = in_scope(py, config)
            if not py:
                return ToolResult(name)
        runner = importlib.import_module(module).run
        result = collect(runner, name, py, config, fix=False)
        result.tool = name
        return result

    return step


def _captured(
    main: Callable[[list[str]], int], argv: list[str]
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code) if isinstance(exc.code, int) else EXIT_ERROR
    return code, out.getvalue(), err.getvalue()


def _error_lines(text: str) -> list[InputError]:
    errors = []
    for line in text.splitlines():
        if line.strip():
            path, _, message = line.partition(": ")
            errors.append(InputError(path, message or line))
    return errors


def _command_step(
    name: str, module: str, suffixes: tuple[str, ...], options: list[str]
) -> Callable[[list[Path], config_mod.Config], ToolResult]:
    """A step that runs another mlqa command in process and reads its JSON report."""

    def step(files: list[Path], config: config_mod.Config) -> ToolResult:
        import importlib

        targets = [f for f in files if f.suffix in suffixes]
        result = ToolResult(name, files=len(targets))
        if not targets:
            return result
        main = importlib.import_module(module).main
        argv = [*options, "--format", "json", *[str(t) for t in targets]]
        code, out, err = _captured(main, argv)
        try:
            items = json.loads(out or "[]")
        except json.JSONDecodeError:
            items = []
            result.errors.append(InputError(name, (out + err).strip() or "no report"))
        result.findings += [
            Finding(
                display(Path(item["path"])),
                int(item["line"]),
                int(item["column"]),
                str(item["code"]),
                str(item["message"]),
            )
            for item in items
        ]
        if code == EXIT_ERROR:
            result.errors += _error_lines(err)
        return result

    return step


RUNNERS: dict[str, Callable[[list[Path], config_mod.Config], ToolResult]] = {
    "format": _tool_step("mlqa.tools.black", "format"),
    "lint": _tool_step("mlqa.tools.ruff", "lint"),
    "docstrings": _tool_step("mlqa.tools.docstrings", "docstrings"),
    "types": _tool_step("mlqa.tools.mypy", "types"),
    "notebooks": _command_step(
        "notebooks", "mlqa.notebooks", (".ipynb",), ["--verify"]
    ),
    "rules": _command_step("rules", "mlqa.check", (".py", ".ipynb"), ["--exit-zero"]),
}


def summary_table(results: Sequence[ToolResult]) -> str:
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
        choices=STEPS,
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
    files = discover(
        [root], (*PY_SUFFIXES, ".ipynb"), config.root, config.get("exclude")
    )
    results = []
    for step in STEPS:
        if step in args.skip:
            continue
        started = time.perf_counter()
        result = RUNNERS[step](files, config)
        result.seconds = time.perf_counter() - started
        results.append(result)
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
