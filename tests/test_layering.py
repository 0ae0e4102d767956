"""mlqa's presets under the project's own tool settings, key by key, through real ruff.

Also the tool versions: the hooks pin one exact set, inside pyproject's ranges,
and ``mlqa --version`` names what is installed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from packaging.requirements import Requirement

from mlqa import cli, config
from mlqa.tools import layering
from mlqa.tools import ruff as lint

ROOT = Path(__file__).resolve().parents[1]
# 96 characters: isort (I001) wraps it at line-length 88, not at 100.
LONG_IMPORT = (
    "from os.path import abspath, basename, dirname, exists, expanduser, join, "
    "normpath, realpath\n"
)
SOURCE = (
    LONG_IMPORT
    + "from typing import List\n\n"
    + "x: List[str] = [abspath(basename(dirname(exists(expanduser(join(normpath(realpath('.'))))))))]\n"  # noqa: E501
    + "for i in range(3):\n    print(x)\n"
)


def codes(
    tmp_path: Path,
    pyproject: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    files: dict[str, str] | None = None,
    args: tuple[str, ...] = ("a.py",),
) -> list[str]:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    for name, text in (files or {"a.py": SOURCE}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    assert lint.main(["--format", "json", *args]) in (0, 1)
    return sorted({item["code"] for item in json.loads(capsys.readouterr().out)})


PROJECT = "[project]\nname = 'p'\n"


def test_preset_alone(tmp_path, capsys, monkeypatch) -> None:
    assert codes(tmp_path, PROJECT, capsys, monkeypatch) == [
        "B007", "I001", "UP006", "UP035",
    ]  # fmt: skip


def test_line_length_alone_keeps_the_preset_rules(
    tmp_path, capsys, monkeypatch
) -> None:
    found = codes(
        tmp_path, PROJECT + "[tool.ruff]\nline-length = 100\n", capsys, monkeypatch
    )
    assert found == ["B007", "UP006", "UP035"]  # the import fits in 100 columns


def test_select_replaces_the_selection(tmp_path, capsys, monkeypatch) -> None:
    pyproject = PROJECT + "[tool.ruff.lint]\nselect = ['B']\n"
    assert codes(tmp_path, pyproject, capsys, monkeypatch) == ["B007"]


def test_legacy_top_level_select_too(tmp_path, capsys, monkeypatch) -> None:
    pyproject = PROJECT + "[tool.ruff]\nselect = ['UP006']\n"
    assert codes(tmp_path, pyproject, capsys, monkeypatch) == ["UP006"]


def test_extend_select_and_extend_ignore_add_to_the_preset(
    tmp_path, capsys, monkeypatch
) -> None:
    pyproject = PROJECT + (
        "[tool.ruff.lint]\nextend-select = ['E501']\nextend-ignore = ['B007']\n"
    )
    found = codes(tmp_path, pyproject, capsys, monkeypatch)
    assert found == ["E501", "I001", "UP006", "UP035"]


def test_target_version_follows_requires_python(tmp_path, capsys, monkeypatch) -> None:
    pyproject = "[project]\nname = 'p'\nrequires-python = '>=3.8'\n"
    assert codes(tmp_path, pyproject, capsys, monkeypatch) == ["B007", "I001"]
    explicit = pyproject + "[tool.ruff]\ntarget-version = 'py311'\n"
    assert "UP006" in codes(tmp_path, explicit, capsys, monkeypatch)


@pytest.mark.parametrize(
    ("requires", "expected"),
    [(">=3.8", "py38"), ("~=3.9", "py39"), (">3.10", "py311"),
     (">=3.9,<4", "py39"), ("==3.12.*", "py312"), (">=3.6", "py37"), ("", None)],
)  # fmt: skip
def test_target_version_names(requires: str, expected: str | None) -> None:
    raw = {"project": {"requires-python": requires}} if requires else {}
    assert layering.target_version(config.Config(ROOT, raw=raw)) == expected


def test_ruff_toml_and_its_extend_chain(tmp_path, capsys, monkeypatch) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "ruff.toml").write_text("line-length = 100\n")
    (tmp_path / "ruff.toml").write_text(
        "extend = 'base/ruff.toml'\n[lint]\nextend-ignore = ['UP035']\n"
    )
    assert codes(tmp_path, PROJECT, capsys, monkeypatch) == ["B007", "UP006"]


def test_relative_paths_resolve_from_the_project_root(
    tmp_path, capsys, monkeypatch
) -> None:
    pyproject = PROJECT + (
        "[tool.ruff.lint.extend-per-file-ignores]\n'sub/*.py' = ['F401']\n"
    )
    files = {"sub/s.py": "import os\n", "tests/t.py": "def test():\n    assert False\n"}
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    (tmp_path / "pyproject.toml").write_text(pyproject)
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert lint.main(["s.py", "../tests"]) == 0  # preset's tests/** ignores B011 too
    assert capsys.readouterr().out == ""


def test_user_external_list_keeps_mlqa_codes(tmp_path, capsys, monkeypatch) -> None:
    pyproject = PROJECT + (
        "[tool.ruff.lint]\nextend-select = ['RUF100']\nexternal = ['V']\n"
    )
    files = {"a.py": "x = 1  # noqa: MLQ101\ny = 2  # noqa: V001\n"}
    assert codes(tmp_path, pyproject, capsys, monkeypatch, files) == []


def test_toml_values_round_trip() -> None:
    import tomllib

    value = {"a b": ["x", 1, 2.5, True], "c": {"d": 'q"\\\n'}}
    text = f"key = {layering.toml_value(value)}"
    assert tomllib.loads(text) == {"key": value}


@given(st.text())
def test_any_string_round_trips_as_a_toml_key_and_value(text: str) -> None:
    import tomllib

    line = f"{layering.toml_key(text)} = {layering.toml_string(text)}"
    assert tomllib.loads(line) == {text: text}


def _manifest_pins() -> dict[str, dict[str, str]]:
    manifest = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    return {
        hook["id"]: {
            Requirement(dep).name: dep
            for dep in hook.get("additional_dependencies", [])
        }
        for hook in manifest
        if hook["language"] == "python"
    }


def test_every_python_hook_pins_every_tool_exactly() -> None:
    pins = _manifest_pins()
    wanted = set(cli.TOOLS)
    for hook_id, deps in pins.items():
        assert set(deps) == wanted, hook_id
        for dep in deps.values():
            spec = str(Requirement(dep).specifier)
            assert re.fullmatch(r"==\d+(\.\d+)*", spec), (hook_id, dep)
    assert len({tuple(sorted(d.values())) for d in pins.values()}) == 1


def test_pins_inside_bounded_ranges() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {
        Requirement(r).name: Requirement(r).specifier for r in project["dependencies"]
    }
    pins = next(iter(_manifest_pins().values()))
    for name, dep in pins.items():
        spec = declared[name]
        assert any(s.operator == "<" for s in spec), f"{name} has no upper bound"
        assert any(s.operator == ">=" for s in spec), f"{name} has no lower bound"
        version = str(Requirement(dep).specifier).lstrip("=")
        assert spec.contains(version), (name, version, str(spec))
    jupyter = [Requirement(r) for r in project["optional-dependencies"]["jupyter"]]
    assert [(r.name, r.extras) for r in jupyter] == [("black", {"jupyter"})]
    assert jupyter[0].specifier == declared["black"]


def test_version_names_the_tools_as_they_report_themselves() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mlqa", "--version"], capture_output=True, text=True,
        check=True,
    ).stdout.strip()  # fmt: skip
    bin_dir = Path(sys.executable).parent
    ruff = subprocess.run(
        [str(bin_dir / "ruff"), "--version"], capture_output=True, text=True,
        check=True,
    ).stdout.split()[1]  # fmt: skip
    black = re.findall(r"\d+\.\d+\.\d+", subprocess.run(
        [sys.executable, "-m", "black", "--version"], capture_output=True,
        text=True, check=True,
    ).stdout)[0]  # fmt: skip
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--version"], capture_output=True, text=True,
        check=True,
    ).stdout.split()[1]  # fmt: skip
    assert out.startswith("mlqa ")
    for tool, version in (("black", black), ("ruff", ruff), ("mypy", mypy)):
        assert f"{tool} {version}" in out, out
    assert "pydoclint " in out and "nbstripout " in out


@pytest.mark.slow
def test_lowest_declared_versions_run_the_demo(tmp_path: Path) -> None:
    """pip-installs the lower bound of every dependency in a fresh venv (minutes)."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "check_min_versions.py"),
         "--venv", str(tmp_path / "venv")],
        capture_output=True, text=True, check=False, timeout=1800,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


