"""Tests for mlqa.cli: dispatch, help, version, unknown commands."""

from __future__ import annotations

import subprocess
import sys

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


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"mlqa {__version__}"


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
    assert proc.stdout.strip() == f"mlqa {__version__}"


def test_cli_imports_no_tool_and_no_torch() -> None:
    code = (
        "import sys, mlqa.cli, mlqa.config, mlqa.diagnostics;"
        "heavy = [m for m in ('torch', 'black', 'mypy', 'rich', 'nbformat') if m in sys.modules];"
        "print(heavy); sys.exit(bool(heavy))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
