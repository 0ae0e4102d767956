"""Tests for mlqa.run (``mlqa run``): the whole suite over the demo project and more."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlqa import run

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo-project"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, torch_mypy_cache: Path) -> Path:
    """A copy of the demo, torch already analysed by mypy (see tests/conftest.py)."""
    target = tmp_path_factory.mktemp("demo") / "demo-project"
    shutil.copytree(
        DEMO, target, ignore=shutil.ignore_patterns(".mypy_cache", "__pycache__")
    )
    shutil.copytree(torch_mypy_cache, target / ".mypy_cache")
    return target


@pytest.fixture(scope="module")
def demo_report(demo: Path) -> tuple[int, list[dict[str, object]], str]:
    """One real run over the demo (types included: torch is installed here)."""
    before = {
        p: p.read_bytes()
        for p in demo.rglob("*")
        if p.is_file() and ".mypy_cache" not in p.parts
    }
    proc = subprocess.run(
        [sys.executable, "-m", "mlqa", "run", str(demo), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    after = {p: p.read_bytes() for p in before}
    assert before == after, "mlqa run must not rewrite anything"
    return proc.returncode, json.loads(proc.stdout), proc.stderr


@pytest.mark.slow  # mypy over torch, cold: about 20-40 s
def test_demo_shows_every_seeded_problem(
    demo_report: tuple[int, list[dict[str, object]], str],
) -> None:
    code, items, table = demo_report
    assert code == 1
    found = {(item["path"], item["code"]) for item in items}
    paths = {str(item["path"]).split("demo-project/")[-1] for item in items}
    assert {
        "demo/train.py",
        "demo/model.py",
        "demo/data.py",
        "notebooks/explore.ipynb",
    } <= paths
    codes = {(str(p).split("demo-project/")[-1], c) for p, c in found}
    assert ("demo/train.py", "format") in codes  # unformatted
    assert ("demo/train.py", "F401") in codes  # unused import
    assert ("demo/model.py", "DOC101") in codes  # undocumented argument
    assert ("demo/data.py", "assignment") in codes  # type error
    assert ("notebooks/explore.ipynb", "NB001") in codes  # outputs committed
    assert ("demo/train.py", "MLQ101") in codes  # Adam(lr=1e-3)
    assert ("demo/train.py", "MLQ201") in codes  # .cuda()
    assert not any(
        p.endswith("demo/config.py") for p in paths
    )  # hyperparameters belong there
    for tool in ("format", "lint", "docstrings", "types", "notebooks", "rules"):
        assert tool in table
    assert "fail" in table


def test_clean_project_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'clean'\n")
    (tmp_path / "mod.py").write_text(
        '"""A module."""\n\n\ndef add(a: int, b: int) -> int:\n    """Add.\n\n'
        "    Args:\n        a: First.\n        b: Second.\n\n    Returns:\n"
        '        The sum.\n    """\n    return a + b\n'
    )
    assert run.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count(" ok ") + out.count(" ok") >= 4 and "fail" not in out


def test_output_file_and_formats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.py").write_text("import os\n")
    sarif = tmp_path / "out.sarif"
    code = run.main(
        [str(tmp_path), "--format", "sarif", "--output", str(sarif), "--skip", "types"]
    )
    assert code == 1
    doc = json.loads(sarif.read_text())
    assert doc["version"] == "2.1.0"
    assert {r["ruleId"] for r in doc["runs"][0]["results"]} >= {"F401"}
    assert "mlqa run" in capsys.readouterr().out  # the table stays on the terminal
    assert run.main([str(tmp_path), "--format", "github", "--skip", "types"]) == 1
    assert "::error file=" in capsys.readouterr().out


def test_skip_steps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.py").write_text("import os\n")
    code = run.main([str(tmp_path), *[f"--skip={s}" for s in run.STEPS]])
    assert code == 0
    assert "lint" not in capsys.readouterr().out.split("┃ tool")[-1]


def test_broken_files_are_errors_not_tracebacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.py").write_text("def f(:\n")
    (tmp_path / "latin.py").write_bytes(b"x = '\xe9'\n")
    (tmp_path / "bad.ipynb").write_text("{not json")
    code = run.main([str(tmp_path), "--skip", "types"])
    captured = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in captured.err
    assert (
        "bad.py:1:" in captured.err
        and "latin.py" in captured.err
        and "bad.ipynb" in captured.err
    )
    assert (tmp_path / "bad.py").read_text() == "def f(:\n"


def test_bad_config_and_missing_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.mlqa]\nexclude = 3\n")
    assert run.main([str(tmp_path)]) == 2
    assert "exclude must be" in capsys.readouterr().err
    assert run.main([str(tmp_path / "nope")]) == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_usage_error() -> None:
    with pytest.raises(SystemExit) as info:
        run.main(["--skip", "everything"])
    assert info.value.code == 2


def test_types_step_honours_mypy_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.mypy]\nstrict = true\nfiles = ['pkg']\n"
    )
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text(
        '"""Pkg."""\n\n\ndef f(x: int) -> int:\n    """F.\n\n    Args:\n        x: X.\n\n    Returns:\n        X.\n    """\n    return x\n'
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_a(x):\n    assert x\n")
    only = [f"--skip={s}" for s in run.STEPS if s != "types"]
    assert run.main([str(tmp_path), *only]) == 0, capsys.readouterr()
    (tmp_path / "pkg" / "bad.py").write_text("def g(x):\n    return x\n")
    assert run.main([str(tmp_path), *only]) == 1
    assert "no-untyped-def" in capsys.readouterr().out
