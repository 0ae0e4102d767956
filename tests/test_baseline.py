"""Tests for ``mlqa run --baseline``: write, honour, line shifts, new findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlqa import baseline, run

FAST = ["--skip", "types"]  # real black, ruff, pydoclint and rules; mypy elsewhere

LEGACY = '''"""A legacy module."""

import os


def load(path):
    """Load."""
    import json

    return open(path).read()


def save(path):
    """Save."""
    import json

    return path


def train(model, epochs):
    """Train.

    Args:
        model: The model.
    """
    model.cuda()
    VALUE=1
    return model, VALUE
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A legacy project: findings from black, ruff, pydoclint and mlqa's rules."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'legacy'\n")
    (tmp_path / "legacy.py").write_text(LEGACY)
    return tmp_path


def findings_of(
    root: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> list[dict[str, object]]:
    """Run ``mlqa run --format json`` and return the findings it reports."""
    capsys.readouterr()
    run.main([str(root), "--format", "json", *FAST, *extra])
    items: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return items


def test_write_then_honour(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    today = findings_of(project, capsys)
    assert today, "the legacy project has findings"
    file = project / "mlqa-baseline.json"
    assert run.main([str(project), "--baseline", str(file), *FAST]) == 0
    assert "wrote" in capsys.readouterr().err
    doc = json.loads(file.read_text())
    assert doc["version"] == baseline.VERSION
    assert sum(entry["count"] for entry in doc["findings"]) == len(today)
    assert {e["path"] for e in doc["findings"]} == {"legacy.py"}
    assert all("line" not in entry for entry in doc["findings"])
    # The same findings again: held by the baseline, exit 0, and said so.
    assert run.main([str(project), "--baseline", str(file), *FAST]) == 0
    out = capsys.readouterr().out
    assert f"Found 0 findings; {len(today)} more in the baseline." in out
    assert "legacy.py:" not in out  # nothing new is listed


def test_line_shift_keeps_findings_baselined(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = project / "baseline.json"
    (project / "nodoc.py").write_text("import os\n")  # D100 at 1:1, F401
    before = findings_of(project, capsys)
    run.main([str(project), "--baseline", str(file), *FAST])
    (project / "nodoc.py").write_text(
        "# Copyright 2026 (a licence header)\nimport os\n"
    )
    shifted = LEGACY.replace(
        '"""A legacy module."""\n',
        '"""A legacy module."""\n\n# Three lines added\n# above every finding.\n',
    ).replace(
        "    import json\n\n    return open", "\n    import json\n\n\n    return open"
    )
    (project / "legacy.py").write_text(shifted)
    after = findings_of(project, capsys)
    assert [f["code"] for f in after] == [f["code"] for f in before]
    moved = [(b["line"], a["line"]) for b, a in zip(before, after, strict=True)]
    assert all(new > old for old, new in moved if old != 1), moved  # all but 1:1
    assert run.main([str(project), "--baseline", str(file), *FAST]) == 0


def test_new_finding_fails_and_is_the_only_one_listed(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = project / "baseline.json"
    run.main([str(project), "--baseline", str(file), *FAST])
    (project / "legacy.py").write_text(
        LEGACY.replace("import os\n", "import os\nimport sys\n")
    )
    new = findings_of(project, capsys, "--baseline", str(file))
    assert [(f["code"], f["line"]) for f in new] == [("F401", 4)]
    assert "sys" in str(new[0]["message"])
    assert run.main([str(project), "--baseline", str(file), *FAST]) == 1
    # --write-baseline accepts today's findings explicitly.
    assert (
        run.main([str(project), "--baseline", str(file), "--write-baseline", *FAST])
        == 0
    )
    assert run.main([str(project), "--baseline", str(file), *FAST]) == 0


def test_duplicates_are_counted(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = project / "baseline.json"
    run.main([str(project), "--baseline", str(file), *FAST])
    doc = json.loads(file.read_text())
    json_imports = [
        e for e in doc["findings"] if e["code"] == "F401" and "json" in e["message"]
    ]
    assert [e["count"] for e in json_imports] == [2]  # same line text, same message
    third = (
        LEGACY
        + '\n\ndef copy(path):\n    """Copy."""\n    import json\n\n    return path\n'
    )
    (project / "legacy.py").write_text(third)
    new = findings_of(project, capsys, "--baseline", str(file))
    assert [(f["code"], "json" in str(f["message"])) for f in new] == [("F401", True)]


def test_fixed_findings_are_reported_stale(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = project / "baseline.json"
    run.main([str(project), "--baseline", str(file), *FAST])
    (project / "legacy.py").write_text(LEGACY.replace("import os\n", ""))
    capsys.readouterr()
    assert run.main([str(project), "--baseline", str(file), *FAST]) == 0
    assert "1 baseline entries fixed" in capsys.readouterr().out


def test_paths_are_relative_to_the_project_root(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    file = project / "baseline.json"
    monkeypatch.chdir(project)
    assert run.main([".", "--baseline", str(file), *FAST]) == 0
    monkeypatch.chdir(project.parent)  # findings now display as <dir>/legacy.py
    assert run.main([project.name, "--baseline", str(file), *FAST]) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "baseline.json:1:2: invalid baseline"),
        (
            '{"version": 2, "findings": []}',
            "not an mlqa baseline of version 1 (version=2)",
        ),
        ('{"version": 1, "findings": [{"path": "a.py"}]}', "entry 0 needs path, code"),
    ],
)
def test_bad_baseline_is_one_line_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    file = project / "baseline.json"
    file.write_text(content)
    assert run.main([str(project), "--baseline", str(file), *FAST]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert file.read_text() == content  # never overwritten without --write-baseline


def test_write_baseline_needs_baseline() -> None:
    with pytest.raises(SystemExit) as info:
        run.main([".", "--write-baseline"])
    assert info.value.code == 2


def test_fingerprint_ignores_whitespace_and_line_numbers() -> None:
    a = baseline.fingerprint("    x  = f(1)", 'Name "x" already defined on line 12')
    b = baseline.fingerprint("x = f(1)", 'Name "x" already defined on line 40')
    c = baseline.fingerprint("x = f(2)", 'Name "x" already defined on line 12')
    assert a == b and a != c


def notebook(*sources: str) -> str:
    """A minimal nbformat 4 notebook with one code cell per source."""
    cells = [
        {"cell_type": "code", "execution_count": None, "id": f"c{i}",
         "metadata": {}, "outputs": [], "source": source.splitlines(True)}
        for i, source in enumerate(sources)
    ]  # fmt: skip
    doc = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(doc, indent=1) + "\n"


def test_notebook_findings_survive_a_cell_inserted_above(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "nb.ipynb").write_text(notebook("import os\nx = 1\n", "import sys\n"))
    before = findings_of(tmp_path, capsys)
    assert any(str(f["message"]).startswith("[cell 1, line 1]") for f in before)
    file = tmp_path / "baseline.json"
    assert run.main([str(tmp_path), "--baseline", str(file), *FAST]) == 0
    (tmp_path / "nb.ipynb").write_text(
        notebook("# a new first cell\ny = 2\n", "import os\nx = 1\n", "import sys\n")
    )
    after = findings_of(tmp_path, capsys)
    assert any(str(f["message"]).startswith("[cell 2, line 1]") for f in after)
    assert run.main([str(tmp_path), "--baseline", str(file), *FAST]) == 0
