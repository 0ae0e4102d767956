"""mlqa passes its own checks (what .pre-commit-config.yaml runs), in check mode."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["format", "--check", "."],
        ["lint", "."],
        ["docstrings", "."],
        ["check", "--no-cache", "."],
        ["types", "mlqa"],  # mypy --strict, from [tool.mypy]
    ],
    ids=lambda a: a[0],
)
def test_mlqa_passes_its_own_checks(args: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mlqa", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_mlqa_run_is_clean_on_itself() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mlqa", "run", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "fail" not in proc.stdout


def test_own_hooks_match_the_manifest() -> None:
    import yaml

    offered = {
        h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    }
    own = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    used = {h["id"] for repo in own["repos"] for h in repo["hooks"]}
    # every offered hook runs on mlqa itself, except the isolated/system mypy twin
    assert offered - used == {"mlqa-types-system"}
