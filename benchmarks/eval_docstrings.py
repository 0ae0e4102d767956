"""Labelled evaluation of ``mlqa docstrings`` on real Google-style code.

Every item of ``benchmarks/labels/docstrings.json`` names one definition in a
real project at a real commit (repository, commit, path, line) and a label
given by reading it as the project's maintainer would:

* ``valid``: the docstring is right (the goal is no finding on at most 2%);
* ``wrong``: the docstring really disagrees with the signature at that commit
  (most are the state just before a commit that fixed it; the goal is a
  finding on at least 90%).

The script checks each file out of a local clone (``git show COMMIT:PATH``,
nothing is downloaded), runs the docstring step over it twice (the preset
before and after the Google-guide rework) and counts the items with a
finding on the definition's lines (``def`` line to the end of the docstring).

Usage::

    git clone https://github.com/google-deepmind/optax REPOS/optax   # etc.
    python benchmarks/eval_docstrings.py --repos REPOS [--show]

A repository is looked up as ``REPOS/<name>``, ``REPOS/<name>.git`` or
``REPOS/<owner>+<name>/repo``.
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlqa.config import Config
from mlqa.diagnostics import Finding
from mlqa.tools import docstrings
from mlqa.tools.ruff import run_ruff

LABELS = Path(__file__).parent / "labels" / "docstrings.json"

#: mlqa's preset before the rework (commit 600fd34): every D rule but four,
#: pydoclint's Google options with types in signatures, DOC502 dropped.
BEFORE_RUFF = """
[lint]
select = ["D"]
ignore = ["D104", "D105", "D107", "D417"]
[lint.pydocstyle]
convention = "google"
"""
BEFORE_PYDOCLINT: dict[str, Any] = {
    "style": "google",
    "argTypeHintsInDocstring": False,
    "checkReturnTypes": False,
    "checkYieldTypes": False,
}


def git_dir(repos: Path, repo: str) -> Path:
    """Find the local clone of ``owner/name`` under ``repos``."""
    owner, name = repo.split("/")
    for candidate in (
        repos / name,
        repos / f"{name}.git",
        repos / f"{owner}+{name}" / "repo",
    ):
        if candidate.exists():
            return candidate
    sys.exit(f"{repos}: no clone of {repo} (git clone https://github.com/{repo})")


def checkout(items: list[dict[str, Any]], repos: Path, into: Path) -> dict[str, Path]:
    """Write every labelled file at its commit under ``into``."""
    where: dict[str, Path] = {}
    for item in items:
        key = f"{item['repo']}@{item['commit']}:{item['path']}"
        if key in where:
            continue
        gd = git_dir(repos, item["repo"])
        text = subprocess.run(
            ["git", f"--git-dir={gd}", "show", f"{item['commit']}:{item['path']}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        target = into / item["project"] / item["commit"][:12] / item["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        where[key] = target
    return where


def run_after(files: list[Path], root: Path) -> list[Finding]:
    """Run the docstring step as it is now (mlqa's preset)."""
    return docstrings.run(files, Config(root), fix=False).findings


def run_before(files: list[Path], root: Path) -> list[Finding]:
    """Run the docstring step as it was before the rework."""
    config = Config(root)
    toml = root / "before-ruff.toml"
    toml.write_text(BEFORE_RUFF)
    found = run_ruff(files, config, ["--config", str(toml)], "before").findings
    before = docstrings.Pydoclint(BEFORE_PYDOCLINT, preset=False, table={})
    for path in files:
        found += [
            f
            for f in docstrings.check_file(path, str(path), before)
            if f.code != "DOC502"
        ]
    return found


def span(path: Path, line: int) -> tuple[int, int]:
    """Return the lines of the definition at ``line``: def to docstring end."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and node.lineno == line
        ):
            first = node.body[0]
            end = first.end_lineno or first.lineno
            return line, end if ast.get_docstring(node) is not None else line
    raise SystemExit(f"{path}:{line}: no definition there (label out of date)")


def evaluate(
    items: list[dict[str, Any]],
    where: dict[str, Path],
    runner: Callable[[list[Path], Path], list[Finding]],
    root: Path,
) -> list[list[Finding]]:
    """Return the findings on each item's definition."""
    files = sorted(set(where.values()))
    by_file: dict[str, list[Finding]] = {}
    for finding in runner(files, root):
        by_file.setdefault(str(Path(finding.path).resolve()), []).append(finding)
    out = []
    for item in items:
        path = where[f"{item['repo']}@{item['commit']}:{item['path']}"]
        lo, hi = span(path, item["line"])
        out.append(
            [f for f in by_file.get(str(path.resolve()), []) if lo <= f.line <= hi]
        )
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the false-alarm and detection rates, before and after.

    Args:
        argv: ``--repos DIR [--show]``.

    Returns:
        0.
    """
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repos", type=Path, required=True, help="dir of git clones")
    ap.add_argument("--show", action="store_true", help="print each finding")
    args = ap.parse_args(argv)
    items = json.loads(LABELS.read_text("utf-8"))["items"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp).resolve()
        where = checkout(items, args.repos.resolve(), root)
        for name, runner in (("before", run_before), ("after", run_after)):
            results = evaluate(items, where, runner, root)
            for label, goal in (
                ("valid", "<= 2%"),
                ("wrong", ">= 90%"),
                ("layout", "reported apart"),
            ):
                picked = [
                    (item, found)
                    for item, found in zip(items, results, strict=True)
                    if item["label"] == label
                ]
                hit = sum(1 for _, found in picked if found)
                what = "detected" if label == "wrong" else "with any finding"
                print(
                    f"{name:6} {label:5}: {hit}/{len(picked)} {what}"
                    f" ({100 * hit / max(len(picked), 1):.1f}%, goal {goal})"
                )
                if args.show:
                    for item, found in picked:
                        if bool(found) != (label == "wrong"):
                            where_ = f"{item['project']}:{item['path']}:{item['line']}"
                            shown = ",".join(sorted({f.code for f in found}))
                            print(f"    {where_} {item['name']} [{shown or '-'}]")
            codes: dict[str, int] = {}
            for item, found in zip(items, results, strict=True):
                if item["label"] == "valid":
                    for code in {f.code for f in found}:
                        codes[code] = codes.get(code, 0) + 1
            top = ", ".join(
                f"{c} {n}" for c, n in sorted(codes.items(), key=lambda x: -x[1])
            )
            print(f"{name:6} codes on valid items: {top or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