PYDOCLINT_PROJECT = """[project]
name = 'p'
[tool.pydoclint]
style = 'google'
arg-type-hints-in-docstring = false
exclude = 'legacy/'
baseline = 'pydoclint-baseline.txt'
"""
UNDOCUMENTED = '''"""Mod."""


def {name}(a: int, b: int) -> int:
    """Add.

    Args:
        a: A.

    Returns:
        The sum.
    """
    return a + b
'''


def test_pydoclint_exclude_and_baseline_as_pydoclint_reads_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlqa.tools import docstrings

    (tmp_path / "pyproject.toml").write_text(PYDOCLINT_PROJECT)
    (tmp_path / "a.py").write_text(UNDOCUMENTED.format(name="old"))
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "b.py").write_text(UNDOCUMENTED.format(name="legacy"))
    generated = subprocess.run(  # pydoclint itself writes today's baseline
        [str(Path(sys.executable).parent / "pydoclint"), "--generate-baseline=True",
         "--quiet", "."], cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    baseline = (tmp_path / "pydoclint-baseline.txt").read_text()
    assert "a.py" in baseline and "DOC101" in baseline, generated.stderr
    assert "legacy" not in baseline
    monkeypatch.chdir(tmp_path)
    assert docstrings.main(["a.py", "legacy/b.py"]) == 0, capsys.readouterr()
    with (tmp_path / "a.py").open("a") as handle:  # a new problem, lines shift
        handle.write("\n\n" + UNDOCUMENTED.format(name="new").split('"""Mod."""')[1])
    (tmp_path / "a.py").write_text("\n" + (tmp_path / "a.py").read_text())
    assert docstrings.main(["a.py", "legacy/b.py"]) == 1
    out = capsys.readouterr().out.splitlines()
    text = (tmp_path / "a.py").read_text().splitlines()
    line = text.index("def new(a: int, b: int) -> int:") + 1
    assert out and all(o.startswith(f"a.py:{line}:1: DOC") for o in out), out
    assert any("DOC101 Function `new`" in o for o in out), out


def test_full_user_selection_gives_what_ruff_itself_gives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pyproject = PROJECT + (
        "[tool.ruff]\nline-length = 60\n[tool.ruff.lint]\nselect = ['E', 'F', 'B']\n"
        "ignore = ['E501', 'B007']\n[tool.ruff.lint.per-file-ignores]\n"
        "'sub/*' = ['F401']\n"
    )
    files = {"a.py": SOURCE + "import os\n", "sub/b.py": "import os\n" + SOURCE}
    ours = codes(tmp_path, pyproject, capsys, monkeypatch, files, ("a.py", "sub"))
    bare = subprocess.run(
        [str(Path(sys.executable).parent / "ruff"), "check", "--no-cache",
         "--output-format=json", "a.py", "sub"], cwd=tmp_path, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    theirs = sorted({item["code"] for item in json.loads(bare.stdout)})
    assert ours == theirs == ["E402", "F401"]
