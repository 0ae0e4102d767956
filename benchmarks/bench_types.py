"""Cost of mlqa.mypy_plugin: ``mlqa types`` with and without it, warm and cold.

Usage:  python benchmarks/bench_types.py [--repeat N] [--cold N]

Corpus: nanoGPT's model.py, train.py, sample.py and bench.py at the commit
``eval_types.py`` pins (exported from the git mirror by that script's
``export``; torch installed). Two copies of it are checked through
``python -m mlqa types``, as the ``mlqa-types-system`` hook runs it:

- ``on``: no ``[tool.mypy]``, so mlqa's preset applies, plugin included;
- ``off``: a ``[tool.mypy]`` with the same preset settings minus ``plugins``.

Three timings per copy, each the median of N runs, the copies interleaved
(wall and the CPU time of the child process, which is steadier on a shared
machine):

- ``warm``: nothing changed since the last run (the cache answers);
- ``warm-edit``: train.py edited before each run (mypy rechecks it, the
  plugin runs): the usual pre-commit case;
- ``cold``: no cache (mypy analyses torch itself).

Goal: ``on`` is at most 10% slower than ``off`` warm; cold about the same.
"""

from __future__ import annotations

import argparse
import configparser
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import eval_types  # noqa: E402  (the benchmarks folder is not a package)

FILES = ["model.py", "train.py", "sample.py", "bench.py"]
PRESET = HERE.parent / "mlqa" / "presets" / "mypy.ini"


def setup(mirrors: Path) -> dict[str, Path]:
    """Make the ``on`` and ``off`` copies of the corpus."""
    source = eval_types.export("nanoGPT", mirrors)
    base = HERE / "data" / "bench-types"
    shutil.rmtree(base, ignore_errors=True)
    ini = configparser.ConfigParser()
    ini.read(PRESET)
    settings = "\n".join(
        f"{key} = {'true' if value == 'True' else 'false' if value == 'False' else repr(value)}"
        for key, value in ini["mypy"].items()
        if key != "plugins"
    )
    roots = {}
    for name, pyproject in (
        ("on", "[project]\nname = 'on'\n"),
        ("off", f"[project]\nname = 'off'\n\n[tool.mypy]\n{settings}\n"),
    ):
        root = base / name
        root.mkdir(parents=True)
        for f in FILES:
            shutil.copy(source / f, root / f)
        (root / "pyproject.toml").write_text(pyproject)
        roots[name] = root
    return roots


def once(root: Path) -> tuple[float, float]:
    """Run ``mlqa types`` once; return (wall, child CPU) seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "mlqa", "types", *FILES],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def prepare(root: Path, mode: str, i: int) -> None:
    """Put one copy in the state a run in this mode starts from."""
    if mode == "cold":
        shutil.rmtree(root / ".mypy_cache", ignore_errors=True)
    elif mode == "warm-edit":
        with (root / "train.py").open("a") as f:
            f.write(f"\n_bench_edit_{i} = {i}\n")


def main() -> int:
    """Print the timings side by side with the on/off ratio."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    ap.add_argument("--repeat", type=int, default=7, help="warm runs per mode")
    ap.add_argument("--cold", type=int, default=2, help="cold runs per copy")
    args = ap.parse_args()
    roots = setup(args.mirrors)
    for root in roots.values():
        once(root)  # fill the cache
    print(
        f"{'mode':<10} {'off wall':>9} {'on wall':>9} {'off cpu':>9} {'on cpu':>9} {'cpu ratio':>9}"
    )
    for mode, repeat in (
        ("warm", args.repeat),
        ("warm-edit", args.repeat),
        ("cold", args.cold),
    ):
        if not repeat:
            continue
        runs: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
        for i in range(repeat):  # interleaved, alternating who goes first
            for name in ("off", "on") if i % 2 == 0 else ("on", "off"):
                prepare(roots[name], mode, i)
                runs[name].append(once(roots[name]))
        got = {
            name: (
                statistics.median(r[0] for r in found),
                statistics.median(r[1] for r in found),
            )
            for name, found in runs.items()
        }
        ratio = got["on"][1] / got["off"][1]
        print(
            f"{mode:<10} {got['off'][0]:9.2f} {got['on'][0]:9.2f} "
            f"{got['off'][1]:9.2f} {got['on'][1]:9.2f} {ratio:9.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
