"""What ``mlqa strip`` strips: ``[tool.mlqa.notebooks]`` and its flags.

The table's keys are nbstripout's flag names. :func:`validate` checks the
table, :func:`merge_flags` layers command-line flags over it (booleans
override, lists add, as nbstripout adds its flags to its git-config keys) and
:func:`build` turns the result into :class:`StripOptions`, the keyword
arguments of nbstripout's ``strip_output``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from mlqa.diagnostics import InputError
from mlqa.notebooks.upstream import DEFAULT_EXTRA_KEYS

#: The section of ``pyproject.toml`` these options live in.
TABLE = "tool.mlqa.notebooks"

BOOL_KEYS = (
    "keep-output",
    "keep-count",
    "keep-id",
    "drop-empty-cells",
    "strip-init-cells",
)
LIST_KEYS = (
    "extra-keys",
    "keep-metadata-keys",
    "drop-tagged-cells",
    "keep-output-types",
    "drop-output-types",
)
#: The keys ``[tool.mlqa.notebooks]`` accepts.
CONFIG_KEYS = (*BOOL_KEYS, *LIST_KEYS, "max-size")


class StripOptions(NamedTuple):
    """What to strip; the fields mirror nbstripout's command-line flags.

    Attributes:
        keep_output: Keep outputs (``--keep-output``); None lets a notebook's
            ``metadata.keep_output`` decide, as in nbstripout.
        keep_count: Keep execution counts (``--keep-count``).
        keep_id: Keep cell ids instead of renumbering them (``--keep-id``).
        extra_keys: Metadata keys to remove, defaults included.
        drop_empty_cells: Remove cells whose source is blank.
        drop_tagged_cells: Remove cells with these tags.
        strip_init_cells: Strip outputs of cells with ``init_cell: true`` too.
        keep_output_types: Output types to keep, e.g. ``stream``.
        drop_output_types: Output types to drop even with ``--keep-output``.
        max_size: Keep outputs of at most this many characters (0: none).
    """

    keep_output: bool | None = None
    keep_count: bool = False
    keep_id: bool = False
    extra_keys: tuple[str, ...] = DEFAULT_EXTRA_KEYS
    drop_empty_cells: bool = False
    drop_tagged_cells: tuple[str, ...] = ()
    strip_init_cells: bool = False
    keep_output_types: tuple[str, ...] = ()
    drop_output_types: tuple[str, ...] = ()
    max_size: int = 0

    def as_kwargs(self) -> dict[str, Any]:
        """Return the keyword arguments of ``nbstripout.strip_output``."""
        return {
            "keep_output": self.keep_output,
            "keep_count": self.keep_count,
            "keep_id": self.keep_id,
            "extra_keys": list(self.extra_keys),
            "drop_empty_cells": self.drop_empty_cells,
            "drop_tagged_cells": list(self.drop_tagged_cells),
            "strip_init_cells": self.strip_init_cells,
            "drop_output_types": set(self.drop_output_types),
            "keep_output_types": set(self.keep_output_types),
            "max_size": self.max_size,
        }


def parse_size(value: str | int, what: str = "max-size") -> int:
    """Parse a size such as ``500``, ``10K``, ``2M`` or ``1G``, as nbstripout does.

    Args:
        value: The size, an integer or a number with a K/M/G suffix (powers of 10).
        what: The option's name, for the message.

    Returns:
        The size in characters.

    Raises:
        ValueError: With a one-line message if the size is not understood.
    """
    if isinstance(value, bool):
        raise ValueError(f"{what}={value!r} is not a size (e.g. 500, 10K, 2M)")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{what}={value!r} must not be negative")
        return value
    text = str(value).strip().upper()
    factor = {"K": 10**3, "M": 10**6, "G": 10**9}.get(text[-1:], 1)
    digits = text[:-1] if factor != 1 else text
    if not digits.isdigit():
        raise ValueError(f"{what}={value!r} is not a size (e.g. 500, 10K, 2M)")
    return int(digits) * factor


def _words(value: object) -> list[str] | None:
    """Return a list of words from a list of strings or a space-separated string."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [word for item in value for word in item.split()]
    return None


