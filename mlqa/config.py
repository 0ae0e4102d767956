"""``[tool.mlqa]`` loading and validation: the one place every part reads config from.

The nearest ``pyproject.toml`` at or above the start directory wins (as for
black and ruff). Every key is validated; an unknown key or a wrong type is an
:class:`~mlqa.diagnostics.InputError` naming the key and its line.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mlqa.diagnostics import InputError

#: Tools whose own ``[tool.X]`` table, when present, replaces mlqa's preset.
TOOL_TABLES = ("black", "ruff", "mypy", "pydoclint")


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_str_list_table(value: object) -> bool:
    return isinstance(value, dict) and all(_is_str_list(v) for v in value.values())


def _is_table(value: object) -> bool:
    return isinstance(value, dict)


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


# key -> (validator, description of the expected type, default)
Validator = Callable[[object], bool]
SCHEMA: dict[str, tuple[Validator, str, Any]] = {
    "exclude": (_is_str_list, "a list of glob strings", []),
    "select": (_is_str_list, "a list of rule codes or prefixes", []),
    "ignore": (_is_str_list, "a list of rule codes or prefixes", []),
    "per-file-ignores": (
        _is_str_list_table,
        "a table of glob = [rule codes]",
        {},
    ),
    "config-paths": (
        _is_str_list,
        "a list of glob strings",
        [
            "config*.py",
            "**/config*.py",
            "configs/**",
            "conf/**",
            "**/configs/**",
            "**/conf/**",
        ],
    ),
    "hyperparameter-names": (_is_str_list, "a list of keyword names", []),
    "cache": (_is_bool, "true or false", True),
    "report-optional-uses": (_is_bool, "true or false", False),
    "report-untyped-guesses": (_is_bool, "true or false", False),
    "notebooks": (_is_table, "a table", {}),
    "models": (_is_table, "a table of model tables", {}),
}


class Config:
    """The validated ``[tool.mlqa]`` settings of one project.

    Args:
        root: The project root: the directory of ``pyproject``, else the start dir.
        pyproject: The ``pyproject.toml`` read, or None when there is none.
        settings: ``[tool.mlqa]`` merged over the defaults, keys as in SCHEMA.
        tool_tables: The ``[tool.X]`` tables the project has, among TOOL_TABLES.
        raw: The whole parsed ``pyproject.toml`` (empty when there is none).
    """

    __slots__ = ("root", "pyproject", "settings", "tool_tables", "raw")

    def __init__(
        self,
        root: Path,
        pyproject: Path | None = None,
        settings: Mapping[str, Any] | None = None,
        tool_tables: frozenset[str] = frozenset(),
        raw: Mapping[str, Any] | None = None,
    ) -> None:
        self.root = root
        self.pyproject = pyproject
        self.settings: Mapping[str, Any] = settings or {}
        self.tool_tables = tool_tables
        self.raw: Mapping[str, Any] = raw or {}

    def __repr__(self) -> str:
        return f"Config(root={self.root!r}, pyproject={self.pyproject!r})"

    def get(self, key: str) -> Any:
        """Return a setting, or its default.

        Args:
            key: A key of SCHEMA.

        Returns:
            The configured value, or the default.
        """
        if key in self.settings:
            return self.settings[key]
        return SCHEMA[key][2]

    def with_settings(self, overrides: Mapping[str, Any]) -> Config:
        """Return a copy whose ``[tool.mlqa]`` settings are replaced by ``overrides``.

        Command-line options (``mlqa check --select``, ``mlqa strip
        --keep-output``) are layered onto the project's config this way, so a
        step's ``run`` reads one config whatever door called it.

        Args:
            overrides: Keys of SCHEMA and their values.

        Returns:
            The new config; this one is unchanged.
        """
        settings = {**self.settings, **overrides}
        return Config(self.root, self.pyproject, settings, self.tool_tables, self.raw)

    def has_tool_config(self, tool: str) -> bool:
        """Tell whether the project configures ``tool`` itself, anywhere the tool reads.

        Args:
            tool: One of TOOL_TABLES.

        Returns:
            True when :meth:`tool_config` finds a file.
        """
        return self.tool_config(tool) is not None

    def tool_config(self, tool: str) -> Path | None:
        """Find the file the tool itself would read its settings from.

        The one answer to "does the project configure X" for every door
        (the runners, ``mlqa init``), in each tool's own order of precedence:
        ruff ``.ruff.toml``, ``ruff.toml``, then ``[tool.ruff]``; mypy
        ``mypy.ini``, ``.mypy.ini``, ``[tool.mypy]``, then ``setup.cfg`` with a
        ``[mypy]`` section; black and pydoclint ``[tool.X]`` only.

        Args:
            tool: One of TOOL_TABLES.

        Returns:
            The file, or None when mlqa's preset applies.
        """
        in_pyproject = self.pyproject if tool in self.tool_tables else None
        if tool == "ruff":
            return _first_file(self.root, (".ruff.toml", "ruff.toml")) or in_pyproject
        if tool == "mypy":
            own = _first_file(self.root, ("mypy.ini", ".mypy.ini")) or in_pyproject
            setup_cfg = self.root / "setup.cfg"
            if own is None and setup_cfg.is_file():
                text = setup_cfg.read_text(encoding="utf-8", errors="replace")
                if re.search(r"(?m)^\[mypy(?:-[^\]]*)?\]", text):
                    return setup_cfg
            return own
        return in_pyproject


def _first_file(root: Path, names: tuple[str, ...]) -> Path | None:
    return next((root / n for n in names if (root / n).is_file()), None)


def find_pyproject(start: Path | str | None = None) -> Path | None:
    """Find the nearest ``pyproject.toml`` at or above ``start``.

    Args:
        start: A file or directory; the current directory if None.

    Returns:
        The path, or None if there is none up to the filesystem root.
    """
    here = Path(start or ".").resolve()
    if here.is_file():
        here = here.parent
    for directory in (here, *here.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def line_of(text: str, key: str, table: str = "tool.mlqa") -> int | None:
    """Find the 1-based line where ``key`` is set, best effort.

    Args:
        text: The TOML text.
        key: The key name.
        table: The table it belongs to, used to prefer a match inside it.

    Returns:
        The line number, or None when not found.
    """
    import re

    lines = text.splitlines()
    header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?")
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    current = ""
    fallback = None
    for number, line in enumerate(lines, 1):
        match = header.match(line)
        if match:
            current = match.group(1).replace('"', "").replace("'", "")
            continue
        if pattern.match(line):
            if current == table or current.startswith(table + "."):
                return number
            fallback = fallback or number
    return fallback


def parse_pyproject(path: Path) -> tuple[dict[str, Any], str]:
    """Parse a pyproject.toml, turning every failure into an InputError.

    Args:
        path: The file.

    Returns:
        The parsed document and its text.

    Raises:
        InputError: If the file cannot be read or is not valid TOML.
    """
    import re

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    from mlqa.diagnostics import read_text

    text = read_text(path)
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\(at line (\d+), column (\d+)\)", message)
        if match:
            message = message[: match.start()].strip()
            raise InputError(
                path, f"invalid TOML: {message}", int(match[1]), int(match[2])
            ) from None
        if "end of document" in message:
            lines = text.splitlines() or [""]
            raise InputError(
                path, f"invalid TOML: {message}", len(lines), len(lines[-1]) + 1
            ) from None
        raise InputError(path, f"invalid TOML: {message}") from None


def validate(
    settings: Mapping[str, Any], path: Path | str, text: str = ""
) -> dict[str, Any]:
    """Validate a ``[tool.mlqa]`` table.

    Args:
        settings: The table as parsed.
        path: The file it came from, for messages.
        text: The file's text, to find line numbers.

    Returns:
        A plain dict copy of the settings.

    Raises:
        InputError: On the first unknown key or badly typed value.
    """
    for key, value in settings.items():
        if key not in SCHEMA:
            known = ", ".join(sorted(SCHEMA))
            raise InputError(
                path,
                f"[tool.mlqa] unknown key {key!r} (known: {known})",
                line_of(text, key),
            )
        check, expected, _ = SCHEMA[key]
        if not check(value):
            raise InputError(
                path,
                f"[tool.mlqa] {key} must be {expected}, got {type(value).__name__} {value!r}",
                line_of(text, key),
            )
    return dict(settings)


def load(
    start: Path | str | None = None, pyproject: Path | str | None = None
) -> Config:
    """Load and validate the project config.

    Args:
        start: Where to start looking for pyproject.toml (a file or a directory).
        pyproject: An explicit pyproject.toml, bypassing the search.

    Returns:
        The config; defaults only when there is no pyproject.toml.

    Raises:
        InputError: If the pyproject.toml is unreadable, invalid TOML, or
            ``[tool.mlqa]`` has a bad key or value.
    """
    path = Path(pyproject) if pyproject is not None else find_pyproject(start)
    if path is None:
        base = Path(start or ".").resolve()
        return Config(root=base.parent if base.is_file() else base)
    data, text = parse_pyproject(path)
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise InputError(path, "[tool] must be a table", line_of(text, "tool", ""))
    section = tool.get("mlqa", {})
    if not isinstance(section, dict):
        raise InputError(
            path, "tool.mlqa must be a table", line_of(text, "mlqa", "tool")
        )
    settings = validate(section, path, text)
    tables = frozenset(name for name in TOOL_TABLES if isinstance(tool.get(name), dict))
    return Config(
        root=path.parent.resolve(),
        pyproject=path,
        settings=settings,
        tool_tables=tables,
        raw=data,
    )
