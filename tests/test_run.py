"""Tests for mlqa.run (``mlqa run``): the whole suite over the demo project and more."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from mlqa import run
from mlqa.tools import ruff
from mlqa.tools._common import preset

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
    assert ("demo/data.py", "mypy[assignment]") in codes  # type error
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


FAST = ["--skip", "types"]
FINDING_LINE = re.compile(
    r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>\S+) "
)


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A fresh copy of the demo project, for tests that skip the types step."""
    target = tmp_path / "demo-project"
    shutil.copytree(
        DEMO, target, ignore=shutil.ignore_patterns(".mypy_cache", "__pycache__")
    )
    return target


def json_findings(
    root: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> list[dict[str, object]]:
    capsys.readouterr()
    run.main([str(root), "--format", "json", *FAST, *extra])
    items: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return items


def code_rows(out: str) -> dict[str, list[str]]:
    """The per-code table's rows by code: tool, count, fixable, fix with."""
    table = out.split("findings by code", 1)[1]
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("│|").split("│")]
        if len(cells) == 5 and cells[2].isdigit():
            rows[cells[1]] = [cells[0], cells[2], cells[3], cells[4]]
    return rows


def test_summary_counts_and_fix_commands_on_demo(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = Counter(str(f["code"]) for f in json_findings(demo_copy, capsys))
    assert run.main([str(demo_copy), *FAST]) == 1
    out = capsys.readouterr().out
    assert out.index("findings by code") < out.index("demo/train.py:")  # table first
    rows = code_rows(out)
    assert {code: int(row[1]) for code, row in rows.items()} == dict(expected)
    assert rows["format"] == ["format", "1", "1", "mlqa format"]
    assert rows["NB001"] == ["notebooks", "1", "1", "mlqa strip"]
    for code in ("MLQ101", "MLQ201", "DOC101"):
        assert rows[code][2:] == ["0", ""]  # nothing fixes those automatically
    total = out.splitlines()[-1]
    fixable = sum(int(row[2]) for row in rows.values())
    assert fixable == 1 + 1 + int(rows["I001"][2]) + int(rows["F401"][2])
    assert total.startswith(
        f"Found {sum(expected.values())} findings ({fixable} fixable: "
    )
    commands = re.findall(r"`(mlqa (?:format|strip) [^`]+)` fixes 1", total)
    assert commands == [f"mlqa format {demo_copy}", f"mlqa strip {demo_copy}"]
    assert f"`mlqa lint --fix {demo_copy}` fixes" in total
    # The suggested commands really remove what they claim to fix.
    for command in commands:
        subprocess.run([sys.executable, "-m", *command.split()], check=False)
    after = Counter(str(f["code"]) for f in json_findings(demo_copy, capsys))
    assert "format" not in after and "NB001" not in after
    assert after["MLQ101"] == expected["MLQ101"]


def test_lint_fixable_counts_match_ruff(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = subprocess.run(
        [ruff.ruff_binary(), "check", "--output-format=json", "--config",
         str(preset("ruff.toml")), str(demo_copy)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    safe = Counter(
        item["code"]
        for item in json.loads(bare.stdout)
        if (item.get("fix") or {}).get("applicability") == "safe"
    )
    assert safe, "the demo has safely fixable lint findings"
    run.main([str(demo_copy), *FAST])
    rows = code_rows(capsys.readouterr().out)
    for code, count in safe.items():
        assert rows[code][2:] == [str(count), "mlqa lint --fix"]


def test_statistics(demo_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    findings = json_findings(demo_copy, capsys)
    expected = Counter(str(f["code"]) for f in findings)
    assert run.main([str(demo_copy), "--statistics", *FAST]) == 1
    out = capsys.readouterr().out
    assert ".py:" not in out and "┏" not in out  # no findings, no tables
    lines = out.splitlines()
    pattern = r"^ *(\d+)  (\S+) +(\[\*\]|   ) (.+)$"
    stats = [re.match(pattern, line) for line in lines[:-1]]
    assert all(stats), lines
    got = {m[2]: (int(m[1]), m[3] == "[*]", m[4]) for m in stats if m}
    assert {code: n for code, (n, _, _) in got.items()} == dict(expected)
    counts = [n for n, _, _ in got.values()]
    assert counts == sorted(counts, reverse=True)  # most frequent first
    assert got["format"][1] and got["NB001"][1] and not got["MLQ101"][1]
    rule = subprocess.run(
        [ruff.ruff_binary(), "rule", "F401", "--output-format=json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert got["F401"][2] == json.loads(rule.stdout)["name"]  # ruff's own name
    assert (ROOT / "docs" / "rules" / f"{got['MLQ201'][2]}.md").is_file()
    assert run.main([str(demo_copy), "--statistics", "--format", "json", *FAST]) == 1
    items = json.loads(capsys.readouterr().out)
    assert {i["code"]: i["count"] for i in items} == dict(expected)


def test_quiet_and_silent(demo_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert run.main([str(demo_copy), *FAST]) == 1
    full = capsys.readouterr().out
    expected = [line for line in full.splitlines() if FINDING_LINE.match(line)]
    assert expected
    assert run.main([str(demo_copy), "-q", *FAST]) == 1
    assert capsys.readouterr().out.splitlines() == expected  # only the findings
    for flag in ("-qq", "--silent"):
        assert run.main([str(demo_copy), flag, *FAST]) == 1
        assert capsys.readouterr().out == ""


def test_non_utf8_stdout_does_not_crash(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        '"""M."""\n\n\ndef f() -> None:\n    """F."""\n    \u03bc = 1\n',
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "mlqa", "run", str(tmp_path), *FAST],
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "cp1252"},
        check=False,
    )
    out, err = proc.stdout.decode("cp1252"), proc.stderr.decode("cp1252")
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    assert "a.py:6:5: F841 Local variable `?` is assigned to but never used" in out
    assert "+------" in out and "┏" not in out  # the tables drawn in ASCII


def test_one_line_per_problem_and_codes_in_one_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.py").write_text("def f(:\n    pass\n")
    (tmp_path / "typed.py").write_text('"""Typed."""\n\nimport os\n\nx: int = "a"\n')
    bare = subprocess.run(
        [ruff.ruff_binary(), "check", "--output-format=json", "--no-cache",
         str(tmp_path / "bad.py")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    first = json.loads(bare.stdout)[0]
    assert run.main([str(tmp_path)]) == 2  # every step, mypy included (no torch)
    captured = capsys.readouterr()
    bad = [line for line in captured.err.splitlines() if "bad.py" in line]
    row, col = first["location"]["row"], first["location"]["column"]
    where = f"{tmp_path / 'bad.py'}:{row}:{col}"
    assert bad == [f"{where}: syntax error: {first['message']}"]
    # mypy stops at a syntax error (a blocker): check the codes without it.
    (tmp_path / "bad.py").unlink()
    assert run.main([str(tmp_path)]) == 1
    captured = capsys.readouterr()
    lines = [line for line in captured.out.splitlines() if FINDING_LINE.match(line)]
    codes = {m["code"] for m in map(FINDING_LINE.match, lines) if m}
    assert {"F401", "mypy[assignment]"} <= codes
    assert {"F401", "mypy[assignment]"} <= set(code_rows(captured.out))
    assert all(re.fullmatch(r"[A-Z]+[0-9]+|format|mypy\[[a-z-]+\]", c) for c in codes)
    typed = f"{tmp_path / 'typed.py'}:5:10: mypy[assignment] Incompatible types"
    assert typed in captured.out


def test_a_broken_notebook_is_one_line_in_mlqa_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # format, lint, notebooks and rules all read each notebook; before, one
    # empty notebook gave three lines (ruff's wording among them).
    broken = {
        "empty.ipynb": (b"", "empty.ipynb: not a notebook: the file is empty"),
        "trunc.ipynb": (
            b'{"cells": [',
            "trunc.ipynb:1:12: invalid notebook JSON: Expecting value",
        ),
        "plain.ipynb": (
            b'{"a": 1}\n',
            "plain.ipynb:1:1: not a Jupyter notebook (no 'cells' list)",
        ),
        "latin.ipynb": (
            b'{"cells": [], "x": "\xff"}',
            "latin.ipynb:1:21: not valid UTF-8 (byte 0xff)",
        ),
    }
    for name, (data, _) in broken.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "ok.py").write_text('"""Fine."""\n')
    assert run.main([str(tmp_path), *FAST]) == 2
    err = capsys.readouterr().err.splitlines()
    assert sorted(err) == sorted(f"{tmp_path}/{line}" for _, line in broken.values())
    before = {name: (tmp_path / name).read_bytes() for name in broken}
    from mlqa.tools import black as fmt
    from mlqa.tools import ruff as lint

    for name in broken:  # each tool alone words each notebook the same way
        for tool in (lint, fmt):
            check = [] if tool is lint else ["--check"]
            assert tool.main([*check, str(tmp_path / name)]) == 2
            assert capsys.readouterr().err.strip() == f"{tmp_path}/{broken[name][1]}"
    assert {name: (tmp_path / name).read_bytes() for name in broken} == before


@pytest.mark.slow  # mypy over torch, cold: about 20-40 s
def test_types_step_ends_when_mypy_ends(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("import torch\n\nx: int = torch.zeros(1)\n")
    script = (
        "import sys, time\nfrom mlqa import run\nstarted = time.perf_counter()\n"
        "code = run.main(sys.argv[1:])\n"
        "print(f'MAIN {time.perf_counter() - started}', file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), "--skip", "format"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - started
    main = float(proc.stderr.split("MAIN ")[1].split()[0])
    assert proc.returncode == 1 and "mypy[assignment]" in proc.stdout
    # Before: a cold run over torch stayed alive ~10 s after main returned
    # (interpreter exit walking mypy's graph); now only the start-up remains.
    assert wall - main < 4, (wall, main)
