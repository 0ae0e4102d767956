"""Tests for mlqa.tools.mypy_untyped through ``mlqa types`` and real mypy.

In a function with no annotations only the findings that hold whatever mypy
inferred are reported by default; the same body in an annotated function,
or with ``report-untyped-guesses = true``, keeps every finding.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typecheck import mlqa_types

SOURCE = '''"""Research code: one loader with no annotations, its annotated twin."""
import os


def load(names, settings):
    params = {"blocks": [{} for _ in range(settings["n_layer"])]}
    target = params
    for name in names:
        target = params["blocks"][0]
        target = target.setdefault(name, {})
    return os.path.joinn(target, timer)


class Base:
    def train(self, mode: bool = True) -> "Base":
        return self


class Child(Base):
    def train(self, x_pos, x_neg):
        return self


def load_typed(names: list[str], settings: dict[str, int]) -> None:
    params = {"blocks": [{} for _ in range(settings["n_layer"])]}
    target = params
    for name in names:
        target = params["blocks"][0]
        target = target.setdefault(name, {})


def legacy(names):  # type: (list[str]) -> None
    params = {"blocks": [{} for _ in range(2)]}
    target = params
    target = params["blocks"][0]
    target = target.setdefault(names[0], {})
'''
# what mypy infers wrongly from the values: ``params`` is a dict of lists, so
# ``target.setdefault(name, {})`` looks like a list going into a dict
GUESSED = "mypy[arg-type]"


def types(root: Path, settings: str = "") -> list[tuple[object, object]]:
    (root / "pyproject.toml").write_text(f"[project]\nname = 'p'\n{settings}")
    (root / "loader.py").write_text(SOURCE)
    code, items, stderr = mlqa_types(root, "loader.py")
    assert code == 1, stderr
    return [(item["line"], item["code"]) for item in items]


def test_untyped_bodies_keep_only_what_holds_whatever_was_inferred(
    tmp_path: Path,
) -> None:
    assert types(tmp_path) == [
        (11, "mypy[attr-defined]"),  # os.path has no joinn: an AttributeError
        (11, "mypy[name-defined]"),  # timer: a NameError
        (20, "mypy[override]"),  # train(x_pos, x_neg) breaks model.train(False)
        (29, GUESSED),  # the same body, annotated: the author's types decide
        (36, GUESSED),  # a type comment is an annotation too
    ]


def test_report_untyped_guesses_keeps_them_all(tmp_path: Path) -> None:
    found = types(tmp_path, "\n[tool.mlqa]\nreport-untyped-guesses = true\n")
    assert found == [
        (10, GUESSED),  # the guess in the unannotated loader comes back
        (11, "mypy[attr-defined]"),
        (11, "mypy[name-defined]"),
        (20, "mypy[override]"),
        (29, GUESSED),
        (36, GUESSED),
    ]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("pyproject.toml", "[tool.mypy]\ncheck_untyped_defs = true\n"),
        ("mypy.ini", "[mypy]\nstrict = True\n"),
        ("setup.cfg", "[mypy]\ncheck_untyped_defs = 1\n"),
    ],
)
def test_a_project_that_asks_mypy_for_untyped_bodies_gets_them(
    tmp_path: Path, name: str, text: str
) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / name).write_text(
        ("[project]\nname = 'p'\n" if name == "pyproject.toml" else "") + text
    )
    (tmp_path / "loader.py").write_text(SOURCE)
    _, items, stderr = mlqa_types(tmp_path, "loader.py")
    found = [(item["line"], item["code"]) for item in items]
    assert (10, GUESSED) in found, stderr


def test_an_unreadable_mypy_config_is_mypys_to_report(tmp_path: Path) -> None:
    (tmp_path / "mypy.ini").write_text("[mypy]\nstrict = maybe\n")
    (tmp_path / "loader.py").write_text(SOURCE)
    code, items, stderr = mlqa_types(tmp_path, "loader.py")
    assert "Traceback" not in stderr
    # mypy says the value is no boolean; the project asked for nothing else
    assert "strict" in stderr or any("strict" in str(i["message"]) for i in items)
    assert (10, GUESSED) not in [(i["line"], i["code"]) for i in items], code


@pytest.mark.parametrize(
    ("code", "message", "kept"),
    [
        ("name-defined", 'Name "sys" is not defined', True),
        ("attr-defined", 'Module "numpy" has no attribute "in1d"', True),
        ("attr-defined", 'Module has no attribute "_export"', True),
        ("attr-defined", '"list[Any]" has no attribute "mean"', False),
        # an nn.Module typed item iterated: about the item's guessed class
        (
            "attr-defined",
            'Module has no attribute "__iter__"; maybe "__dir__"? (not iterable)',
            False,
        ),
        ("union-attr", 'Item "str" of "str | Any" has no attribute "cfg"', False),
        ("has-type", 'Cannot determine type of "cache_k"', False),
    ],
)
def test_declaration_level(code: str, message: str, kept: bool) -> None:
    from mlqa.diagnostics import Finding
    from mlqa.tools.mypy_untyped import declaration_level

    assert declaration_level(Finding("f.py", 1, 1, code, message)) is kept
