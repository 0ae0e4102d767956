"""Tests for mlqa.cli: dispatch, help, version, unknown commands."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import pytest

from mlqa import __version__, cli


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert f"  {name} " in out


def test_no_args_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert "usage: mlqa" in capsys.readouterr().out


def expected_version() -> str:
    tools = ("black", "ruff", "mypy", "pydoclint", "nbstripout")
    versions = ", ".join(f"{tool} {metadata.version(tool)}" for tool in tools)
    return f"mlqa {__version__} ({versions})"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == expected_version()


def test_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["frobnicate"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'frobnicate'" in err
    assert err.count("\n") == 1


def test_every_command_module_imports() -> None:
    import importlib

    for module, _ in cli.COMMANDS.values():
        assert callable(importlib.import_module(module).main)


def test_console_script_and_module_entry() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mlqa", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert proc.stdout.strip() == expected_version()


def test_cli_imports_no_tool_and_no_torch() -> None:
    code = (
        "import sys, mlqa.cli, mlqa.config, mlqa.diagnostics;"
        "heavy = [m for m in ('torch', 'black', 'mypy', 'rich', 'nbformat') if m in sys.modules];"
        "print(heavy); sys.exit(bool(heavy))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


BROKEN_PY = {
    "syntax.py": (b"def f(:\n    pass\n", "syntax.py:1:"),
    "latin.py": (b"x = 1\ny = '\xe9'\n", "latin.py:2:6: not valid UTF-8"),
    "nul.py": (b"x = 1\x00\n", "nul.py:1:1: binary file"),
    "cookie.py": (
        b"# coding: bogus\nx = 1\n",
        "cookie.py:1:1: bad encoding declaration",
    ),
}
PY_COMMANDS = ["format", "lint", "docstrings", "types", "check"]


@pytest.mark.parametrize("command", PY_COMMANDS)
@pytest.mark.parametrize("name", sorted(BROKEN_PY))
def test_broken_python_input(tmp_path, command: str, name: str) -> None:
    content, expected = BROKEN_PY[name]
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    bad = tmp_path / name
    bad.write_bytes(content)
    proc = subprocess.run(
        [sys.executable, "-m", "mlqa", command, name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith(name)]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(expected), lines[0]
    assert bad.read_bytes() == content


@pytest.mark.slow  # black over 20,000 lines: about 5 s of CPU
@pytest.mark.parametrize("command", PY_COMMANDS)
def test_empty_and_huge_files(tmp_path, command: str) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "__init__.py").write_text("")
    huge = '"""Generated."""\n\n' + "".join(f"x{i} = {i}\n" for i in range(20_000))
    (tmp_path / "huge.py").write_text(huge)
    proc = subprocess.run(
        [sys.executable, "-m", "mlqa", command, "__init__.py", "huge.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert (tmp_path / "huge.py").read_text() == huge


def test_broken_pipe_is_quiet(monkeypatch: pytest.MonkeyPatch, capfd) -> None:
    """`mlqa ... | head`: the reader is gone; exit quietly, no traceback."""
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has left
    saved = os.dup(1)
    try:
        with os.fdopen(write_end, "w") as closed_pipe:
            monkeypatch.setattr(sys, "stdout", closed_pipe)
            assert cli.main(["run", "--help"]) in (0, 1)
    except SystemExit as exc:  # argparse exits after printing --help
        assert exc.code in (0, 1)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    assert "Traceback" not in capfd.readouterr().err
