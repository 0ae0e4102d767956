"""Run the reusable workflow's shell steps on real ML repositories, locally.

For each repository (read from a bare git mirror: ``git ls-tree`` and
``git show``, the way a checkout sees the files), this does what a caller
written by ``mlqa init`` makes GitHub do, in a temporary folder with a fresh
virtual environment:

1. ``mlqa init``'s planner picks the install inputs for the repository;
2. the workflow's ``Install`` step runs with those inputs, installing mlqa from
   this checkout's HEAD commit through ``git+file://`` (what
   ``job.workflow_repository`` / ``job.workflow_sha`` give on GitHub);
3. the ``mlqa run`` step (suite job) and the ``pytest --mlqa`` step (tests job)
   run with the environment GitHub would give them.

A step "works" when it ends as the workflow intends: install exit 0; ``mlqa run``
exit 0 (clean) or 1 (findings, shown as annotations), never 2; pytest exit 0
(a repository without tests gets the notice). Run::

    python benchmarks/try_workflow.py                  # nanoGPT and minbpe
    python benchmarks/try_workflow.py --repo NAME GIT_DIR [--pytest-args ARGS]

Only PyPI is reachable here, so CPU torch comes from ``--torch-index-url``
(default PyPI, where this machine's pip also finds a local CPU wheel) at
``--torch-version``.
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
import time
import venv
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlqa.init.workflow import plan_workflow  # noqa: E402

MIRRORS = Path("/work/.mirror")
#: name -> (git dir of a mirror, extra pytest arguments). minbpe's GPT-4 tests
#: download tiktoken's encodings from the internet, which is not reachable here.
DEFAULT_REPOS = {
    "nanoGPT": (MIRRORS / "karpathy+nanoGPT" / "repo", ""),
    "minbpe": (MIRRORS / "karpathy+minbpe" / "repo", "-k 'not gpt4'"),
}


def _steps() -> dict[tuple[str, str], dict[str, Any]]:
    jobs = yaml.safe_load((ROOT / ".github/workflows/mlqa.yml").read_text())["jobs"]
    return {
        (job, step["name"]): step
        for job, spec in jobs.items()
        for step in spec["steps"]
        if "name" in step
    }


def export(git_dir: Path, dest: Path) -> str:
    """Write a mirror's HEAD tree into ``dest`` as a fresh git repository.

    Args:
        git_dir: The bare repository.
        dest: An empty folder.

    Returns:
        The mirrored commit.
    """
    git = ["git", f"--git-dir={git_dir}"]
    head = subprocess.run(
        [*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    listing = subprocess.run(
        [*git, "ls-tree", "-r", "-z", "HEAD"], capture_output=True, check=True
    ).stdout.split(b"\0")
    for entry in filter(None, listing):
        meta, path = entry.split(b"\t", 1)
        mode, kind, sha = meta.split()
        if kind != b"blob" or mode == b"120000":
            continue  # submodules and symlinks: not needed here
        target = dest / path.decode()
        target.parent.mkdir(parents=True, exist_ok=True)
        blob = subprocess.run(
            [*git, "cat-file", "blob", sha.decode()], capture_output=True, check=True
        ).stdout
        target.write_bytes(blob)
    subprocess.run(["git", "init", "-q", str(dest)], capture_output=True, check=True)
    subprocess.run(
        ["git", "-C", str(dest), "add", "-A"], capture_output=True, check=True
    )
    return head


def run_step(script: str, cwd: Path, env: dict[str, str]) -> tuple[int, str, float]:
    """Run one workflow step the way the runner does (bash -eo pipefail).

    Args:
        script: The step's ``run:`` text.
        cwd: Its working directory.
        env: Its environment additions.

    Returns:
        Exit code, combined output, seconds.
    """
    started = time.perf_counter()
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return result.returncode, result.stdout, time.perf_counter() - started


def try_repo(
    name: str, git_dir: Path, pytest_args: str, args: argparse.Namespace, work: Path
) -> dict[str, Any]:
    """Install, ``mlqa run`` and ``pytest --mlqa`` one repository as CI would.

    Args:
        name: A label.
        git_dir: The mirror.
        pytest_args: The caller's ``pytest-args``.
        args: The command line.
        work: A scratch folder.

    Returns:
        A summary: inputs chosen, exit codes, seconds, findings.
    """
    repo = work / name
    repo.mkdir()
    commit = export(git_dir, repo)
    caller = yaml.safe_load(plan_workflow(repo).new)
    (job,) = caller["jobs"].values()
    inputs = job["with"]
    env_dir = work / f"{name}-venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    path = f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}"
    mlqa_sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    steps = _steps()
    base = {"PATH": path, "OMP_NUM_THREADS": "1", "VIRTUAL_ENV": str(env_dir)}
    install_env = {
        **base,
        "PIP_INDEX_URL": "",
        "CPU_TORCH": "false" if args.no_torch else "true",
        "TORCH_VERSION": args.torch_version,
        "TORCH_INDEX_URL": args.torch_index_url,
        "INSTALL": inputs["install"],
        "EXTRAS": inputs.get("extras", ""),
        "REQUIREMENTS": inputs.get("requirements", "requirements.txt"),
        "INSTALL_COMMAND": inputs.get("install-command", ""),
        "MLQA_REQUIREMENT": "",
        "WORKFLOW_SERVER": "file://",
        "WORKFLOW_REPOSITORY": str(ROOT).lstrip("/"),
        "WORKFLOW_SHA": mlqa_sha,
        "TOOLS": "pytest pytest-cov",
    }
    code, out, secs = run_step(steps[("tests", "Install")]["run"], repo, install_env)
    summary: dict[str, Any] = {
        "repo": name,
        "commit": commit,
        "inputs": {
            k: v
            for k, v in inputs.items()
            if k in ("install", "extras", "requirements")
        },
        "install": {"exit": code, "seconds": round(secs, 1)},
    }
    if code != 0:
        summary["install"]["tail"] = out[-3000:]
        return summary
    suite = steps[("suite", "mlqa run")]["run"]
    code, out, secs = run_step(
        suite, repo, {**base, "NOTEBOOKS": "true", "PROJECT": "."}
    )
    summary["mlqa run"] = {
        "exit": code,
        "seconds": round(secs, 1),
        "annotations": len(re.findall(r"^::error ", out, re.M)),
        "table": "\n".join(
            line for line in out.splitlines() if line.startswith(("│", "┃"))
        ),
    }
    if code not in (0, 1):
        summary["mlqa run"]["tail"] = out[-3000:]
    tests_env = {
        **base,
        "PYTEST_ARGS": pytest_args,
        "COVERAGE": str(inputs.get("coverage", 0)),
        "SHARDS": "1",
        "SHARD": "1",
        "FAIL_ON_NO_TESTS": "false",
        "COVERAGE_FILE": ".coverage.mlqa-try",
    }
    code, out, secs = run_step(
        steps[("tests", "pytest --mlqa")]["run"], repo, tests_env
    )
    last = [line for line in out.splitlines() if line.strip()][-1:] or [""]
    summary["pytest --mlqa"] = {
        "exit": code,
        "seconds": round(secs, 1),
        "last line": last[0],
        "notice": "::notice" in out,
    }
    if code != 0:
        summary["pytest --mlqa"]["tail"] = out[-3000:]
    return summary


def works(summary: dict[str, Any]) -> bool:
    """Tell whether every step ended as the workflow intends.

    Args:
        summary: One result of :func:`try_repo`.

    Returns:
        True when install and pytest exited 0 and ``mlqa run`` exited 0 or 1.
    """
    return (
        summary["install"]["exit"] == 0
        and summary.get("mlqa run", {}).get("exit") in (0, 1)
        and summary.get("pytest --mlqa", {}).get("exit") == 0
    )


def main(argv: list[str] | None = None) -> int:
    """Try the workflow on each repository and print one JSON summary each.

    Args:
        argv: The command line (see the module docstring).

    Returns:
        0 when every step worked on every repository, else 1.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repo",
        nargs=2,
        action="append",
        metavar=("NAME", "GIT_DIR"),
        help="a mirror to try (repeatable; default: nanoGPT and minbpe)",
    )
    parser.add_argument("--pytest-args", default="", help="pytest-args for --repo")
    parser.add_argument("--torch-version", default="2.13.0")
    parser.add_argument("--torch-index-url", default="https://pypi.org/simple")
    parser.add_argument("--no-torch", action="store_true", help="cpu-torch: false")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = parser.parse_args(argv)
    repos = (
        {name: (Path(d), args.pytest_args) for name, d in args.repo}
        if args.repo
        else DEFAULT_REPOS
    )
    work = Path(tempfile.mkdtemp(prefix="mlqa-try-"))
    ok = True
    try:
        for name, (git_dir, pytest_args) in repos.items():
            summary = try_repo(name, git_dir, pytest_args, args, work)
            summary["works"] = works(summary)
            ok &= summary["works"]
            print(json.dumps(summary, indent=2, ensure_ascii=False), flush=True)
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
