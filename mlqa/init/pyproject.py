"""Plan ``pyproject.toml``: ``[tool.mlqa]`` and mlqa's tool presets.

Each table is appended as text (rendered by tomlkit) for every tool the project
configures nowhere, then the result is checked with tomllib: nothing the user
wrote is touched.
"""

from __future__ import annotations

import configparser
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mlqa.diagnostics import InputError
from mlqa.init.change import Change, newline, read

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PYPROJECT = "pyproject.toml"


def _presets_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "presets"


def _toml_value(value: str) -> Any:
    lowered = value.strip().lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    try:
        return int(value)
    except ValueError:
        return value.strip()


def _ruff_preset() -> dict[str, Any]:
    lint = tomllib.loads((_presets_dir() / "ruff.toml").read_text("utf-8"))
    docs = tomllib.loads((_presets_dir() / "ruff-docstrings.toml").read_text("utf-8"))
    merged: dict[str, Any] = {k: v for k, v in lint.items() if k != "lint"}
    section = dict(lint.get("lint", {}))
    doc_lint = docs.get("lint", {})
    # `mlqa lint` selects the lint rules; `mlqa docstrings` adds the guide's D codes
    # (ruff-docstrings.toml) and reads the D settings below, so both behave as
    # with mlqa's own presets.
    section["ignore"] = list(section.get("ignore", [])) + [
        code
        for code in doc_lint.get("ignore", [])
        if code not in section.get("ignore", [])
    ]
    if "pydocstyle" in doc_lint:
        section["pydocstyle"] = dict(doc_lint["pydocstyle"])
    per_file = {k: list(v) for k, v in section.get("per-file-ignores", {}).items()}
    for glob, codes in doc_lint.get("per-file-ignores", {}).items():
        per_file.setdefault(glob, [])
        per_file[glob] += [c for c in codes if c not in per_file[glob]]
    if per_file:
        section["per-file-ignores"] = per_file
    merged["lint"] = section
    return merged


def _mypy_preset() -> dict[str, Any]:
    parser = configparser.ConfigParser()
    parser.read_string((_presets_dir() / "mypy.ini").read_text("utf-8"))
    return {key: _toml_value(value) for key, value in parser["mypy"].items()}


def _pydoclint_preset() -> dict[str, Any]:
    from mlqa.tools.docstrings import PYDOCLINT_PRESET

    return dict(PYDOCLINT_PRESET)


#: The tables ``mlqa init`` adds when missing: name -> (description, content).
TOOL_PRESETS: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
    "mlqa": (
        "mlqa's settings (all keys optional; see docs/configuration.md)",
        lambda: {"exclude": []},
    ),
    "ruff": (
        "mlqa's ruff preset: lint rules for ML code, Google docstrings",
        _ruff_preset,
    ),
    "mypy": (
        "mlqa's mypy preset: catches type errors, quiet on idiomatic torch",
        _mypy_preset,
    ),
    "pydoclint": (
        "mlqa's pydoclint preset: the Google Python Style Guide's rules (docs/docstrings.md)",
        _pydoclint_preset,
    ),
}


def _multiline(value: Any) -> Any:
    import tomlkit

    if isinstance(value, list) and len(value) > 4:
        array = tomlkit.array()
        array.extend(value)
        return array.multiline(True)
    if isinstance(value, dict):
        return {k: _multiline(v) for k, v in value.items()}
    return value


def _tool_block(
    name: str, description: str, content: Mapping[str, Any], nl: str
) -> str:
    import tomlkit

    body = tomlkit.dumps({"tool": {name: _multiline(dict(content))}})
    body = body.replace(f"[tool.{name}]\n", f"[tool.{name}]\n# {description}\n", 1)
    return body.replace("\n", nl)


def plan_pyproject(root: Path) -> Change:
    """Plan the ``pyproject.toml`` change.

    Args:
        root: The repository root.

    Returns:
        The change: ``[tool.mlqa]`` and mlqa's presets appended for each tool the
        project configures nowhere; the user's text is kept byte for byte.

    Raises:
        InputError: If the file is not valid TOML, its ``[tool.mlqa]`` is invalid,
            or a table cannot be added.
    """
    from mlqa.config import Config, parse_pyproject, validate

    path = root / PYPROJECT
    old = read(root, PYPROJECT)
    data: dict[str, Any] = {}
    text = old or ""
    if old is not None:
        data, text = parse_pyproject(path)
        tool = data.get("tool", {})
        if not isinstance(tool, dict):
            raise InputError(path, "[tool] must be a table")
        if "mlqa" in tool:
            if not isinstance(tool["mlqa"], dict):
                raise InputError(path, "tool.mlqa must be a table")
            validate(tool["mlqa"], path, text)
    tool = data.get("tool", {})
    nl = newline(text)
    blocks, added = [], []
    for name, (description, make) in TOOL_PRESETS.items():
        # the project configures it in the tool's own file (ruff.toml, mypy.ini...)
        if name in tool or Config(root).tool_config(name) is not None:
            continue
        content = make()
        project = data.get("project")
        if isinstance(project, dict) and "requires-python" in project:
            # ruff reads the target version from requires-python: do not pin another.
            content.pop("target-version", None)
        blocks.append(_tool_block(name, description, content, nl))
        added.append(name)
    if not blocks:
        return Change(
            PYPROJECT, old, text if old is not None else "", "tool tables already there"
        )
    new = text
    if new and not new.endswith(("\n", "\r")):
        new += nl
    if new.strip():
        new += nl
    new += nl.join(blocks)
    try:
        parsed = tomllib.loads(new)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"cannot add [tool.{added[0]}] here: {exc}") from None
    if {k: v for k, v in parsed.items() if k != "tool"} != {
        k: v for k, v in data.items() if k != "tool"
    }:  # pragma: no cover - appending tables cannot change other keys
        raise InputError(path, "adding mlqa's tables would change other settings")
    note = "add " + ", ".join(f"[tool.{name}]" for name in added)
    return Change(PYPROJECT, old, new, note)
