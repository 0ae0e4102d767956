"""Run ``mlqa check`` on real ML code from PyPI sdists, for hand-checking.

Downloads (once) the sdists of packages that ship training scripts, examples
or notebooks (``pip download --no-deps --no-binary :all:``), unpacks them
under ``benchmarks/data/eval``, runs ``mlqa check`` on each and prints the
counts per rule; the findings go to ``benchmarks/data/eval/<name>.txt`` for
reading. The results of the last hand-check are in the closing note of the
issue (and in the report of the session that wrote this).

The hand-labelled evaluation (precision per rule and kind of code, recall on
files read in full, before/after) is ``benchmarks/eval_rules.py``.

Run: ``python benchmarks/eval_check.py [PACKAGE ...]``.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
PACKAGES = ("pytorch-ignite", "lightning", "timm", "accelerate", "d2l", "transformers")


def fetch(package: str) -> Path | None:
    """Download and unpack one sdist; return its directory."""
    sdists = DATA / "sdists"
    sdists.mkdir(parents=True, exist_ok=True)
    stem = package.replace("-", "_").lower()
    found = [
        p
        for p in sdists.glob("*.tar.gz")
        if p.name.replace("-", "_").lower().startswith(stem)
    ]
    if not found:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--no-binary",
                ":all:",
                package,
                "-d",
                str(sdists),
            ],
            check=False,
        )
        found = [
            p
            for p in sdists.glob("*.tar.gz")
            if p.name.replace("-", "_").lower().startswith(stem)
        ]
    if not found:
        print(f"{package}: no sdist could be downloaded")
        return None
    archive = sorted(found)[-1]
    target = DATA / "eval"
    name = archive.name[: -len(".tar.gz")]
    if not (target / name).exists():
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
    return target / name


def main() -> None:
    """Fetch, check and summarise."""
    packages = sys.argv[1:] or list(PACKAGES)
    mlqa = [sys.executable, "-m", "mlqa", "check", "--no-cache", "--exit-zero"]
    for package in packages:
        directory = fetch(package)
        if directory is None:
            continue
        files = sum(1 for _ in directory.rglob("*.py")) + sum(
            1 for _ in directory.rglob("*.ipynb")
        )
        start = time.perf_counter()
        result = subprocess.run(
            [*mlqa, "."], cwd=directory, capture_output=True, text=True
        )
        seconds = time.perf_counter() - start
        report = DATA / "eval" / f"{directory.name}.txt"
        report.write_text(result.stdout + result.stderr)
        stats = subprocess.run(
            [*mlqa, "--statistics", "."], cwd=directory, capture_output=True, text=True
        ).stdout
        count = len(result.stdout.splitlines())
        print(
            f"== {directory.name}: {files} files, {count} findings, {seconds:.1f} s -> {report}"
        )
        print(stats.rstrip() or "   (no findings)")
        if result.stderr:
            print(
                f"   {len(result.stderr.splitlines())} unreadable/unparsable files (see report)"
            )


if __name__ == "__main__":
    main()
