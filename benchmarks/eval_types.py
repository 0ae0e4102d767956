"""Labelled evaluation of ``mlqa types`` on real PyTorch repositories.

Each repository is read from a local git mirror (``fetch github:OWNER/NAME``
puts it under ``/work/.mirror/OWNER+NAME/repo``; any bare clone works: pass
``--mirrors DIR``). The script exports the pinned commit's Python files with
``git show COMMIT:PATH`` into ``benchmarks/data/types/<repo>/`` (git-ignored;
re-created on every run), then type-checks them twice, with torch installed:

- **before**: what ``mlqa types`` did before the torch plugin: mypy with
  mlqa's preset as it was then (``PRESET_BEFORE``), one finding per mypy
  error line;
- **after**: ``mlqa types`` as shipped (preset with ``mlqa.mypy_plugin``, one
  finding per ``**`` expansion).

Files are checked one directory at a time (``examples/mnist``...), as each is
its own script: mypy refuses two top-level modules with the same name. Every
finding is matched against the hand labels in ``benchmarks/labels/types.json``
(``real``: the maintainer would fix the code; ``false``: the code is right).
An unlabelled finding is printed and counts as unlabelled: label it, rerun.

Run: ``python benchmarks/eval_types.py [--mirrors DIR] [--only REPO,...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data" / "types"
LABELS = HERE / "labels" / "types.json"
# mlqa's mypy preset before the plugin (commit 92f380f), comments left out.
PRESET_BEFORE = """[mypy]
ignore_missing_imports = True
follow_imports = silent
check_untyped_defs = True
no_implicit_optional = True
strict_equality = True
warn_redundant_casts = True
warn_unreachable = False
explicit_package_bases = True
"""

# repo -> (mirror name, pinned commit, directories to check; "" = repo root).
REPOS: dict[str, tuple[str, str, list[str]]] = {
    "nanoGPT": (
        "karpathy+nanoGPT",
        "3adf61e154c3fe3fca428ad6bc3818b27a3b8291",
        ["", "config"],
    ),
    "minGPT": (
        "karpathy+minGPT",
        "37baab71b9abea1b76ab957409a1cc2fbfba8a26",
        ["mingpt", "projects/adder", "projects/chargpt"],
    ),
    "Made-With-ML": (
        "GokuMohandas+Made-With-ML",
        "66e8e437115029422db1a80ff93c308cfcd82648",
        ["madewithml", "deploy/services"],
    ),
    # Held out: labelled (by a helper, spot-checked) after the plugin and the
    # filters were written, to see whether they carry over to new code.
    "dino": (
        "facebookresearch+dino",
        "7c446df5b9f45747937fb0d72314eb9f7b66930a",
        [""],
    ),
    "whisper": (
        "openai+whisper",
        "c0d2f624c09dc18e709e37c2ad90c039a4eb72a2",
        ["whisper"],
    ),
    "LLMs-from-scratch": (
        "rasbt+LLMs-from-scratch",
        "28c65cdfbc3338e2e040016eea4b7fdf556e4d57",
        ["**"],
    ),
    "pytorch-tutorial": (
        "yunjey+pytorch-tutorial",
        "0500d3df5a2a8080ccfccbc00aca0eacc21818db",
        ["**"],
    ),
    # Held out again, after the untyped-function and run-time-idiom filters
    # (the four above had become tuning data): labelled by helpers given the
    # written definition, spot-checked.
    "CLIP": (
        "openai+CLIP",
        "d05afc436d78f1c48dc0dbf8e5980a9d471f35f6",
        ["**"],
    ),
    "segment-anything": (
        "facebookresearch+segment-anything",
        "dca509fe793f601edb92606367a655c15ac00fdf",
        ["**"],
    ),
    "detr": (
        "facebookresearch+detr",
        "29901c51d7fe8712168b8d0d64351170bc0f83e0",
        ["**"],
    ),
    "denoising-diffusion": (
        "lucidrains+denoising-diffusion-pytorch",
        "faed4db28e724735323fa91c70aa9b28a6e1cbac",
        ["**"],
    ),
    # Held out at the end of the work on this issue: measured once, labelled
    # afterwards, not tuned on.
    "mae": ("facebookresearch+mae", "efb2a8062c206524e35e47d04501ed4f544c0ae8", ["**"]),
    "DiT": ("facebookresearch+DiT", "ed81ce2229091fd4ecc9a223645f95cf379d582b", ["**"]),
    "vit-pytorch": (
        "lucidrains+vit-pytorch",
        "69d24fe9e3024c0d4b02761123b8583a24ebed1e",
        ["**"],
    ),
    "alpaca-lora": (
        "tloen+alpaca-lora",
        "8bb8579e403dc78e37fe81ffbb253c413007323f",
        ["**"],
    ),
    "examples": (
        "pytorch+examples",
        "77f55b912142e11fcfdf5b530231fb9c52f181e8",
        [
            "dcgan",
            "distributed/ddp",
            "distributed/ddp-tutorial-series",
            "distributed/FSDP2",
            "distributed/minGPT-ddp/mingpt",
            "fast_neural_style/neural_style",
            "gat",
            "gcn",
            "imagenet",
            "mnist",
            "mnist_forward_forward",
            "mnist_rnn",
            "regression",
            "reinforcement_learning",
            "siamese_network",
            "super_resolution",
            "time_sequence_prediction",
            "vae",
            "word_language_model",
        ],
    ),
}
#: Which repositories were tuning data and which held out, for the subtotals.
GROUPS = {
    "tuned on": ("nanoGPT", "minGPT", "Made-With-ML", "examples"),
    "held out, then tuned on": (
        "dino",
        "whisper",
        "LLMs-from-scratch",
        "pytorch-tutorial",
    ),
    "held out, then tuned on (2)": (
        "CLIP",
        "segment-anything",
        "detr",
        "denoising-diffusion",
    ),
    "held out (final)": ("mae", "DiT", "vit-pytorch", "alpaca-lora"),
}
_LINE = re.compile(
    r"^(?P<path>.+?):(?P<line>\d+):(?:\d+:)? error: (?P<msg>.*?)"
    r"(?:  \[(?P<code>[a-z0-9-]+)\])?$"
)


_CODE = re.compile(r"^mypy\[(.*)\]$")


def export(repo: str, mirrors: Path) -> Path:
    """Write the pinned commit's Python files of one repo under DATA."""
    mirror, commit, _ = REPOS[repo]
    git_dir = mirrors / mirror / "repo"
    if not git_dir.exists():
        sys.exit(f"{git_dir}: no mirror; run: fetch github:{mirror.replace('+', '/')}")
    dest = DATA / repo
    for old in dest.glob("*"):  # keep the mypy caches: warm reruns
        if not old.name.startswith(".mypy_cache"):
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    names = subprocess.run(
        ["git", f"--git-dir={git_dir}", "ls-tree", "-r", "--name-only", commit],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    for name in names:
        if name.endswith(".py"):
            blob = subprocess.run(
                ["git", f"--git-dir={git_dir}", "show", f"{commit}:{name}"],
                capture_output=True, check=True,
            ).stdout  # fmt: skip
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_bytes(blob)
    (dest / "pyproject.toml").write_text(f"[project]\nname = '{repo.lower()}'\n")
    return dest


def units(root: Path, dirs: list[str]) -> list[list[str]]:
    """Return the file lists to check, one per directory (not recursive).

    Args:
        root: The exported repository.
        dirs: Its directories to check; ``["**"]``: every one holding Python files.

    Returns:
        One sorted list of files per directory that has any.
    """
    if dirs == ["**"]:
        dirs = sorted({str(p.parent.relative_to(root)) for p in root.rglob("*.py")})
    return [
        files
        for d in dirs
        if (files := sorted(str(p) for p in (root / d).glob("*.py")))
    ]


def after(root: Path, files: list[str]) -> list[tuple[str, int, str, str]]:
    """Run ``mlqa types`` as shipped; return (path, line, code, message)."""
    out = subprocess.run(
        [sys.executable, "-m", "mlqa", "types", "--format", "json", *files],
        cwd=root, capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    return [  # codes print as mypy[code]: labels use mypy's own code
        (item["path"], item["line"], _CODE.sub(r"\1", item["code"]), item["message"])
        for item in json.loads(out or "[]")
    ]


def before(root: Path, files: list[str]) -> list[tuple[str, int, str, str]]:
    """Run mypy as mlqa did before the plugin: the old preset, no collapsing."""
    config = Path(tempfile.mkdtemp()) / "mypy.ini"
    config.write_text(PRESET_BEFORE)
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config),
         "--cache-dir", str(root / ".mypy_cache_before"), "--show-error-codes",
         "--no-error-summary", "--hide-error-context", "--no-pretty",
         "--no-color-output", *files],
        cwd=root, capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    found = []
    for raw in out.splitlines():
        m = _LINE.match(raw)
        if m:
            path = os.path.relpath(os.path.join(root, m["path"]), root)
            found.append((path, int(m["line"]), m["code"] or "misc", m["msg"]))
    return found


