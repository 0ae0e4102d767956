"""The ``mlqa`` command line: one dispatcher, one module per command.

Each command lives in its own module with ``main(argv) -> int`` and is imported
only when it runs, so ``mlqa strip`` never pays for black or mypy and no
command imports torch.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

from mlqa import __version__

# command -> (module, one-line help). Order is the order shown in --help.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("mlqa.run", "run the whole suite in check mode and print a summary"),
    "format": ("mlqa.tools.black", "format Python files with black"),
    "lint": ("mlqa.tools.ruff", "lint with ruff and mlqa's preset"),
    "docstrings": ("mlqa.tools.docstrings", "check Google-style docstrings"),
    "types": ("mlqa.tools.mypy", "type-check with mypy and mlqa's preset"),
    "strip": ("mlqa.notebooks", "strip outputs from Jupyter notebooks"),
    "check": ("mlqa.check", "ML rules: hardcoded hyperparameters and devices"),
    "rule": ("mlqa.rules.docs", "print the documentation of a rule (or all)"),
    "init": ("mlqa.init", "write mlqa's hooks, CI, editor and config into a repo"),
}

USAGE = "usage: mlqa [--version] COMMAND [ARGS...]"


#: The tools mlqa runs, by distribution name, in the order ``--version`` lists them.
TOOLS = ("black", "ruff", "mypy", "pydoclint", "nbstripout")


def version_text() -> str:
    """Say mlqa's version and the version of every tool it runs, one line.

    Returns:
        ``mlqa X (black A, ruff B, ...)``; a tool that is not installed shows
        ``not installed``.
    """
    from importlib import metadata

    parts = []
    for tool in TOOLS:
        try:
            parts.append(f"{tool} {metadata.version(tool)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{tool} not installed")
    return f"mlqa {__version__} ({', '.join(parts)})"


def _help() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [USAGE, "", "commands:"]
    lines += [f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items()]
    lines += ["", "Run 'mlqa COMMAND --help' for a command's options."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mlqa`` command line.

    Args:
        argv: The arguments after the program name; ``sys.argv[1:]`` if None.

    Returns:
        The exit code: 0 clean, 1 findings, 2 usage error or unreadable input.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(_help())
        return 0 if args else 2
    if args[0] in {"-V", "--version"}:
        print(version_text())
        return 0
    name, rest = args[0], args[1:]
    if name == "rules":
        name = "rule"
    if name not in COMMANDS:
        print(
            f"mlqa: unknown command {name!r}; known: {', '.join(COMMANDS)}",
            file=sys.stderr,
        )
        return 2
    if name == "lint":  # start ruff now: see mlqa.early
        from mlqa import early

        early.start(rest)
    module = importlib.import_module(COMMANDS[name][0])
    try:
        try:
            code: int = module.main(rest)
        except SystemExit as exc:  # argparse: --help, usage errors
            code = (
                exc.code
                if isinstance(exc.code, int)
                else (0 if exc.code is None else 2)
            )
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
    except BrokenPipeError:  # `mlqa ... | head`: the reader left, nothing to report
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print("mlqa: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
