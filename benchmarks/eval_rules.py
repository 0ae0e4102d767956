"""Precision and recall of the ML rules (``mlqa check``) on real public ML code.

The corpus: every ``.py`` and ``.ipynb`` file of a few public ML repositories
at a pinned commit (training scripts, notebooks, library/model code,
benchmarks), none of them written here. The files are read from GitHub
mirrors (``git --git-dir=MIRROR show COMMIT:path``; a mirror is made with
the session tool ``fetch github:owner/repo`` under ``/work/.mirror`` or with
``git clone --mirror``; ``--mirrors DIR`` points elsewhere) and written to
``benchmarks/data/eval_rules/<project>/`` (git-ignored), with an empty
``[tool.mlqa]`` so mlqa's defaults apply.

The labels (``benchmarks/labels/rules.json``) are hand judgements of single
findings (``label`` true: the literal is a run setting the project's
maintainer would want to change between runs without editing code, or a GPU
device with no CPU fallback that breaks on a laptop; false: design constants
of reusable layers, smoke tests, GPU-only code by design ...) plus, for
``recall_files`` read in full, every true problem in them (``problems``).

The script runs ``mlqa check --format json --no-cache`` on the corpus, joins
the findings with the labels by (project, file, line, code) and prints
precision per rule and per kind of code, recall, and the findings nobody has
labelled yet (``--unlabelled``; ``--show N`` prints N lines of code around
each). ``--findings FILE`` reads saved ``mlqa check --format json`` output
instead of running it (for a before/after comparison with an older mlqa).

``--at COMMIT`` runs mlqa as it was at that commit (the "before" numbers:
``--at d18f571``, the commit before issue 9's rule work).

Run: ``python benchmarks/eval_rules.py [--at COMMIT] [--unlabelled] [--show 2]
[--details]``.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "eval_rules"
LABELS = HERE / "labels" / "rules.json"
KINDS = ("training", "notebook", "library", "benchmark", "test")
#: The rules labelled here: all of mlqa's ML rules.
SELECT = "MLQ101,MLQ102,MLQ103,MLQ104,MLQ201,MLQ202,MLQ203"


def extract(projects: dict[str, dict[str, object]], mirrors: Path) -> None:
    """Write each project's files at its commit under DATA (once).

    Args:
        projects: name -> {"repo", "commit", "include"} from the labels file.
        mirrors: The directory holding ``owner+name/repo`` git mirrors.
    """
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / "pyproject.toml").write_text("[tool.mlqa]\n")
    for name, spec in projects.items():
        target = DATA / name
        stamp = target / ".commit"
        commit = str(spec["commit"])
        if stamp.exists() and stamp.read_text() == commit:
            continue
        git_dir = mirrors / str(spec["repo"]).replace("/", "+") / "repo"
        if not git_dir.exists():
            print(f"{name}: no mirror at {git_dir}; skipped", file=sys.stderr)
            continue
        listing = subprocess.run(
            ["git", f"--git-dir={git_dir}", "ls-tree", "-r", "--name-only", commit],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        include = [str(p) for p in spec.get("include", [""])]  # type: ignore[attr-defined]
        for path in listing:
            if not path.endswith((".py", ".ipynb")):
                continue
            if not any(path.startswith(prefix) for prefix in include):
                continue
            shown = subprocess.run(
                ["git", f"--git-dir={git_dir}", "show", f"{commit}:{path}"],
                capture_output=True,
                check=False,
            )
            if shown.returncode:  # a file the mirror left out (too large)
                continue
            data = shown.stdout
            out = target / path
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
        stamp.write_text(commit)


def kind_of(path: str, rules: list[list[str]]) -> str:
    """The kind of code a corpus file is: the first hand-written glob that matches.

    Args:
        path: ``project/path/in/repo``.
        rules: ``[glob, kind]`` pairs from the labels file, first match wins;
            a guess from the file name when none matches.

    Returns:
        One of :data:`KINDS`.
    """
    for pattern, kind in rules:
        if fnmatch.fnmatchcase(path, pattern):
            return kind
    low = path.lower()
    name = low.rpartition("/")[2]
    if low.endswith(".ipynb"):
        return "notebook"
    if "/test" in low or name.startswith("test_") or name.endswith("_test.py"):
        return "test"
    if "bench" in low or "profil" in low:
        return "benchmark"
    if any(w in name for w in ("train", "main", "finetune", "run_", "fit", "example")):
        return "training"
    if "/examples/" in low or "/example/" in low or "/scripts/" in low:
        return "training"
    return "library"


def export(commit: str) -> Path:
    """Write the ``mlqa`` package as it was at a commit to a temporary directory.

    Args:
        commit: A commit of this repository.

    Returns:
        The directory to put on ``PYTHONPATH``.
    """
    root = HERE.parent
    target = Path(tempfile.mkdtemp(prefix="mlqa-at-"))
    names = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", commit, "mlqa"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for name in names:
        data = subprocess.run(
            ["git", "show", f"{commit}:{name}"],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout
        out = target / name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    return target


def run_check(
    findings_file: Path | None, commit: str | None, select: str = SELECT
) -> list[dict[str, object]]:
    """The corpus findings, from ``mlqa check`` or a saved JSON file.

    Args:
        findings_file: Saved ``--format json`` output; None runs mlqa.
        commit: Run mlqa as it was at this commit (None: as it is now).
        select: The rule codes to run.

    Returns:
        Dicts with path (relative to the corpus), line, column, code, message.
    """
    env = dict(os.environ)
    if commit:
        env["PYTHONPATH"] = str(export(commit))
    if findings_file is not None:
        text = findings_file.read_text()
    else:
        text = subprocess.run(
            [
                sys.executable,
                "-m",
                "mlqa",
                "check",
                "--no-cache",
                "--exit-zero",
                "--format",
                "json",
                "--select",
                select,
                ".",
            ],
            cwd=DATA,
            capture_output=True,
            text=True,
            check=False,
            env=env,
        ).stdout
    items = json.loads(text)
    if isinstance(items, dict):
        items = items.get("findings", [])
    found = []
    for item in items:
        path = str(item.get("path") or item.get("filename") or item.get("file"))
        path = path.removeprefix("./")
        found.append(
            {
                "path": path,
                "line": int(item.get("line") or item.get("row") or 0),
                "col": int(item.get("column") or item.get("col") or 0),
                "code": str(item.get("code")),
                "message": str(item.get("message", "")),
            }
        )
    return found


def _ratio(good: int, total: int) -> str:
    return f"{good / total:.2f} ({good}/{total})" if total else "- (0/0)"


def main(argv: list[str] | None = None) -> int:
    """Print precision per rule and per kind, and recall.

    Args:
        argv: Command-line arguments.

    Returns:
        0.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--findings", type=Path, default=None)
    parser.add_argument("--unlabelled", action="store_true")
    parser.add_argument("--show", type=int, default=0)
    parser.add_argument("--details", action="store_true")
    parser.add_argument("--select", default=SELECT)
    parser.add_argument(
        "--at", default=None, help="run mlqa as it was at this commit (before/after)"
    )
    parser.add_argument("--save", type=Path, default=None)
    args = parser.parse_args(argv)
    spec = json.loads(LABELS.read_text())
    extract(spec["projects"], args.mirrors)
    overrides: list[list[str]] = spec.get("kinds", [])
    labels = {
        (f"{x['project']}/{x['file']}", x["line"], x["col"], x["code"]): x
        for x in spec["findings"]
    }
    found = run_check(args.findings, args.at, args.select)
    if args.save:
        args.save.write_text(json.dumps(found, indent=1))
    by_rule: dict[str, Counter[bool]] = defaultdict(Counter)
    by_kind: dict[str, Counter[bool]] = defaultdict(Counter)
    total: Counter[bool] = Counter()
    unlabelled = []
    for f in found:
        key = (f["path"], f["line"], f["col"], f["code"])
        label = labels.get(key)
        if label is None:
            unlabelled.append(f)
            continue
        good = bool(label["label"])
        by_rule[str(f["code"])][good] += 1
        by_kind[kind_of(str(f["path"]), overrides)][good] += 1
        total[good] += 1
    print(f"findings: {len(found)}, labelled: {sum(total.values())}")
    print(f"precision: {_ratio(total[True], sum(total.values()))}")
    for code in sorted(by_rule):
        c = by_rule[code]
        print(f"  {code}: {_ratio(c[True], c[True] + c[False])}")
    for kind in KINDS:
        c = by_kind.get(kind, Counter())
        print(f"  {kind}: {_ratio(c[True], c[True] + c[False])}")
    # Recall: every true problem in the files read in full, found under one of its codes.
    found_keys = {(f["path"], f["line"], f["code"]) for f in found}
    hits = misses = 0
    missed = []
    for problem in spec.get("problems", []):
        path = f"{problem['project']}/{problem['file']}"
        if any((path, problem["line"], c) in found_keys for c in problem["codes"]):
            hits += 1
        else:
            misses += 1
            missed.append(problem)
    files = len(spec.get("recall_files", []))
    print(f"recall: {_ratio(hits, hits + misses)} over {files} files read in full")
    if args.unlabelled:
        print(f"unlabelled findings: {len(unlabelled)}")
        for f in unlabelled:
            print(f"{f['path']}:{f['line']}: {f['code']} {f['message']}")
            if args.show:
                _show(DATA / str(f["path"]), int(str(f["line"])), args.show)
        for p in missed:
            print(f"missed: {p['project']}/{p['file']}:{p['line']} {p['reason']}")
    stale = set(labels) - {(f["path"], f["line"], f["col"], f["code"]) for f in found}
    lost = sorted(k for k in stale if labels[k]["label"])
    print(
        f"labelled findings no longer reported: {len(stale)} "
        f"({len(lost)} of them true)"
    )
    if args.details:
        for f in found:
            label = labels.get((f["path"], f["line"], f["col"], f["code"]))
            if label is not None and not label["label"]:
                print(f"false: {f['path']}:{f['line']} {f['code']} {label['reason']}")
        for key in lost:
            print(f"lost true: {key[0]}:{key[1]} {key[3]} {labels[key]['reason']}")
    return 0


def _show(path: Path, line: int, around: int) -> None:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return
    for n in range(max(1, line - around), min(len(lines), line + around) + 1):
        print(f"   {'>' if n == line else ' '}{n:5} {lines[n - 1][:150]}")


if __name__ == "__main__":
    sys.exit(main())
