"""Benchmark ``mlqa check`` against a bare ``ast.parse`` of the same files, in one run.

Corpus: the Python sources of the installed ``torch`` package (``nn``, ``optim``,
``utils``, ``distributed``: about 250k lines), copied under
``benchmarks/data/bench_check/corpus`` with a ``pyproject.toml`` so the cache
is written there; ``--source DIR`` uses another tree instead.

Measured (wall time: median of ``--repeat`` runs; CPU time of the process:
the minimum; every command a fresh process):

1. bare: ``python -c`` reading and ``ast.parse``-ing every file;
2. cold: ``mlqa check --no-cache --exit-zero corpus`` (goal: <= 1.3x bare);
3. warm: ``mlqa check --exit-zero corpus`` with the cache filled (goal: <= 0.25x cold);
4. hook: ``mlqa check f1 .. f10`` on 10 training-like files, as pre-commit runs
   it, vs ``python -c pass`` (goal: <= 8x);
5. in-process: the per-file engine work (``mlqa.check.analyze`` serially) vs
   ``ast.parse`` in the same process, without start-up or the process pool;
   and the whole check serially vs with the process pool.

Run: ``python benchmarks/bench_check.py [--source DIR] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import ast
import gc
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "bench_check"
PARTS = ("nn", "optim", "utils", "distributed")
BARE = (
    "import ast, sys, pathlib\n"
    "for p in sorted(pathlib.Path(sys.argv[1]).rglob('*.py')):\n"
    "    try:\n"
    "        ast.parse(p.read_bytes())\n"
    "    except (SyntaxError, ValueError):\n"
    "        pass\n"
)
HOOK_FILES = """\
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.{i}))
        self.head = nn.Linear(256, 10)

    def forward(self, x):
        return self.head(self.body(x.flatten(1)))


