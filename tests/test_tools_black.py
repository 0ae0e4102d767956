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
