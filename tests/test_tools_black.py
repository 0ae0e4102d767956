"""Tests for mlqa.tools.black (``mlqa format``): fixes, check mode, config, bad input."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import black
import pytest

from mlqa.tools import black as fmt

UGLY = "x = {  'a':1 }\ndef f(a,b):\n  return a+b\n"


@pytest.fixture(autouse=True)
def isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BLACK_CACHE_DIR", str(tmp_path_factory.mktemp("black-cache")))
    import black.cache

    monkeypatch.setattr(black.cache, "CACHE_DIR", black.cache.get_cache_dir())


def project(tmp_path: Path, pyproject: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(pyproject or "[project]\nname = 'p'\n")
    return tmp_path


def test_fix_matches_black_and_is_idempotent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project(tmp_path))
    src = tmp_path / "a.py"
    src.write_text(UGLY)
    os.chmod(src, 0o755)
    assert fmt.main(["a.py"]) == 1
    expected = black.format_str(UGLY, mode=black.Mode())
    assert src.read_text() == expected
    assert stat.S_IMODE(src.stat().st_mode) == 0o755
    assert "a.py: reformatted by black" in capsys.readouterr().err
    assert fmt.main(["a.py"]) == 0
    assert src.read_text() == expected


def test_check_mode_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project(tmp_path))
    (tmp_path / "a.py").write_text(UGLY)
    (tmp_path / "ok.py").write_text("y = 1\n")
    assert fmt.main(["--check", "."]) == 1
    assert capsys.readouterr().out == "a.py:1:1: format would be reformatted by black\n"
    assert (tmp_path / "a.py").read_text() == UGLY


def test_user_black_config_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(
        project(
            tmp_path,
            "[tool.black]\nline-length = 20\nskip-string-normalization = true\n",
        )
    )
    src = tmp_path / "a.py"
    src.write_text("result = function_name(argument_one, 'two')\n")
    assert fmt.main(["a.py"]) == 1
    mode = black.Mode(line_length=20, string_normalization=False)
    assert src.read_text() == black.format_str(
        "result = function_name(argument_one, 'two')\n", mode=mode
    )
    assert "'two'" in src.read_text()


def test_crlf_and_pyi_preserved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project(tmp_path))
    src = tmp_path / "a.py"
    src.write_bytes(b"x=1\r\ny  =  2\r\n")
    stub = tmp_path / "s.pyi"
    stub.write_text("def f(x:int)->int: ...\n\n\ndef g()->None: ...\n")
    assert fmt.main(["a.py", "s.pyi"]) == 1
    assert src.read_bytes() == b"x = 1\r\ny = 2\r\n"
    assert stub.read_text() == "def f(x: int) -> int: ...\ndef g() -> None: ...\n"


@pytest.mark.parametrize(
    ("content", "message", "where"),
    [
        (b"def f(:\n    pass\n", "syntax error", "bad.py:1:7: "),
        (b"x = '\xff'\n", "not valid UTF-8", "bad.py:1:6: "),
        (b"x = 1\x00\n", "binary file", "bad.py:1:1: "),
    ],
)
def test_bad_input_is_one_line_exit_2_file_untouched(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    content: bytes,
    message: str,
    where: str,
) -> None:
    monkeypatch.chdir(project(tmp_path))
    bad = tmp_path / "bad.py"
    bad.write_bytes(content)
    (tmp_path / "a.py").write_text(UGLY)
    assert fmt.main(["bad.py", "a.py"]) == 2
    err = capsys.readouterr().err
    line = next(ln for ln in err.splitlines() if ln.startswith("bad.py"))
    assert line.startswith(where) and message in line
    assert "Traceback" not in err
    assert bad.read_bytes() == content
    assert (tmp_path / "a.py").read_text() != UGLY  # the good file is still formatted


def test_empty_file_is_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project(tmp_path))
    (tmp_path / "empty.py").write_text("")
    assert fmt.main(["empty.py"]) == 0


def test_missing_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.chdir(project(tmp_path))
    assert fmt.main(["nope.py"]) == 2
    assert "nope.py: no such file or directory" in capsys.readouterr().err


def test_bad_pyproject_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.mlqa]\nbogus = 1\n")
    (tmp_path / "a.py").write_text(UGLY)
    monkeypatch.chdir(tmp_path)
    assert fmt.main(["a.py"]) == 2
    assert "unknown key 'bogus'" in capsys.readouterr().err
    assert (tmp_path / "a.py").read_text() == UGLY


def test_many_files_in_parallel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.chdir(project(tmp_path))
    for i in range(fmt.PARALLEL_THRESHOLD + 4):
        (tmp_path / f"m{i}.py").write_text(UGLY)
    (tmp_path / "bad.py").write_text("def f(:\n")
    assert fmt.main(["--check", "."]) == 2
    captured = capsys.readouterr()
    assert captured.out.count("would be reformatted") == fmt.PARALLEL_THRESHOLD + 4
    assert captured.err.startswith("bad.py:1:7: syntax error")
    assert fmt.main(["."]) == 2
    expected = black.format_str(UGLY, mode=black.Mode())
    assert all((tmp_path / f"m{i}.py").read_text() == expected for i in range(4))


def notebook(*sources: str, markdown_first: bool = True) -> dict[str, object]:
    cells: list[dict[str, object]] = []
    if markdown_first:
        cells.append({"cell_type": "markdown", "id": "m0", "metadata": {},
                      "source": ["# Title"]})  # fmt: skip
    for number, source in enumerate(sources):
        cells.append({"cell_type": "code", "execution_count": None,
                      "id": f"c{number}", "metadata": {}, "outputs": [],
                      "source": source.splitlines(keepends=True)})  # fmt: skip
    return {
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                    "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip


def canonical(nb: dict[str, object]) -> str:
    """The bytes nbstripout writes (through nbformat)."""
    import nbformat

    return nbformat.writes(nbformat.from_dict(nb)) + "\n"


def test_notebook_formatted_like_black_and_stays_canonical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil
    import subprocess
    import sys

    import nbformat

    monkeypatch.chdir(project(tmp_path))
    nb = notebook("%matplotlib inline\nx = {  'a':1 }", "def f(a,b):\n  return a+b\n")
    text = canonical(nb)
    (tmp_path / "n.ipynb").write_text(text, encoding="utf-8")
    reference = tmp_path / "ref"
    reference.mkdir()
    shutil.copy(tmp_path / "n.ipynb", reference / "n.ipynb")
    (reference / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    black_cli = subprocess.run(
        [sys.executable, "-m", "black", "-q", "n.ipynb"], cwd=reference, check=False
    )
    assert black_cli.returncode == 0
    assert fmt.main(["--check", "n.ipynb"]) == 1
    assert (tmp_path / "n.ipynb").read_text(encoding="utf-8") == text
    assert fmt.main(["n.ipynb"]) == 1
    ours = (tmp_path / "n.ipynb").read_text(encoding="utf-8")
    theirs = nbformat.reads((reference / "n.ipynb").read_text(), as_version=4)
    assert ours == nbformat.writes(theirs) + "\n"  # black's cells, nbstripout's bytes
    assert ours != text and "%matplotlib inline" in ours
    assert fmt.main(["n.ipynb"]) == 0


def test_non_canonical_notebook_gets_blacks_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import shutil
    import subprocess
    import sys

    monkeypatch.chdir(project(tmp_path))
    text = json.dumps(notebook("y=2"), indent=2) + "\n"  # not nbformat's layout
    (tmp_path / "n.ipynb").write_text(text, encoding="utf-8")
    shutil.copy(tmp_path / "n.ipynb", tmp_path / "ref.ipynb")
    subprocess.run(
        [sys.executable, "-m", "black", "-q", "ref.ipynb"], cwd=tmp_path, check=True
    )
    assert fmt.main(["n.ipynb"]) == 1
    assert (tmp_path / "n.ipynb").read_bytes() == (tmp_path / "ref.ipynb").read_bytes()


def test_notebook_cells_black_cannot_parse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cell that is not Python is left alone, as black does; a crash is one line."""
    monkeypatch.chdir(project(tmp_path))
    text = canonical(notebook("x  =  1\n", "if y:\nprint(y)\n"))
    (tmp_path / "n.ipynb").write_text(text, encoding="utf-8")
    assert fmt.main(["n.ipynb"]) == 1
    ours = (tmp_path / "n.ipynb").read_text(encoding="utf-8")
    assert '"x = 1"' in ours and '"if y:\\n",\n    "print(y)\\n"' in ours
    capsys.readouterr()
    text = canonical(notebook("x = 1", "y = 2\nz = (\n"))
    (tmp_path / "n.ipynb").write_text(text, encoding="utf-8")
    assert fmt.main(["n.ipynb"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    source_key = next(  # the cell's "source" key: line 3 is past its last line
        n for n, line in enumerate(text.splitlines(), 1) if '"y = 2' in line
    )
    assert err[0].startswith(f"n.ipynb:{source_key - 1}:"), err
    assert "[cell 3, line 3] syntax error" in err[0], err
    assert (tmp_path / "n.ipynb").read_text(encoding="utf-8") == text


def test_directory_run_takes_notebooks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project(tmp_path))
    (tmp_path / "nb").mkdir()
    (tmp_path / "nb" / "n.ipynb").write_text(canonical(notebook("y=2\n")))
    assert fmt.main(["--check", "."]) == 1
    assert "nb/n.ipynb:1:1: format" in capsys.readouterr().out


def test_notebooks_without_jupyter_support_are_skipped_with_one_notice(
    tmp_path: Path,
) -> None:
    # As black does: a plain install (no `jupyter` extra) is not a broken
    # project; the Python files are still formatted and checked.
    import subprocess
    import sys

    project(tmp_path)
    nb = canonical(notebook("y=2\n"))
    (tmp_path / "n.ipynb").write_text(nb)
    (tmp_path / "a.py").write_text("x=1\n")
    code = (
        "import sys; sys.modules['IPython'] = None\n"  # as if IPython were absent
        "from mlqa.cli import main; raise SystemExit(main(['format', *sys.argv[1:]]))"
    )
    for args, status in ((["--check", "."], 1), (["."], 1), (["n.ipynb"], 0)):
        proc = subprocess.run(
            [sys.executable, "-c", code, *args], cwd=tmp_path, capture_output=True,
            text=True, check=False,
            env={**os.environ, "BLACK_CACHE_DIR": str(tmp_path / "cache")},
        )  # fmt: skip
        assert proc.returncode == status, (args, proc.stdout, proc.stderr)
        notices = [line for line in proc.stderr.splitlines() if "notebook" in line]
        assert notices == [
            "mlqa format: skipped 1 notebook(s): black's Jupyter support is not"
            " installed (pip install 'mlqa-toolkit[jupyter]')"
        ]
        assert "n.ipynb" not in proc.stdout + proc.stderr
    assert (tmp_path / "a.py").read_text() == "x = 1\n"
    assert (tmp_path / "n.ipynb").read_text() == nb


def test_extend_exclude_read_as_black_reads_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys

    pyproject = "[tool.black]\nextend-exclude = '^/legacy/'\n"
    monkeypatch.chdir(project(tmp_path, pyproject))
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "old.py").write_text(UGLY)
    (tmp_path / "build").mkdir()  # black's default exclude
    (tmp_path / "build" / "gen.py").write_text(UGLY)
    (tmp_path / "ok.py").write_text("x = 1\n")
    bare = subprocess.run(
        [sys.executable, "-m", "black", "--check", "-q", "."], cwd=tmp_path,
        check=False, env={**os.environ, "BLACK_CACHE_DIR": str(tmp_path / "c")},
    )  # fmt: skip
    assert bare.returncode == 0
    assert fmt.main(["--check", "."]) == 0
    (tmp_path / "new.py").write_text(UGLY)
    assert fmt.main(["--check", "."]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "new.py:1:1: format would be reformatted by black"
    ]
