"""mlqa's presets as the base, the project's own tool settings on top, key by key.

ruff: mlqa's ``ruff.toml`` is passed with ``--config`` and every key the
project sets (``[tool.ruff]``, ``ruff.toml`` or ``.ruff.toml``, following its
``extend`` chain) is passed as a ``--config "key = value"`` override, which
ruff applies over the preset exactly as it applies a config file over the one
it ``extend``-s: ``line-length`` alone keeps the preset's rule selection,
``select`` replaces it, ``extend-select``/``extend-ignore`` add to it. Relative
paths resolve against the project root (ruff's working directory), as they do
in the project's own file. The preset's ``target-version`` follows the
project's ``requires-python`` unless the project sets one.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from mlqa.config import Config, parse_pyproject
from mlqa.diagnostics import InputError
from mlqa.files import display
from mlqa.tools._common import preset

#: Tables of ruff's settings whose keys are layered one by one over the preset.
RUFF_SECTIONS = frozenset({"lint", "format", "analyze"})
#: ruff's Python versions, oldest first.
RUFF_VERSIONS = tuple(f"py3{minor}" for minor in range(7, 15))
_LOWER = re.compile(r"(>=|~=|==|>)\s*3\s*\.\s*(\d+)")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def target_version(config: Config) -> str | None:
    """Derive ruff's ``target-version`` from the project's ``requires-python``.

    As ruff and black do: the lowest Python 3 minor version the specifier
    allows (``>=3.8`` and ``~=3.8`` give ``py38``, ``>3.8`` gives ``py39``).

    Args:
        config: The project config.

    Returns:
        The version name (``"py38"``), or None when the project declares none
        that ruff knows.
    """
    project = config.raw.get("project", {})
    requires = project.get("requires-python") if isinstance(project, dict) else None
    if not isinstance(requires, str):
        return None
    minors = [
        int(minor) + (1 if op == ">" else 0) for op, minor in _LOWER.findall(requires)
    ]
    if not minors:
        return None
    name = f"py3{min(max(minors), int(RUFF_VERSIONS[-1][3:]))}"
    return name if name in RUFF_VERSIONS else RUFF_VERSIONS[0]


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    from mlqa.diagnostics import read_text

    try:
        return dict(tomllib.loads(read_text(path)))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"invalid TOML: {exc}") from None


def ruff_table(path: Path, seen: frozenset[Path] = frozenset()) -> dict[str, Any]:
    """Read a ruff config file's settings, its ``extend`` chain merged under it.

    Args:
        path: A ``pyproject.toml`` (its ``[tool.ruff]``) or a ``ruff.toml``.
        seen: Files already on the chain (a cycle is an error, as in ruff).

    Returns:
        The settings, nested as in a ``ruff.toml``.

    Raises:
        InputError: If a file on the chain is missing, unreadable or a cycle.
    """
    if path in seen:
        raise InputError(path, "ruff: circular 'extend' chain")
    if path.name == "pyproject.toml":
        tool = parse_pyproject(path)[0].get("tool", {})
        table = dict(tool.get("ruff", {})) if isinstance(tool, dict) else {}
    else:
        table = _read_toml(path)
    base_name = table.pop("extend", None)
    if not isinstance(base_name, str):
        return table
    base_path = Path(os.path.expandvars(os.path.expanduser(base_name)))
    base_path = base_path if base_path.is_absolute() else path.parent / base_path
    if not base_path.is_file():
        raise InputError(path, f"ruff: 'extend' file not found: {base_name}")
    return merge(ruff_table(base_path.resolve(), seen | {path}), table)


def merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Layer ``top`` over ``base``: keys replace keys; ruff's sections merge key by key.

    Args:
        base: The lower layer.
        top: The upper layer.

    Returns:
        The merged settings.
    """
    merged = dict(base)
    for key, value in top.items():
        below = merged.get(key)
        if key in RUFF_SECTIONS and isinstance(value, dict) and isinstance(below, dict):
            merged[key] = {**below, **value}
        else:
            merged[key] = value
    return merged


def toml_key(key: str) -> str:
    """Write a TOML key: bare when it can be, else quoted.

    Args:
        key: The key.

    Returns:
        The TOML text of the key.
    """
    return key if _BARE_KEY.match(key) else toml_string(key)


