"""Add entries to a JSONC document without touching the user's text.

New keys and array items are rendered with :mod:`json` and spliced into the
text at offsets from :mod:`mlqa.init.jsonc`: comments, trailing commas, the
file's indentation and line breaks stay as they were. An object the template
also has is merged key by key (so ``"[python]"`` blocks gain mlqa's keys);
where both set a key, the user's value wins.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from mlqa.diagnostics import InputError
from mlqa.init.change import newline
from mlqa.init.jsonc import Node, parse, position

#: A replacement of ``text[start:end]``: (start, end, new text).
Edit = tuple[int, int, str]


def line_indent(text: str, offset: int) -> str:
    """Return the leading whitespace of the line holding an offset."""
    start = text.rfind("\n", 0, offset) + 1
    line = text[start:offset]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _first_on_line(text: str, offset: int) -> bool:
    start = text.rfind("\n", 0, offset) + 1
    return not text[start:offset].strip()


def _after_newline(text: str, start: int, end: int) -> int | None:
    """Return the offset after the first line break in a gap, outside block comments."""
    i = start
    while i < end:
        if text.startswith("//", i):
            j = text.find("\n", i, end)
            return None if j == -1 else j + 1
        if text.startswith("/*", i):
            j = text.find("*/", i + 2, end)
            if j == -1:
                return None
            i = j + 2
            continue
        if text[i] == "\n":
            return i + 1
        i += 1
    return None


def _render(value: Any, indent: str | None, unit: str, nl: str) -> str:
    if indent is None:
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, indent=unit, ensure_ascii=False).replace("\n", nl + indent)


def insert(
    text: str,
    node: Node,
    entries: Sequence[tuple[str | None, Any]],
    unit: str,
    nl: str,
) -> list[Edit]:
    """Plan the edits that add entries at the end of a JSON object or array.

    Args:
        text: The whole document.
        node: The object or array.
        entries: (key, or None for an array, value) to add, in order.
        unit: One level of indentation.
        nl: The line break to use.

    Returns:
        Non-overlapping edits.
    """
    if node.is_object:
        spans = [(m.start, m.value.end) for m in node.members]
    else:
        spans = [(item.start, item.end) for item in node.items]
    open_end, close_start = node.start + 1, node.end - 1
    close_indent = line_indent(text, node.start)
    has_tc = node.trailing_comma is not None

    def render(indent: str | None) -> list[str]:
        out = []
        for key, value in entries:
            rendered = _render(value, indent, unit, nl)
            out.append(rendered if key is None else f"{json.dumps(key)}: {rendered}")
        return out

    if not spans:
        indent = close_indent + unit
        body = [indent + e for e in render(indent)]
        gap = text[open_end:close_start]
        point = _after_newline(text, open_end, close_start)
        if not gap.strip() or point is None:
            tail = nl + close_indent
            if gap.strip():  # a comment on the bracket's line stays before the entries
                return [(open_end, open_end, nl + ("," + nl).join(body) + tail)]
            return [(open_end, close_start, nl + ("," + nl).join(body) + tail)]
        return [(point, point, ("," + nl).join(body) + nl)]
    first, last_end = spans[0][0], spans[-1][1]
    anchor = node.trailing_comma + 1 if node.trailing_comma is not None else last_end
    comma = "," if has_tc else ""
    if "\n" not in text[open_end:close_start]:
        inline = ", ".join(render(None))
        if has_tc:
            return [(anchor, anchor, " " + inline + ",")]
        return [(last_end, last_end, ", " + inline)]
    indent = (
        line_indent(text, first) if _first_on_line(text, first) else close_indent + unit
    )
    block = ("," + nl).join(indent + e for e in render(indent)) + comma
    point = _after_newline(text, anchor, close_start)
    if point is not None:
        edits: list[Edit] = [(point, point, block + nl)]
    elif not text[anchor:close_start].strip():
        edits = [(anchor, close_start, nl + block + nl + close_indent)]
    else:
        edits = [(anchor, anchor, nl + block + nl + close_indent)]
    if not has_tc:
        # The separating comma goes right after the last value (before any
        # comment on its line); fold it into an edit that starts there.
        if edits[0][0] == last_end:
            start, end, replacement = edits[0]
            edits = [(start, end, "," + replacement)]
        else:
            edits.append((last_end, last_end, ","))
    return edits


def _merge_object(
    text: str, node: Node, template: Mapping[str, Any], unit: str, nl: str
) -> tuple[list[Edit], list[str]]:
    existing = node.fields()
    edits: list[Edit] = []
    added: list[str] = []
    missing: list[tuple[str | None, Any]] = []
    for key, value in template.items():
        if key not in existing:
            missing.append((key, value))
            added.append(key)
        elif isinstance(value, dict) and existing[key].is_object:
            sub_edits, sub_added = _merge_object(text, existing[key], value, unit, nl)
            edits += sub_edits
            added += [f"{key} > {name}" for name in sub_added]
    if missing:
        edits += insert(text, node, missing, unit, nl)
    return edits, added


def apply(text: str, edits: Sequence[Edit]) -> str:
    """Apply non-overlapping edits to a text.

    Args:
        text: The text.
        edits: The edits, in any order.

    Returns:
        The edited text.
    """
    for start, end, replacement in sorted(
        edits, key=lambda e: (e[0], e[1]), reverse=True
    ):
        text = text[:start] + replacement + text[end:]
    return text


def indent_unit(text: str) -> str:
    """Guess one level of a document's indentation (four spaces if none)."""
    match = re.search(r"(?m)^([ \t]+)[\"'/\w\[]", text)
    if match is None:
        return "    "
    return "\t" if match.group(1).startswith("\t") else match.group(1)


def parse_object(path: str, text: str) -> Node | None:
    """Parse a JSONC document whose top-level value must be an object.

    Args:
        path: The file, for messages.
        text: Its text.

    Returns:
        The object, or None when the text holds only whitespace and comments.

    Raises:
        InputError: If the text is not valid JSONC or its value is not an object.
    """
    node = parse(path, text)
    if node is not None and not node.is_object:
        line, column = position(text, node.start)
        raise InputError(path, "expected a JSON object at the top level", line, column)
    return node


def merge_jsonc(
    path: str, old: str | None, template: Mapping[str, Any]
) -> tuple[str, list[str]]:
    """Merge a template object into a JSONC document, keeping the user's text.

    Args:
        path: The file, for messages.
        old: The current text, or None when the file does not exist.
        template: The settings to add where missing (objects merged key by key).

    Returns:
        The new text and the keys added (nested ones as ``outer > inner``).

    Raises:
        InputError: If the text is not valid JSONC or not an object, naming the
            line and column.
    """
    if old is None:
        return json.dumps(template, indent=4, ensure_ascii=False) + "\n", list(template)
    node = parse_object(path, old)
    nl = newline(old)
    if node is None:
        body = json.dumps(template, indent=4, ensure_ascii=False).replace("\n", nl)
        sep = "" if not old or old.endswith("\n") else nl
        return old + sep + body + nl, list(template)
    edits, added = _merge_object(old, node, template, indent_unit(old), nl)
    return apply(old, edits), added
