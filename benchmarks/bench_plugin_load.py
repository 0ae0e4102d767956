"""What mlqa's pytest plugin costs a test run that never uses it.

Run: python benchmarks/bench_plugin_load.py [--repeat N]

1. Wall time of ``python -m pytest`` on a tiny suite, with the plugin (it loads
   through the ``pytest11`` entry point) and without it (``-p no:mlqa``),
   interleaved; the difference of the medians and of the minimums. Goal: <= 30 ms.
2. The in-process import time of ``mlqa.pytest_plugin`` after pytest is loaded,
   in fresh interpreters (the part of (1) that is the plugin's own).
3. Proof that nothing heavy is imported: the suite's test asserts that torch,
   numpy, hypothesis-strategies of mlqa and mlqa.testing are not in sys.modules.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SUITE = """
import sys

def test_nothing_heavy_is_imported(pytestconfig):
    if pytestconfig.pluginmanager.has_plugin("mlqa"):
        assert "mlqa.pytest_plugin" in sys.modules
    for name in ("torch", "mlqa.testing", "mlqa.strategies", "mlqa.config"):
        assert name not in sys.modules, name
"""

IMPORT_COST = """
import time, pytest
start = time.perf_counter()
import mlqa.pytest_plugin
print((time.perf_counter() - start) * 1e3)
"""


def run(args: list[str], cwd: Path) -> tuple[float, float]:
    """Run pytest once; return (wall seconds, CPU seconds of the child)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"pytest {' '.join(args)} failed:\n{output}")
    return elapsed, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        (cwd / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
        (cwd / "test_suite.py").write_text(SUITE)
        run([], cwd)  # warm the OS caches; also the torch-not-imported proof
        runs: dict[str, list[tuple[float, float]]] = {"with": [], "without": []}
        for i in range(args.repeat):  # ABBA order, so drifting load hits both
            order = ["with", "without"] if i % 2 == 0 else ["without", "with"]
            for name in order:
                runs[name].append(run([] if name == "with" else ["-p", "no:mlqa"], cwd))
    print(f"pytest on a 1-test suite, {args.repeat} interleaved runs each (ms)")
    print(
        f"{'':14} {'wall median':>12} {'wall min':>9} {'cpu median':>11} {'cpu min':>8}"
    )
    stats = {}
    for name, label in (("with", "with mlqa"), ("without", "-p no:mlqa")):
        wall = [w * 1e3 for w, _ in runs[name]]
        cpu = [c * 1e3 for _, c in runs[name]]
        stats[name] = (
            statistics.median(wall),
            min(wall),
            statistics.median(cpu),
            min(cpu),
        )
        print(
            f"{label:14} {stats[name][0]:12.1f} {stats[name][1]:9.1f} {stats[name][2]:11.1f} {stats[name][3]:8.1f}"
        )
    diff = [a - b for a, b in zip(stats["with"], stats["without"], strict=True)]
    print(
        f"{'plugin cost':14} {diff[0]:+12.1f} {diff[1]:+9.1f} {diff[2]:+11.1f} {diff[3]:+8.1f}   (goal <= 30 ms)"
    )
    costs = [
        float(
            subprocess.run(
                [sys.executable, "-c", IMPORT_COST],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(args.repeat)
    ]
    print(
        f"import mlqa.pytest_plugin after pytest: median {statistics.median(costs):.2f} ms, min {min(costs):.2f} ms"
    )
    print(
        "torch, mlqa.testing, mlqa.strategies, mlqa.config: not imported (asserted by the suite's test)"
    )


if __name__ == "__main__":
    main()