def key(repo: str, item: tuple[str, int, str, str]) -> str:
    """Return the label key of one finding (messages as mypy prints them)."""
    path, line, code, message = item
    return f"{repo}/{path}:{line}: [{code}] {message}"


def score(name: str, found: list[str], labels: dict[str, str]) -> int:
    """Print precision for one condition; return the number of real findings."""
    counts = Counter(labels.get(k, "unlabelled") for k in found)
    real, false = counts["real"], counts["false"]
    precision = real / (real + false) if real + false else 1.0
    print(
        f"{name:>7}: {len(found):3} findings, {real:3} real, {false:3} false, "
        f"{counts['unlabelled']:3} unlabelled, precision {precision:.2f}"
    )
    return real


def main() -> int:
    """Run the evaluation and print before/after per repo and in total."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    ap.add_argument("--only", default=",".join(REPOS))
    ap.add_argument("--show", action="store_true", help="print every finding")
    args = ap.parse_args()
    labels = {k: v["label"] for k, v in json.loads(LABELS.read_text()).items()}
    totals: dict[str, list[str]] = {"before": [], "after": []}
    per_repo: dict[str, list[str]] = {}
    for repo in args.only.split(","):
        root = export(repo, args.mirrors)
        results: dict[str, list[str]] = {"before": [], "after": []}
        for files in units(root, REPOS[repo][2]):
            rel = [os.path.relpath(f, root) for f in files]
            results["before"] += [key(repo, i) for i in before(root, rel)]
            results["after"] += [key(repo, i) for i in after(root, rel)]
        per_repo[repo] = results["after"]
        print(f"== {repo} ({REPOS[repo][1][:8]})")
        for name, found in results.items():
            score(name, found, labels)
            totals[name] += found
            for k in found:
                if args.show or (k not in labels and name == "after"):
                    print(f"    {name} {labels.get(k, 'UNLABELLED')}: {k}")
    for group, members in GROUPS.items():
        if any(m in per_repo for m in members):
            print(f"== {group}: {', '.join(m for m in members if m in per_repo)}")
            score("after", [k for m in members for k in per_repo.get(m, [])], labels)
    print("== total")
    real_before = score("before", totals["before"], labels)
    real_after = score("after", totals["after"], labels)
    lost = {k for k in totals["before"] if labels.get(k) == "real"} - set(
        totals["after"]
    )
    print(f"real findings before {real_before}, after {real_after}; lost: {len(lost)}")
    for k in sorted(lost):
        print(f"    lost real: {k}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
