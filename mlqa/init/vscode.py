"""Plan ``.vscode/settings.json`` and ``.vscode/extensions.json``.

Both are merged into the user's files through :mod:`mlqa.init.jsonc_edit`,
keeping comments, trailing commas and every value the user set.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlqa.diagnostics import InputError
from mlqa.init.change import Change, newline, read
from mlqa.init.jsonc import loads, position
from mlqa.init.jsonc_edit import apply, indent_unit, insert, merge_jsonc, parse_object
from mlqa.templates import read_template

SETTINGS = ".vscode/settings.json"
EXTENSIONS = ".vscode/extensions.json"


def merge_extensions(
    path: str, old: str | None, wanted: Sequence[str]
) -> tuple[str, list[str]]:
    """Add recommended extensions to an ``extensions.json``, keeping the user's text.

    Args:
        path: The file, for messages.
        old: The current text, or None when the file does not exist.
        wanted: Extension ids to recommend; ones the user lists as unwanted are skipped.

    Returns:
        The new text and the ids added.

    Raises:
        InputError: If the text is not valid JSONC or its lists are not lists.
    """
    if old is None:
        return json.dumps({"recommendations": list(wanted)}, indent=4) + "\n", list(
            wanted
        )
    node = parse_object(path, old)
    if node is None:
        return merge_jsonc(path, old, {"recommendations": list(wanted)})
    fields = node.fields()
    for name in ("recommendations", "unwantedRecommendations"):
        if name in fields and not fields[name].is_array:
            line, column = position(old, fields[name].start)
            raise InputError(path, f"{name!r} must be a list", line, column)

    def ids(name: str) -> set[str]:
        items = fields[name].items if name in fields else ()
        return {item.value.lower() for item in items if isinstance(item.value, str)}

    unwanted = ids("unwantedRecommendations")
    if "recommendations" not in fields:
        keep = [w for w in wanted if w.lower() not in unwanted]
        return merge_jsonc(path, old, {"recommendations": keep})
    missing = [w for w in wanted if w.lower() not in ids("recommendations") | unwanted]
    if not missing:
        return old, []
    entries = [(None, w) for w in missing]
    edits = insert(
        old, fields["recommendations"], entries, indent_unit(old), newline(old)
    )
    return apply(old, edits), missing


def _template(name: str) -> Any:
    return loads(read_template("vscode", name), name)


def _added_note(what: str, added: Sequence[str]) -> str:
    if not added:
        return f"{what} already there"
    shown = ", ".join(added[:4]) + (
        f" and {len(added) - 4} more" if len(added) > 4 else ""
    )
    return f"add {what}: {shown}"


def plan_vscode(root: Path) -> list[Change]:
    """Plan the ``.vscode/settings.json`` and ``extensions.json`` changes.

    Args:
        root: The repository root.

    Returns:
        The two changes.

    Raises:
        InputError: If either file is not valid JSONC or has the wrong shape.
    """
    settings_old = read(root, SETTINGS)
    settings_new, added = merge_jsonc(
        str(root / SETTINGS), settings_old, _template("settings.json")
    )
    if settings_old is None:
        settings_new = read_template("vscode", "settings.json")
    changes = [
        Change(SETTINGS, settings_old, settings_new, _added_note("settings", added))
    ]
    wanted = _template("extensions.json")["recommendations"]
    ext_old = read(root, EXTENSIONS)
    ext_new, added = merge_extensions(str(root / EXTENSIONS), ext_old, wanted)
    if ext_old is None:
        ext_new = read_template("vscode", "extensions.json")
    changes.append(
        Change(EXTENSIONS, ext_old, ext_new, _added_note("recommendations", added))
    )
    return changes