def train(dataset, args):
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = Net().to(device)
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True)
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    for epoch in range(args.epochs):
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            loss = nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model
"""


def prepare(source: Path | None) -> Path:
    """Copy the corpus into benchmarks/data (once) and return its directory."""
    corpus = DATA / ("corpus" if source is None else f"corpus-{source.name}")
    if not corpus.exists():
        tmp = corpus.with_suffix(".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        if source is None:
            import importlib.util

            spec = importlib.util.find_spec("torch")
            if spec is None or spec.origin is None:
                sys.exit("torch is not installed; pass --source DIR")
            torch_dir = Path(spec.origin).parent
            for part in PARTS:
                shutil.copytree(
                    torch_dir / part, tmp / "torch" / part, ignore=_only_python
                )
        else:
            shutil.copytree(source, tmp, ignore=_only_python)
        (tmp / "pyproject.toml").write_text("[project]\nname = 'bench'\n")
        tmp.rename(corpus)
    hook = DATA / "hook"
    hook.mkdir(parents=True, exist_ok=True)
    (hook / "pyproject.toml").write_text("[project]\nname = 'hook'\n")
    for i in range(10):
        (hook / f"train_{i}.py").write_text(HOOK_FILES.format(i=i))
    return corpus


def _only_python(directory: str, names: list[str]) -> list[str]:
    return [
        n
        for n in names
        if not n.endswith(".py")
        and not os.path.isdir(os.path.join(directory, n))
        or n == "__pycache__"
    ]


# Installed packages have their bytecode cached; PYTHONDONTWRITEBYTECODE (set in
# some sandboxes) would make every run recompile mlqa and misstate start-up.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


class Timing(NamedTuple):
    """Wall time (median) and CPU time of the process (minimum), in seconds."""

    wall: float
    cpu: float


def timed(cmd: list[str], repeat: int, cwd: Path | None = None) -> Timing:
    """Time a command (after one warm-up run).

    CPU time (user + system of the child) is reported beside wall time: on a
    shared machine wall time also measures waiting for a core.

    Args:
        cmd: The command line.
        repeat: How many timed runs.
        cwd: The working directory (default: the current one).

    Returns:
        The median wall time and the minimum CPU time.
    """
    subprocess.run(cmd, cwd=cwd, capture_output=True, env=ENV)
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=ENV)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if result.returncode not in (0, 1):
            sys.exit(
                f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stderr[-2000:]}"
            )
    return Timing(statistics.median(walls), min(cpus))


def line(label: str, this: Timing, base: Timing | None = None, goal: str = "") -> None:
    """Print one measurement, with its ratios to a baseline."""
    text = f"{label:32s} wall {this.wall:7.3f} s  cpu {this.cpu:7.3f} s"
    if base is not None:
        text += f"   ratio wall {this.wall / base.wall:5.2f}x  cpu {this.cpu / base.cpu:5.2f}x"
    print(text + (f"  (goal {goal})" if goal else ""))


def main() -> None:
    """Run the benchmark and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source", type=Path, help="a Python tree to use instead of torch"
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    corpus = prepare(args.source)
    files = sorted(corpus.rglob("*.py"))
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    mlqa = [sys.executable, "-m", "mlqa"]
    exe = Path(sys.executable).with_name("mlqa")
    if exe.exists():
        mlqa = [str(exe)]
    print(
        f"corpus: {corpus} ({len(files)} files, {lines} lines); cpus: {os.cpu_count()}"
    )

    bare = timed([sys.executable, "-c", BARE, str(corpus)], args.repeat)
    cold = timed(
        [*mlqa, "check", "--no-cache", "--exit-zero", str(corpus)], args.repeat
    )
    shutil.rmtree(corpus / ".mlqa_cache", ignore_errors=True)
    subprocess.run(
        [*mlqa, "check", "--exit-zero", str(corpus)], capture_output=True, env=ENV
    )
    warm = timed([*mlqa, "check", "--exit-zero", str(corpus)], args.repeat)

    hook_dir = DATA / "hook"
    names = [f"train_{i}.py" for i in range(10)]
    reps = max(5, args.repeat * 3)
    python_pass = timed([sys.executable, "-c", "pass"], reps)
    hook_cold = timed([*mlqa, "check", "--no-cache", *names], reps, cwd=hook_dir)
    subprocess.run([*mlqa, "check", *names], cwd=hook_dir, capture_output=True, env=ENV)
    hook_warm = timed([*mlqa, "check", *names], reps, cwd=hook_dir)

    from mlqa.check import analyze
    from mlqa.rules.engine import Options

    sources = [p.read_bytes() for p in files]
    gc.disable()  # as mlqa check does, for both
    # Interleaved file by file, CPU time: drift and other processes cancel out.
    parse_in = engine_in = 0.0
    found = 0
    options = Options()
    for path, data in zip(files, sources, strict=True):
        start = time.process_time()
        try:  # noqa: SIM105 (the plainest loop is the baseline)
            ast.parse(data)
        except (SyntaxError, ValueError):
            pass
        parse_in += time.process_time() - start
        start = time.process_time()
        found += len(analyze(data, str(path), False, options)[0])
        engine_in += time.process_time() - start

    import contextlib
    import io

    import mlqa.check

    gc.enable()
    pool_times = {}
    cpus = os.cpu_count() or 1
    for label, jobs in (("serial", 1), ("pool", max(2, min(cpus, 8)))):
        os.environ["MLQA_JOBS"] = str(jobs)
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            mlqa.check.main(["--no-cache", "--exit-zero", str(corpus)])
        pool_times[label] = time.perf_counter() - start
    del os.environ["MLQA_JOBS"]

    line("bare ast.parse (process)", bare)
    line("mlqa check --no-cache (cold)", cold, bare, "<= 1.3x bare")
    line("mlqa check, warm cache", warm, cold, "<= 0.25x cold")
    line("python -c pass", python_pass)
    line("hook: mlqa check 10 files", hook_cold, python_pass, "<= 8x; no cache")
    line("hook: mlqa check 10 files", hook_warm, python_pass, "cache")
    print(
        f"in-process, cpu, no gc: ast.parse {parse_in:.3f} s, analyze {engine_in:.3f} s, "
        f"ratio {engine_in / parse_in:5.2f}x ({found} findings)"
    )
    print(
        f"in-process mlqa check: serial {pool_times['serial']:.3f} s, process pool "
        f"{pool_times['pool']:.3f} s ({cpus} cpus; mlqa uses the pool from "
        f"{mlqa.check.PARALLEL_MIN_FILES} files on 2 or more cpus)"
    )


if __name__ == "__main__":
    main()
