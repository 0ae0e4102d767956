"""Tests for the VS Code bundle (vscode/settings.json, vscode/extensions.json).

Every key must be one that VS Code or one of the recommended extensions really
defines (tests/data/vscode-setting-keys.json, taken from each extension's
package.json): a key that nothing reads would silently do nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import json5
import pytest

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "vscode"
REFERENCE = ROOT / "tests" / "data" / "vscode-setting-keys.json"
SHARED_REFERENCE = ROOT.parent / "shared" / "reference" / "vscode-setting-keys.json"

EXPECTED_EXTENSIONS = [
    "ms-python.python",
    "ms-python.black-formatter",
    "charliermarsh.ruff",
    "ms-python.mypy-type-checker",
    "njpwerner.autodocstring",
]
JSON_TYPES = {
    "string": str,
    "boolean": bool,
    "array": list,
    "object": dict,
    "null": type(None),
    "number": (int, float),
    "integer": int,
}


def _reference() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(REFERENCE.read_text("utf-8"))
    return data


def _setting_keys() -> dict[str, dict[str, Any]]:
    keys: dict[str, dict[str, Any]] = {}
    for group, entries in _reference().items():
        if group.startswith("_") or group == ".vscode/extensions.json":
            continue
        keys.update(entries)
    return keys


def _settings() -> dict[str, Any]:
    data: dict[str, Any] = json5.loads((BUNDLE / "settings.json").read_text("utf-8"))
    return data


def _flat_settings() -> list[tuple[str | None, str, Any]]:
    """(language block or None, key, value) for every setting in the bundle."""
    out: list[tuple[str | None, str, Any]] = []
    for key, value in _settings().items():
        if re.fullmatch(r"\[[\w.-]+\]", key):
            out += [(key, inner, v) for inner, v in value.items()]
        else:
            out.append((None, key, value))
    return out


def _type_ok(value: Any, declared: str | list[str]) -> bool:
    names = [declared] if isinstance(declared, str) else declared
    for name in names:
        expected = JSON_TYPES[name]
        if isinstance(value, bool) and name not in {"boolean"}:
            continue
        if isinstance(value, expected):
            return True
    return False


def test_vendored_reference_matches_shared_copy() -> None:
    if not SHARED_REFERENCE.is_file():
        pytest.skip("no shared reference next to this checkout")
    assert json.loads(REFERENCE.read_text("utf-8")) == json.loads(
        SHARED_REFERENCE.read_text("utf-8")
    )


def test_every_setting_key_is_defined_by_vscode_or_an_extension() -> None:
    known = _setting_keys()
    unknown = [
        f"{block or ''}{key}" for block, key, _ in _flat_settings() if key not in known
    ]
    assert unknown == []


def test_language_blocks_hold_only_language_overridable_keys() -> None:
    known = _setting_keys()
    wrong = [
        key
        for block, key, _ in _flat_settings()
        if block is not None and known[key].get("scope") != "language-overridable"
    ]
    assert wrong == []


def test_values_have_the_declared_type_and_enum() -> None:
    known = _setting_keys()
    for _, key, value in _flat_settings():
        spec = known[key]
        assert _type_ok(value, spec["type"]), (key, value, spec["type"])
        if "enum" in spec:
            assert value in spec["enum"], (key, value)
        if spec.get("items_type"):
            assert all(_type_ok(v, spec["items_type"]) for v in value), key


def test_code_actions_on_save_are_explicit() -> None:
    known = _setting_keys()
    actions = [
        (key, value)
        for _, key, value in _flat_settings()
        if key in {"editor.codeActionsOnSave", "notebook.codeActionsOnSave"}
    ]
    assert len(actions) == 2
    for key, value in actions:
        assert value and all(v == "explicit" for v in value.values()), key
        assert all(v in known[key]["value_enum"] for v in value.values())


def test_settings_do_what_the_bundle_promises() -> None:
    settings = _settings()
    python = settings["[python]"]
    assert python["editor.defaultFormatter"] == "ms-python.black-formatter"
    assert python["editor.formatOnSave"] is True
    assert set(python["editor.codeActionsOnSave"]) == {
        "source.fixAll.ruff",
        "source.organizeImports.ruff",
    }
    assert settings["notebook.defaultFormatter"] == "ms-python.black-formatter"
    assert settings["notebook.formatOnSave.enabled"] is True
    assert settings["python.testing.pytestEnabled"] is True
    assert "--mlqa" in settings["python.testing.pytestArgs"]
    assert settings["autoDocstring.docstringFormat"].startswith("google")


def test_docstring_format_matches_mlqa_docstring_check() -> None:
    from mlqa.tools.docstrings import PYDOCLINT_PRESET

    notypes = _settings()["autoDocstring.docstringFormat"].endswith("-notypes")
    assert notypes is (PYDOCLINT_PRESET["arg-type-hints-in-docstring"] is False)


def test_extensions_recommend_exactly_the_tools() -> None:
    data = json5.loads((BUNDLE / "extensions.json").read_text("utf-8"))
    allowed = set(_reference()[".vscode/extensions.json"]) - {"_schema"}
    assert set(data) <= allowed
    assert data["recommendations"] == EXPECTED_EXTENSIONS
    for ext in data["recommendations"]:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*\.[a-z0-9][a-z0-9-]*", ext)
    sources = set(_reference()["_sources"])
    assert set(EXPECTED_EXTENSIONS) <= sources


def test_formatters_named_in_settings_are_recommended() -> None:
    recommended = set(
        json5.loads((BUNDLE / "extensions.json").read_text("utf-8"))["recommendations"]
    )
    named = {
        value
        for _, key, value in _flat_settings()
        if key in {"editor.defaultFormatter", "notebook.defaultFormatter"}
    }
    assert named and named <= recommended


@pytest.mark.parametrize("name", ["settings.json", "extensions.json"])
def test_bundle_files_are_jsonc_with_comments(name: str) -> None:
    text = (BUNDLE / name).read_text("utf-8")
    assert "//" in text  # documented for the user ...
    json5.loads(text)  # ... and still parses as JSONC
