"""Tests for mlqa.config: discovery, validation, errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlqa import config
from mlqa.diagnostics import InputError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_nearest_pyproject_wins(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.mlqa]\nexclude = ['a/**']\n")
    inner = write(
        tmp_path / "pkg" / "pyproject.toml", "[tool.mlqa]\nexclude = ['b/**']\n"
    )
    (tmp_path / "pkg" / "sub").mkdir()
    cfg = config.load(tmp_path / "pkg" / "sub")
    assert cfg.pyproject == inner
    assert cfg.root == inner.parent.resolve()
    assert cfg.get("exclude") == ["b/**"]


def test_no_pyproject_gives_defaults(tmp_path: Path) -> None:
    assert config.find_pyproject(tmp_path) is None  # nothing above pytest's tmp dirs
    cfg = config.load(tmp_path)
    assert cfg.pyproject is None and cfg.root == tmp_path.resolve()
    assert cfg.get("exclude") == []
    assert cfg.get("cache") is True


def test_file_as_start(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.black]\nline-length = 100\n")
    source = write(tmp_path / "x.py", "x = 1\n")
    cfg = config.load(source)
    assert cfg.has_tool_config("black")
    assert not cfg.has_tool_config("ruff")


def test_unknown_key_names_key_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        "[project]\nname='x'\n\n[tool.mlqa]\nexlcude = []\n",
    )
    with pytest.raises(InputError) as info:
        config.load(tmp_path)
    assert info.value.line == 5
    assert "unknown key 'exlcude'" in str(info.value)
    assert str(info.value).startswith(f"{path}:5: ")


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("exclude = 'a'", "exclude"),
        ("select = [1, 2]", "select"),
        ("cache = 'yes'", "cache"),
        ("per-file-ignores = {a = 'MLQ101'}", "per-file-ignores"),
        ("models = 3", "models"),
    ],
)
def test_wrong_type_is_one_line_error(tmp_path: Path, body: str, key: str) -> None:
    write(tmp_path / "pyproject.toml", f"[tool.mlqa]\n{body}\n")
    with pytest.raises(InputError) as info:
        config.load(tmp_path)
    message = str(info.value)
    assert f"{key} must be" in message
    assert "\n" not in message
    assert info.value.line == 2


def test_invalid_toml_has_line_and_column(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.mlqa]\nexclude = [\n")
    with pytest.raises(InputError) as info:
        config.load(tmp_path)
    assert info.value.line is not None and info.value.column is not None
    assert "invalid TOML" in str(info.value)


def test_tool_mlqa_not_a_table(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool]\nmlqa = 3\n")
    with pytest.raises(InputError, match="tool.mlqa must be a table"):
        config.load(tmp_path)


def test_non_utf8_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.mlqa]\nexclude = ['\xff']\n")
    with pytest.raises(InputError, match="not valid UTF-8"):
        config.load(tmp_path)


def test_explicit_pyproject(tmp_path: Path) -> None:
    path = write(tmp_path / "custom.toml", "[tool.mlqa]\nselect = ['MLQ1']\n")
    cfg = config.load(pyproject=path)
    assert cfg.get("select") == ["MLQ1"]


def test_error_line_is_the_keys_line_in_tool_mlqa(tmp_path: Path) -> None:
    # the same key earlier in another table must not take the blame
    write(
        tmp_path / "pyproject.toml",
        "[tool.other]\nexclude = 1\n\n[tool.mlqa]\nexclude = 2\n",
    )
    with pytest.raises(InputError) as info:
        config.load(tmp_path)
    assert "exclude must be" in str(info.value)
    assert info.value.line == 5