_CONTROL = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(text: str) -> str:
    """Write a TOML basic string (``json.dumps`` would do, at 1.5 ms of import).

    Args:
        text: The string.

    Returns:
        It quoted, with backslashes, quotes and control characters escaped.
    """
    out = text.replace("\\", "\\\\").replace('"', '\\"')
    if any(c < " " or c == "\x7f" for c in out):
        out = "".join(
            _CONTROL.get(c, f"\\u{ord(c):04x}") if c < " " or c == "\x7f" else c
            for c in out
        )
    return f'"{out}"'


def toml_value(value: object) -> str:
    """Write a value as inline TOML (strings, numbers, booleans, arrays, tables).

    Args:
        value: A value parsed from TOML.

    Returns:
        Its inline TOML text.

    Raises:
        TypeError: For a value TOML cannot hold inline (dates are not ruff settings).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def overrides(settings: Mapping[str, Any]) -> list[str]:
    """Turn settings into ruff's ``--config "key = value"`` overrides.

    One override per top-level key; a section of RUFF_SECTIONS is one inline
    table (``lint = {select = [...], ignore = [...]}``): ruff merges it key by
    key over the preset's section, and within one override ``select`` and
    ``ignore`` apply in ruff's order (across separate overrides they do not).

    Args:
        settings: Settings nested as in a ``ruff.toml``.

    Returns:
        The ``key = value`` strings.
    """
    return [f"{toml_key(key)} = {toml_value(value)}" for key, value in settings.items()]


def ruff_options(config: Config) -> list[str]:
    """Return ruff's options: the preset, then the project's settings over it.

    mlqa's codes (``MLQ``) stay ``external`` so ``# noqa: MLQ101`` is never an
    unknown code, whatever ``external`` list the project sets.

    Args:
        config: The project config.

    Returns:
        ``--config`` options, in order.

    Raises:
        InputError: If the project's ruff config cannot be read.
    """
    own = config.tool_config("ruff")
    settings = ruff_table(own.resolve()) if own is not None else {}
    if "target-version" not in settings:
        target = target_version(config)
        if target is not None:
            settings["target-version"] = target
    lint = settings.get("lint")
    for table in (settings, lint if isinstance(lint, dict) else {}):
        external = table.get("external")
        if isinstance(external, list) and "MLQ" not in external:
            table["external"] = [*external, "MLQ"]
    options = ["--config", os.fspath(preset("ruff.toml"))]
    for item in overrides(settings):
        options += ["--config", item]
    return options


class PydoclintScope(NamedTuple):
    """Which files pydoclint skips and which findings it already knows.

    Attributes:
        exclude: pydoclint's ``exclude`` regex (by default, paths with ``.git``
            or ``.tox``), searched in the root-relative posix path; None for
            ``exclude = ""``.
        baseline: For each root-relative file, the findings of the project's
            ``baseline`` file, as pydoclint writes them (``LINE: CODE: message``).
    """

    exclude: re.Pattern[str] | None
    baseline: Mapping[str, frozenset[str]]

    def skips(self, rel: str) -> bool:
        """Tell whether pydoclint's ``exclude`` skips a file.

        Args:
            rel: The file, relative to the project root, posix.

        Returns:
            True when the regex matches.
        """
        return self.exclude is not None and self.exclude.search(rel) is not None


def pydoclint_scope(config: Config) -> PydoclintScope:
    """Read ``[tool.pydoclint]``'s ``exclude`` and ``baseline`` as pydoclint does.

    Args:
        config: The project config.

    Returns:
        The scope; pydoclint's defaults when the project has no table.

    Raises:
        InputError: If ``exclude`` is not a valid regex or the baseline file
            is missing or unreadable.
    """
    table: Mapping[str, Any] = {}
    if config.has_tool_config("pydoclint"):
        table = config.raw["tool"]["pydoclint"]
    where = display(config.pyproject) if config.pyproject else "."
    pattern = str(table.get("exclude", r"\.git|\.tox"))
    try:
        exclude = re.compile(pattern) if pattern else None
    except re.error as exc:
        message = f"[tool.pydoclint] exclude: invalid regex: {exc}"
        raise InputError(where, message) from None
    baseline: dict[str, frozenset[str]] = {}
    name = table.get("baseline")
    if isinstance(name, str) and name:
        from pydoclint.baseline import parseBaseline

        path = config.root / name
        try:
            parsed = parseBaseline(path)
        except OSError as exc:
            raise InputError(
                where, f"[tool.pydoclint] baseline {name}: {exc.strerror or exc}"
            ) from None
        for file, lines in parsed.items():
            rel = file.strip().replace(os.sep, "/").removeprefix("./")
            baseline[rel] = frozenset(line.strip() for line in lines)
    return PydoclintScope(exclude, baseline)