def _problem(key: str, value: object, settings: dict[str, Any]) -> str | None:
    """Validate one key into ``settings``; return what is wrong with it, if anything."""
    if key in BOOL_KEYS:
        settings[key] = value
        return (
            None
            if isinstance(value, bool)
            else (f"{key} must be true or false, got {value!r}")
        )
    if key in LIST_KEYS:
        settings[key] = _words(value)
        return (
            None
            if settings[key] is not None
            else (f"{key} must be a list of strings, got {value!r}")
        )
    if key == "max-size":
        try:
            settings[key] = parse_size(value)  # type: ignore[arg-type]
        except ValueError as exc:
            return str(exc)
        return None
    return f"unknown key {key!r} (known: {', '.join(CONFIG_KEYS)})"


def validate(table: Mapping[str, Any], pyproject: Path | None) -> dict[str, Any]:
    """Validate ``[tool.mlqa.notebooks]``.

    Args:
        table: The table.
        pyproject: Its file, for messages.

    Returns:
        The settings with list values normalised to lists of words.

    Raises:
        InputError: On an unknown key or a badly typed value, naming the key.
    """
    settings: dict[str, Any] = {}
    for key, value in table.items():
        problem = _problem(key, value, settings)
        if problem:
            raise _config_error(pyproject, problem, key)
    return settings


def _config_error(pyproject: Path | None, problem: str, key: str) -> InputError:
    from mlqa.config import line_of

    try:
        text = pyproject.read_text(encoding="utf-8") if pyproject else ""
    except OSError:  # pragma: no cover
        text = ""
    line = line_of(text, key, TABLE) if text else None
    return InputError(pyproject or "pyproject.toml", f"[{TABLE}] {problem}", line)


def check_keys(keys: Sequence[str]) -> str | None:
    """Tell what is wrong with a list of metadata keys, if anything.

    Args:
        keys: Keys such as ``metadata.foo`` or ``cell.metadata.bar``.

    Returns:
        A one-line message, or None when every key is valid.
    """
    for key in keys:
        if "." not in key or key.split(".")[0] not in ("cell", "metadata"):
            return (
                f"invalid metadata key {key!r}: it must start with 'metadata.' "
                "(notebook) or 'cell.' (each cell), e.g. metadata.foo cell.metadata.bar"
            )
    return None


def merge_flags(
    settings: Mapping[str, Any], flags: Mapping[str, Any]
) -> dict[str, Any]:
    """Layer command-line flags over validated settings.

    Boolean flags override the config (``--no-keep-output`` turns a configured
    ``keep-output = true`` off); list flags add to the configured lists.

    Args:
        settings: Validated settings (:func:`validate`).
        flags: Config keys and the flag values given (None: not given; lists
            of space-separated words for list keys; a size string for
            ``max-size``).

    Returns:
        The merged settings, valid for :func:`validate` again.

    Raises:
        ValueError: With a one-line message on an invalid ``--max-size``.
    """
    merged = dict(settings)
    for key, value in flags.items():
        if value is None:
            continue
        if key in LIST_KEYS:
            merged[key] = [*merged.get(key, []), *(w for v in value for w in v.split())]
        elif key == "max-size":
            merged[key] = parse_size(value, "--max-size")
        else:
            merged[key] = value
    return merged


def build(settings: Mapping[str, Any]) -> StripOptions:
    """Turn validated settings into options.

    Args:
        settings: Validated (and merged) settings.

    Returns:
        The options.

    Raises:
        ValueError: With a one-line message on an invalid metadata key.
    """
    keep_metadata = list(settings.get("keep-metadata-keys", []))
    extra = [*DEFAULT_EXTRA_KEYS, *settings.get("extra-keys", [])]
    for keys in (extra, keep_metadata):
        problem = check_keys(keys)
        if problem:
            raise ValueError(problem)
    return StripOptions(
        keep_output=True if settings.get("keep-output") else None,
        keep_count=bool(settings.get("keep-count")),
        keep_id=bool(settings.get("keep-id")),
        extra_keys=tuple(key for key in extra if key not in keep_metadata),
        drop_empty_cells=bool(settings.get("drop-empty-cells")),
        drop_tagged_cells=tuple(settings.get("drop-tagged-cells", [])),
        strip_init_cells=bool(settings.get("strip-init-cells")),
        keep_output_types=tuple(settings.get("keep-output-types", [])),
        drop_output_types=tuple(settings.get("drop-output-types", [])),
        max_size=int(settings.get("max-size", 0)),
    )
