"""Tests for mlqa.tools.ruff (``mlqa lint``): preset, user config, noqa MLQ, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlqa.tools import ruff as lint


def test_preset_findings_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "a.py").write_text("import os\nx = 1  # noqa: MLQ101\nbreakpoint()\n")
    monkeypatch.chdir(tmp_path)
    assert lint.main(["--format", "json", "a.py"]) == 1
    captured = capsys.readouterr()
    codes = sorted(item["code"] for item in json.loads(captured.out))
    assert codes == ["F401", "I001", "T100"]
    assert "RUF100" not in captured.out and "unknown" not in captured.err.lower()


def test_clean_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    (tmp_path / "a.py").write_text('"""Doc."""\n\nimport os\n\nprint(os.sep)\n')
    monkeypatch.chdir(tmp_path)
    assert lint.main(["a.py"]) == 0
    assert capsys.readouterr().out == ""


def test_user_ruff_config_wins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ruff.lint]\nselect = ['E711']\n")
    (tmp_path / "a.py").write_text("import os\nif os == None:\n    pass\n")
    monkeypatch.chdir(tmp_path)
    assert lint.main(["a.py"]) == 1
    out = capsys.readouterr().out
    assert "E711" in out and "F401" not in out


def test_ruff_toml_counts_as_user_config(tmp_path: Path, capsys, monkeypatch) -> None:
    (tmp_path / "ruff.toml").write_text("[lint]\nselect = ['E711']\n")
    (tmp_path / "a.py").write_text("import os\n")
    monkeypatch.chdir(tmp_path)
    assert lint.main(["a.py"]) == 0


def test_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.py").write_text("import os\nx = 1\n")
    monkeypatch.chdir(tmp_path)
    assert lint.main(["--fix", "a.py"]) == 0
    assert (tmp_path / "a.py").read_text() == "x = 1\n"


def test_syntax_and_encoding_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    (tmp_path / "syn.py").write_bytes(b"def f(:\n")
    (tmp_path / "enc.py").write_bytes(b"x = '\xff'\n")
    monkeypatch.chdir(tmp_path)
    assert lint.main(["syn.py", "enc.py"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert any(ln.startswith("syn.py:1:7: syntax error") for ln in err)
    assert any(ln.startswith("enc.py:1:6: not valid UTF-8") for ln in err)
    assert (tmp_path / "syn.py").read_bytes() == b"def f(:\n"


def test_bad_user_ruff_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 'long'\n")
    (tmp_path / "a.py").write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)
    assert lint.main(["a.py"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pyproject.toml:2: ruff:") and err.count("\n") == 1
    assert "line-length" in err


def _notebook(*sources: str) -> str:
    import nbformat

    cells = [nbformat.v4.new_markdown_cell("# Title", id="m0")]
    cells += [
        nbformat.v4.new_code_cell(source, id=f"c{n}")
        for n, source in enumerate(sources)
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                 "display_name": "Python 3"}  # fmt: skip
    return nbformat.writes(nb) + "\n"


def test_notebook_findings_name_cell_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    text = _notebook("%matplotlib inline\nx = 1", "y = 2\nif x == None:\n    pass")
    (tmp_path / "nb").mkdir()
    (tmp_path / "nb" / "n.ipynb").write_text(text)
    monkeypatch.chdir(tmp_path)
    assert lint.main(["--format", "json", "."]) == 1  # a directory run takes notebooks
    findings = json.loads(capsys.readouterr().out)
    assert [f["code"] for f in findings] == ["E711"]
    line = next(n for n, ln in enumerate(text.splitlines(), 1) if "x == None" in ln)
    assert findings[0]["path"] == "nb/n.ipynb"
    assert findings[0]["line"] == line
    assert findings[0]["message"].startswith("[cell 3, line 2] ")


def test_notebook_syntax_error_is_one_line_with_its_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "n.ipynb").write_text(_notebook("x = 1", "def f(:\n    pass"))
    monkeypatch.chdir(tmp_path)
    assert lint.main(["n.ipynb"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "[cell 3, line 1] syntax error" in err[0], err


def test_unreadable_files_are_one_error_each_beside_the_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # In check mode ruff runs while mlqa decodes the sources; what ruff says
    # about an unreadable file gives way to mlqa's one line for it.
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "good.py").write_text("import os\n")
    (tmp_path / "nul.py").write_bytes(b"import sys\nx = '\x00'\n")
    (tmp_path / "syn.py").write_bytes(b"import sys\ndef f(:\n")
    monkeypatch.chdir(tmp_path)
    for args in (["."], ["--fix", "."]):
        assert lint.main(args) == 2, args
        out, err = capsys.readouterr()
        lines = err.splitlines()
        assert len(lines) == 2, err
        assert lines[0] == "nul.py:2:1: binary file (contains NUL bytes)"
        assert lines[1].startswith("syn.py:2:7: syntax error"), err
        assert "nul.py" not in out and "syn.py" not in out, out
        if args == ["."]:
            assert out.splitlines() == ["good.py:1:8: F401 `os` imported but unused"]
    assert (tmp_path / "good.py").read_text() == ""  # fixed
    assert (tmp_path / "nul.py").read_bytes() == b"import sys\nx = '\x00'\n"
    assert (tmp_path / "syn.py").read_bytes() == b"import sys\ndef f(:\n"


def test_paths_fixability_and_a_project_below_the_working_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "proj"
    (project / "odd:1:2 dir").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (project / "odd:1:2 dir" / "a:3.py").write_text(
        "import os\nimport sys\n\nx = 1 if os == None else 2\n"
    )
    monkeypatch.chdir(tmp_path)
    assert lint.main(["--format", "json", "proj"]) == 1
    found = [
        (f["path"], f["line"], f["column"], f["code"], f["fixable"])
        for f in json.loads(capsys.readouterr().out)
    ]
    where = "proj/odd:1:2 dir/a:3.py"
    # E711's fix is unsafe: not applied by `mlqa lint --fix`, so not fixable
    assert found == [(where, 2, 8, "F401", True), (where, 4, 16, "E711", False)]
