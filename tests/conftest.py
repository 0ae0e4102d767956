"""Suite-wide test settings: Hypothesis budgets, and expensive setup built once.

Hypothesis profiles: ``default`` is the inner loop (``pytest -m "not slow"``):
few examples, so a property test costs about as much as an example test.
``ci`` is what ``.ci/run`` loads with ``--hypothesis-profile=ci``: Hypothesis's
own budget, still inside the README command's time limit, and derandomized, so
a red CI run fails the same way when rerun with that profile. Neither has a
deadline: the suite shares two cores with other work, and a timing failure there
says nothing about the code. A test that sets ``max_examples`` keeps it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock  # pre-commit's virtualenv depends on it
from hypothesis import settings

settings.register_profile("default", max_examples=20, deadline=None)
settings.register_profile(
    "ci", max_examples=100, deadline=None, derandomize=True, print_blob=True
)
settings.load_profile("default")  # `--hypothesis-profile=NAME` loads NAME after this

BuildOnce = Callable[[str, Callable[[Path], None]], Path]


def pytest_configure(config: pytest.Config) -> None:
    """Under xdist, hand out tests one at a time unless ``--maxschedchunk`` says otherwise.

    xdist's default ``load`` scheduling first gives each worker a block of
    consecutive tests (a quarter of its share): with the slow tests sorted
    first, one worker got every one of them and ran alone for the second half
    of the run (297 s for the README's test command, one worker idle from
    144 s). One test at a time, each worker takes the next slow test as it
    frees up: 226 s on the same machine, the same hour.
    """
    if getattr(config.option, "maxschedchunk", False) is None:
        config.option.maxschedchunk = 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run slow tests first (a stable sort: the order is otherwise unchanged).

    Handed out one at a time (:func:`pytest_configure`), the long end-to-end
    tests then start early on both workers and the many short ones fill in
    the end, instead of one worker finishing a minute-long test alone while
    the other idles.
    """
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session")
def build_once(tmp_path_factory: pytest.TempPathFactory) -> BuildOnce:
    """Build a directory once per test run, shared by every xdist worker.

    ``build_once(name, build)`` returns ``<run's temp dir>/<name>``: the first
    caller runs ``build(directory)`` under a file lock, later callers (in any
    worker) wait for it and reuse the result. A build that raised is retried.
    """
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base

    def once(name: str, build: Callable[[Path], None]) -> Path:
        target = shared / name
        done = shared / f"{name}.done"
        with FileLock(str(shared / f"{name}.lock")):
            if not done.exists():
                if target.exists():
                    shutil.rmtree(target)
                target.mkdir()
                build(target)
                done.touch()
        return target

    return once


@pytest.fixture(scope="session")
def torch_mypy_cache(build_once: BuildOnce) -> Path:
    """A ``.mypy_cache`` in which ``mlqa types`` (mlqa's preset) has analysed torch.

    Copy it into a project without ``[tool.mypy]`` before running ``mlqa types``
    there: mypy validates every cached module against its source and options,
    so the result is the same, minus the cold ~20 s of reading torch.
    """

    def build(project: Path) -> None:
        (project / "seed.py").write_text(
            "import torch\nimport torch.nn.functional\n", encoding="utf-8"
        )
        proc = subprocess.run(
            [sys.executable, "-m", "mlqa", "types", "seed.py"],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr

    return build_once("torch-mypy-cache", build) / ".mypy_cache"
