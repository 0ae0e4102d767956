"""Tests for mlqa.tools.docstrings: Google style with zero false positives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlqa.tools import docstrings

VALID = '''"""Utilities for training."""

from collections.abc import Iterator


def scale(x: float, factor: float = 2.0, *args: int, **kwargs: str) -> float:
    """Scale a number.

    Args:
        x: The number.
        factor: How much to multiply by.
        *args: Ignored extras.
        **kwargs: Ignored options.

    Returns:
        The scaled number.

    Raises:
        ValueError: If x is negative.
    """
    if x < 0:
        raise ValueError("negative")
    return x * factor


def count(n: int) -> Iterator[int]:
    """Count up.

    Args:
        n: How far.

    Yields:
        The numbers from 0 to n - 1.
    """
    yield from range(n)


class Model:
    """A model.

    Args:
        width: The width.
    """

    def __init__(self, width: int) -> None:
        self.width = width

    def forward(self, x: float) -> float:
        """Apply the model.

        Args:
            x: The input.

        Returns:
            The output.
        """
        return x * self.width
'''

BROKEN = '''"""Module."""


def scale(x: float, factor: float = 2.0) -> float:
    """Scale a number.

    Args:
        x: The number.

    Returns:
        The scaled number.
    """
    return x * factor


def swap(a: int, b: int) -> tuple[int, int]:
    """Swap.

    Args:
        b: Second.
        a: First.

    Returns:
        The pair.
    """
    return b, a


def undocumented(a):
    return a
'''


def run_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> tuple[int, list[dict[str, object]]]:
    (tmp_path / name).write_text(text)
    code = docstrings.main(["--format", "json", str(tmp_path / name)])
    return code, json.loads(capsys.readouterr().out or "[]")


def test_valid_google_docstrings_have_zero_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, items = run_json(tmp_path, capsys, "good.py", VALID)
    assert items == []
    assert code == 0


def test_signature_mismatches_and_missing_docstrings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, items = run_json(tmp_path, capsys, "bad.py", BROKEN)
    assert code == 1
    found = {(item["line"], item["code"]) for item in items}
    assert (4, "DOC101") in found  # factor is not documented
    assert (16, "DOC104") in found  # a and b in the wrong order
    assert (29, "D103") in found  # no docstring at all


def test_tests_are_exempt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, items = run_json(tmp_path, capsys, "test_thing.py", BROKEN)
    assert (code, items) == (0, [])


def test_user_pydoclint_config_wins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.pydoclint]\nstyle = 'google'\narg-type-hints-in-docstring = true\n"
    )
    code, items = run_json(tmp_path, capsys, "good.py", VALID)
    assert code == 1
    assert {item["code"] for item in items} >= {
        "DOC105"
    }  # types now required in docstrings


def test_unknown_pydoclint_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.pydoclint]\nstyel = 'google'\n")
    (tmp_path / "a.py").write_text(VALID)
    assert docstrings.main([str(tmp_path / "a.py")]) == 2
    assert "[tool.pydoclint] unknown key 'styel'" in capsys.readouterr().err


def test_syntax_error_reported_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "syn.py").write_text("def f(:\n")
    assert docstrings.main([str(tmp_path / "syn.py")]) == 2
    err = capsys.readouterr().err
    assert err.count("syntax error") == 1 and "Traceback" not in err


def test_user_ruff_config_keeps_its_d_ignores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.ruff.lint]\nselect = ['E', 'F']\nignore = ['D103']\n"
        "[tool.ruff.lint.pydocstyle]\nconvention = 'google'\n"
    )
    code, items = run_json(tmp_path, capsys, "bad.py", BROKEN + "\nimport os\n")
    codes = {item["code"] for item in items}
    assert "D103" not in codes  # the project ignores it
    assert (
        "F401" not in codes and "E402" not in codes
    )  # lint's business, not docstrings'
    assert "DOC101" in codes and code == 1


PROPAGATED = '''"""Module."""

import json


def load(text: str) -> object:
    """Parse JSON.

    Args:
        text: The document.

    Returns:
        The value.

    Raises:
        ValueError: If the text is not JSON (raised by json.loads).
    """
    return json.loads(text)
'''


def test_propagated_raises_are_fine_in_the_preset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, items = run_json(tmp_path, capsys, "prop.py", PROPAGATED)
    assert (code, items) == (0, [])
    (tmp_path / "pyproject.toml").write_text("[tool.pydoclint]\nstyle = 'google'\n")
    code, items = run_json(tmp_path, capsys, "prop.py", PROPAGATED)
    assert "DOC502" in {
        item["code"] for item in items
    }  # the user's own table: pydoclint as is
