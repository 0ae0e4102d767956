"""``mlqa init``: put mlqa's hooks, config, editor settings and CI into a repo.

Writes or merges four things, keeping everything the user already has, one
module per file format:

* ``.pre-commit-config.yaml`` (:mod:`~mlqa.init.precommit`): mlqa's hook repo,
  pinned to this version, added next to the user's repos (ruamel.yaml round
  trip: comments stay);
* ``pyproject.toml`` (:mod:`~mlqa.init.pyproject`): ``[tool.mlqa]`` plus mlqa's
  presets for ruff, mypy and pydoclint where the project configures none
  (appended as text, checked with tomllib: nothing the user wrote is touched);
* ``.vscode/settings.json`` and ``extensions.json`` (:mod:`~mlqa.init.vscode`):
  merged key by key, also inside language blocks such as ``"[python]"``; the
  user's value wins where both set a key; comments and trailing commas stay
  (:mod:`~mlqa.init.jsonc` gives the offsets, :mod:`~mlqa.init.jsonc_edit`
  splices new keys into the text);
* ``.github/workflows/mlqa.yml`` (:mod:`~mlqa.init.workflow`): a caller of
  mlqa's reusable workflow, unless that file exists.

Everything is read and validated before anything is written; each file is
written atomically. It shows a unified diff and asks; ``--yes`` applies without
asking, ``--dry-run`` only prints the diff. A second run changes nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from mlqa import files
from mlqa.diagnostics import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, InputError
from mlqa.init.change import REPO_URL, REV, Change
from mlqa.init.jsonc_edit import merge_jsonc
from mlqa.init.precommit import plan_pre_commit
from mlqa.init.pyproject import plan_pyproject
from mlqa.init.vscode import merge_extensions, plan_vscode
from mlqa.init.workflow import plan_workflow

__all__ = [
    "REPO_URL",
    "REV",
    "Change",
    "main",
    "merge_extensions",
    "merge_jsonc",
    "plan",
]


def plan(root: Path) -> list[Change]:
    """Plan every change ``mlqa init`` makes, validating all inputs first.

    A malformed file raises :class:`~mlqa.diagnostics.InputError` from its
    planner, before anything has been written.

    Args:
        root: The repository root.

    Returns:
        One change per file, in the order they are shown.
    """
    return [
        plan_pre_commit(root),
        plan_pyproject(root),
        *plan_vscode(root),
        plan_workflow(root),
    ]


def _blocked(root: Path, changes: Sequence[Change]) -> Path | None:
    """Return a path that must be a folder but is a file, if any (checked before writing)."""
    for change in changes:
        for parent in (root / change.path).parents:
            if parent == root or root not in parent.parents:
                break
            if parent.exists() and not parent.is_dir():
                return parent
    return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlqa init",
        description="Write or merge mlqa's pre-commit hooks, [tool.mlqa] and presets, "
        "VS Code settings and a CI workflow into a repository.",
    )
    parser.add_argument(
        "path", nargs="?", default=".", help="the repository root (default: .)"
    )
    parser.add_argument("--yes", "-y", action="store_true", help="apply without asking")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the changes as a diff, write nothing",
    )
    return parser


def _ask(prompt: str) -> bool:
    print(prompt, end="", flush=True)
    answer = sys.stdin.readline()
    return answer.strip().lower() in {"y", "yes"}


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mlqa init``.

    Args:
        argv: The arguments after ``init``; ``sys.argv[2:]`` if None.

    Returns:
        0 when applied or nothing to do, 1 when the user declined, 2 on a usage
        error or a malformed file (then nothing is written).
    """
    parser = _parser()
    try:
        args = parser.parse_args(sys.argv[2:] if argv is None else list(argv))
    except SystemExit as exc:
        return EXIT_ERROR if exc.code else EXIT_CLEAN
    root = Path(args.path)
    if not root.is_dir():
        print(f"mlqa init: {args.path}: not a directory", file=sys.stderr)
        return EXIT_ERROR
    try:
        changes = plan(root)
    except InputError as exc:
        print(f"{exc}", file=sys.stderr)
        print("mlqa init: nothing written", file=sys.stderr)
        return EXIT_ERROR
    pending = [c for c in changes if c.changed]
    blocked = _blocked(root, pending)
    if blocked is not None:
        print(f"{blocked}: exists and is not a directory", file=sys.stderr)
        print("mlqa init: nothing written", file=sys.stderr)
        return EXIT_ERROR
    for change in changes:
        mark = "~" if change.old is not None else "+"
        mark = mark if change.changed else "="
        print(f"{mark} {change.path}: {change.note}")
    if not pending:
        print("mlqa init: nothing to change")
        return EXIT_CLEAN
    print()
    sys.stdout.write("".join(change.diff() for change in pending))
    if args.dry_run:
        print(
            f"mlqa init: dry run, {len(pending)} file(s) would change; nothing written"
        )
        return EXIT_CLEAN
    if not args.yes:
        if not sys.stdin.isatty():
            print(
                "mlqa init: not applying: stdin is not a terminal; "
                "run again with --yes to apply or --dry-run to only show the diff",
                file=sys.stderr,
            )
            return EXIT_ERROR
        if not _ask(f"Apply these changes to {len(pending)} file(s)? [y/N] "):
            print("mlqa init: nothing written")
            return EXIT_FINDINGS
    try:
        for change in pending:
            target = root / change.path
            target.parent.mkdir(parents=True, exist_ok=True)
            files.write_atomic(target, change.new.encode("utf-8"))
    except OSError as exc:
        print(f"mlqa init: cannot write: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except InputError as exc:
        print(exc, file=sys.stderr)
        return EXIT_ERROR
    print(f"mlqa init: wrote {len(pending)} file(s)")
    return EXIT_CLEAN
