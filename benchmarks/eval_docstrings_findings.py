"""Every docstring finding on held-out real code, labelled: how many are false.

``benchmarks/eval_docstrings.py`` scores chosen definitions (valid and wrong
ones). This script is the other view: it runs ``mlqa docstrings`` over whole
folders of two projects that were not used to build the preset, PyTorch
Lightning (``src/lightning/pytorch/callbacks``, ``src/lightning/fabric/utilities``)
and timm (``timm/optim``, ``timm/scheduler``, ``timm/data``), at pinned commits,
and matches every finding against ``benchmarks/labels/docstrings_findings.json``
(``real``: the docstring breaks the guide sentence behind the code; ``false``:
the docstring meets the guide and the finding misreads it). Findings about a
missing docstring (D100-D107) are counted apart: they are about coverage, not
about a docstring's content.

The labels were given by two helpers (one per project) reading each
definition against the guide's sentences in docs/docstrings.md, before the
changes that the false findings led to, and spot-checked.

Run: ``python benchmarks/eval_docstrings_findings.py [--mirrors DIR] [--show]``
(mirrors as ``fetch`` makes them: ``DIR/OWNER+NAME/repo``).
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABELS = HERE / "labels" / "docstrings_findings.json"
# name -> (mirror, commit, folders whose own .py files are checked)
PROJECTS = {
    "lightning": (
        "Lightning-AI+pytorch-lightning",
        "7f0c3436cd3f6ad3753125672024fc415cbcb414",
        ("src/lightning/pytorch/callbacks", "src/lightning/fabric/utilities"),
    ),
    "timm": (
        "huggingface+pytorch-image-models",
        "aa4b5850c1543fa488abf260f18390eda46cf85d",
        ("timm/optim", "timm/scheduler", "timm/data"),
    ),
}
_COVERAGE = re.compile(r" D10[0-7] ")


def export(root: Path, mirrors: Path) -> None:
    """Write each project's checked folders under ``root/<name>/``."""
    for name, (mirror, commit, folders) in PROJECTS.items():
        git = ["git", f"--git-dir={mirrors / mirror / 'repo'}"]
        listed = subprocess.run(
            [*git, "ls-tree", "-r", "--name-only", commit],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        for path in listed:
            if path.endswith(".py") and path.rsplit("/", 1)[0] in folders:
                text = subprocess.run(
                    [*git, "show", f"{commit}:{path}"], capture_output=True, check=True
                ).stdout
                target = root / name / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(text)


def documented(root: Path) -> int:
    """Count the modules, classes and functions that have a docstring."""
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return sum(
        isinstance(node, kinds) and ast.get_docstring(node) is not None
        for path in root.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_bytes()))
    )


def main() -> int:
    """Export, check, score; print the counts (and with --show, each finding)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()
    labels = {k: v["label"] for k, v in json.loads(LABELS.read_text()).items()}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        export(root, args.mirrors)
        (root / "pyproject.toml").write_text("[project]\nname = 'held-out'\n")
        found = subprocess.run(
            [sys.executable, "-m", "mlqa", "docstrings", *PROJECTS],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.splitlines()
        docs = documented(root)
    content = [line for line in found if not _COVERAGE.search(line)]
    counts = Counter(labels.get(line, "unlabelled") for line in content)
    false_defs = {
        line.split(": ", 1)[0].rsplit(":", 1)[0]
        for line in content
        if labels.get(line) == "false"
    }
    print(f"{len(found) - len(content)} findings of a missing docstring (D100-D107)")
    print(
        f"{len(content)} findings about a docstring: {counts['real']} real, "
        f"{counts['false']} false, {counts['unlabelled']} unlabelled; "
        f"precision {counts['real'] / max(counts['real'] + counts['false'], 1):.2f}"
    )
    print(
        f"definitions with a false finding: {len(false_defs)} of {docs} documented "
        f"({100 * len(false_defs) / max(docs, 1):.1f}%, goal <= 2%)"
    )
    for line in content:
        label = labels.get(line, "UNLABELLED")
        if args.show or label == "UNLABELLED":
            print(f"    {label}: {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
