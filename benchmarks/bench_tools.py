"""Wrapper overhead of each tool hook vs calling the tool directly, side by side.

Usage:  python benchmarks/bench_tools.py [--repeat N] [--only ...] [--repo PATH]

Corpus: a copy of real PyTorch library code shipped in the installed torch
wheel (torch/nn, torch/optim, torch/utils/data, torch/distributions: ~250
files, ~80k lines) in benchmarks/data/tools-corpus, with a pyproject.toml that
has no tool config so mlqa's presets apply and the direct calls get the same
preset files. For the types hook, the torch-using demo project is checked in
its own environment (torch installed), warm cache, like a re-run of the
``mlqa-types-system`` hook.

Each command runs as a subprocess, as pre-commit runs it; the median of N runs
is reported with the ratio wrapper/direct (goal: <= 1.10) and, for types, the
warm wall time (goal: <= 1 s).

With ``--repo PATH`` (a git repo of 250+ Python files, e.g. a copy of timm),
two more rows: ``mlqa run`` with only format and lint vs bare ``black
--check .`` plus ``ruff check .`` (each tool with its own defaults and cache,
as a user runs them; goal <= 1.1x), and ``mlqa lint`` vs ``ruff check`` with
the settings mlqa passes it (the preset, the project's target-version) on the
repo's first 250 files (both with ruff's cache; goal <= 1.3x). ``--only
repo-run,repo-lint`` runs just those. The commands of a row run interleaved,
one run each per round, so drift on a busy machine hits them alike.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch  # only to locate the corpus

from mlqa.config import load as load_config
from mlqa.tools.layering import ruff_options

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data" / "tools-corpus"
PRESETS = ROOT / "mlqa" / "presets"
BIN = Path(sys.executable).parent
DEMO = ROOT / "examples" / "demo-project"


def build_corpus() -> list[str]:
    if not DATA.exists():
        src = Path(torch.__file__).parent
        for sub in ("nn", "optim", "utils/data", "distributions"):
            shutil.copytree(
                src / sub, DATA / sub, ignore=shutil.ignore_patterns("__pycache__")
            )
        (DATA / "pyproject.toml").write_text("[project]\nname = 'corpus'\n")
    files = sorted(str(p.relative_to(DATA)) for p in DATA.rglob("*.py"))
    lines = sum(len((DATA / f).read_text(errors="replace").splitlines()) for f in files)
    print(f"corpus: {len(files)} files, {lines} lines of torch library code")
    return files


def timed(
    cmd: list[str], cwd: Path, env: dict[str, str], repeat: int, fresh_cache: bool
) -> float:
    times = []
    for _ in range(repeat):
        run_env = dict(env)
        if fresh_cache:
            run_env["BLACK_CACHE_DIR"] = tempfile.mkdtemp(prefix="black-cache-")
        started = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=run_env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)  # fmt: skip
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--only", default="format,lint,docstrings,types,repo-run,repo-lint",
        help="comma-separated subset of: format, lint, docstrings, types, repo-run,"
        " repo-lint",
    )  # fmt: skip
    ap.add_argument("--repo", type=Path, help="a 250+ file git repo for the repo rows")
    args = ap.parse_args()
    only = set(args.only.split(","))
    files = build_corpus() if only & {"format", "lint", "docstrings"} else []
    # Bytecode caching on, as in a normal install: with PYTHONDONTWRITEBYTECODE
    # set, an editable install recompiles every mlqa module on every run.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    mlqa = [str(BIN / "mlqa")]
    rows: list[tuple[str, float, float]] = []

    def compare(name: str, direct: list[list[str]], wrapper: list[str], cwd: Path = DATA,
                fresh: bool = False, also: str = "") -> None:  # fmt: skip
        """Time the direct commands and the wrapper, interleaved; add a row.

        Args:
            name: The row's name (its first word is what ``--only`` selects).
            direct: The bare tool commands (their times are summed).
            wrapper: The mlqa command.
            cwd: Where the commands run.
            fresh: Give black a fresh cache on every run.
            also: If set, a second row of that name: the wrapper again with no
                saved lint command (``mlqa.early``), as on a first run.
        """
        if name.split()[0] not in only:
            return
        saved = cwd / ".mlqa_cache" / "lint-command"
        wrappers = [(wrapper, False)] + ([(wrapper, True)] if also else [])
        # warm up all once (file system cache, mypy cache)
        for cmd in (*direct, wrapper):
            timed(cmd, cwd, env, 1, fresh)
        # interleaved, one run of each per round, so drift hits all alike
        times: list[list[float]] = [[] for _ in range(len(direct) + len(wrappers))]
        for _ in range(args.repeat):
            for i, cmd in enumerate(direct):
                times[i].append(timed(cmd, cwd, env, 1, fresh))
            for j, (cmd, forget) in enumerate(wrappers, start=len(direct)):
                if forget:
                    saved.unlink(missing_ok=True)
                times[j].append(timed(cmd, cwd, env, 1, fresh))
        medians = [statistics.median(t) for t in times]
        d = sum(medians[: len(direct)])
        rows.append((name, d, medians[len(direct)]))
        if also:
            rows.append((also, d, medians[-1]))

    compare(
        "format (black --check, cold cache)",
        [[str(BIN / "black"), "--check", "-q", *files]],
        [*mlqa, "format", "--check", *files],
        fresh=True,
    )
    compare(
        "format (black --check, warm cache)",
        [[str(BIN / "black"), "--check", "-q", *files]],
        [*mlqa, "format", "--check", *files],
    )
    compare(
        "lint (ruff check)",
        [[str(BIN / "ruff"), "check", "--no-cache", "--config", str(PRESETS / "ruff.toml"),
          "--output-format", "concise", *files]],
        [*mlqa, "lint", *files],
    )  # fmt: skip
    compare(
        "docstrings (ruff D + pydoclint)",
        [
            [str(BIN / "ruff"), "check", "--no-cache", "--config",
             str(PRESETS / "ruff-docstrings.toml"), "--output-format", "concise", *files],
            [str(BIN / "pydoclint"), "--style=google", "--arg-type-hints-in-docstring=False",
             "--check-return-types=False", "--check-yield-types=False", "--quiet", *files],
        ],
        [*mlqa, "docstrings", *files],
    )  # fmt: skip
    demo_files = sorted(str(p.relative_to(DEMO)) for p in DEMO.rglob("*.py"))
    cache = DEMO / ".mypy_cache"
    compare(
        "types (mypy, warm cache, torch-using demo)",
        [[str(BIN / "mypy"), "--config-file", str(PRESETS / "mypy.ini"), "--cache-dir",
          str(cache), "--show-column-numbers", "--no-error-summary", *demo_files]],
        [*mlqa, "types", *demo_files],
        cwd=DEMO,
    )  # fmt: skip
    if args.repo is not None:
        repo = args.repo.resolve()
        listed = subprocess.run(
            ["git", "ls-files", "*.py"], cwd=repo, capture_output=True, text=True,
            check=True,
        ).stdout.split()[:250]  # fmt: skip
        print(f"repo: {repo} ({len(listed)} files for the lint row)")
        skip = [a for step in ("types", "docstrings", "notebooks", "rules")
                for a in ("--skip", step)]  # fmt: skip
        compare(
            "repo-run (mlqa run: format + lint)",
            [[str(BIN / "black"), "--check", "-q", "."],
             [str(BIN / "ruff"), "check", "-q", "."]],
            [*mlqa, "run", ".", *skip, "-qq"],
            cwd=repo,
        )  # fmt: skip
        # bare ruff with the settings mlqa passes it (the preset, target-version
        # from the project's requires-python): the same rules, the same work
        options = ruff_options(load_config(repo))
        compare(
            "repo-lint (ruff check, preset, 250 files)",
            [[str(BIN / "ruff"), "check", *options, "--output-format", "concise",
              *listed]],
            [*mlqa, "lint", *listed],
            cwd=repo,
            also="repo-lint, no saved command (first run)",
        )  # fmt: skip
    baseline = timed([sys.executable, "-c", "pass"], ROOT, env, args.repeat, False)

    print(f"\npython -c pass: {baseline * 1000:.0f} ms (median of {args.repeat})\n")
    print(f"{'hook':<46} {'direct s':>9} {'mlqa s':>9} {'ratio':>7}")
    for name, d, w in rows:
        print(f"{name:<46} {d:>9.3f} {w:>9.3f} {w / d:>7.2f}")
    for name, _, w in rows:
        if name.startswith("types"):
            print(
                f"\ntypes hook warm re-run on a torch-using repo: {w:.2f} s (goal <= 1 s)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
