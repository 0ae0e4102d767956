"""``mlqa run`` wall time, this checkout vs another mlqa checkout, side by side.

Usage::

    python benchmarks/bench_run.py --before /path/to/older/mlqa/checkout \
        [--repeat N] [--skip types] [PROJECT ...]

Each PROJECT (default: ``examples/demo-project``) is checked by
``python -m mlqa run PROJECT`` twice per round, once with this checkout's
``mlqa`` on ``PYTHONPATH`` and once with the ``--before`` checkout's, the two
interleaved so that load on a shared machine hits both alike. The first round
warms caches (black's, mypy's, mlqa's) and is not counted; the median and the
minimum of the other rounds are reported with the ratio after/before (goal:
<= 1.0, "no slower than today").

For a 250+ file repository, materialise a real one first, e.g. timm from a
mirror: ``git --git-dir=MIRROR ls-tree -r HEAD --name-only`` and ``git show
HEAD:path`` for each ``.py``/``.ipynb`` file, then ``git init`` + commit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def once(checkout: Path, project: str, skip: list[str]) -> tuple[float, int]:
    env = dict(os.environ, PYTHONPATH=str(checkout), OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "mlqa", "run", project]
    command += [f"--skip={s}" for s in skip]
    started = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, check=False)
    return time.perf_counter() - started, proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "projects", nargs="*", default=[str(ROOT / "examples/demo-project")]
    )
    ap.add_argument("--before", type=Path, required=True, help="older mlqa checkout")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip", action="append", default=[])
    args = ap.parse_args()
    print(f"{'project':<40} {'before s':>9} {'after s':>9} {'ratio':>6}  exit b/a")
    for project in args.projects:
        times: dict[str, list[float]] = {"before": [], "after": []}
        codes = {}
        for round_ in range(args.repeat + 1):
            for label, checkout in (("before", args.before), ("after", ROOT)):
                seconds, code = once(checkout, project, args.skip)
                codes[label] = code
                if round_:
                    times[label].append(seconds)
        before = statistics.median(times["before"])
        after = statistics.median(times["after"])
        name = Path(project).name
        print(
            f"{name:<40} {before:>9.2f} {after:>9.2f} {after / before:>6.2f}"
            f"  {codes['before']}/{codes['after']}"
            f"   (min {min(times['before']):.2f} / {min(times['after']):.2f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
