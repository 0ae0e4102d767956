"""A JSONC parser that keeps each value's place in the text.

VS Code's settings files are JSONC: JSON plus ``//`` and ``/* */`` comments and
trailing commas. ``mlqa init`` edits them by splicing new entries into the
user's text at the offsets of the values already there (:mod:`mlqa.init.jsonc_edit`),
so it needs a parser that reports where each value starts and ends.

Why hand-written rather than a library (the project prefers a well-kept library
and says so when it does not use one): json-five, used before, gave offsets
but installs the import name ``json5``, the same as the ``json5`` package that
JupyterLab requires, so installing both broke ``mlqa init`` (issue 11). The
libraries that parse JSONC under their own import name either give no positions
(commentjson, jsonc-parser, json-with-comments; the json5 and pyjson5 parsers)
or are young, thinly used releases (jsonc-edit, jsonc-document). JSONC is a
small grammar: this module is under 300 lines with no dependencies, and its
tests (tests/test_jsonc.py) check it against Python's ``json`` and the ``json5``
package on the same inputs.

The grammar is what VS Code reads: strict JSON values (double-quoted strings
and keys, JSON numbers, ``true``/``false``/``null``), comments anywhere
whitespace may stand, one trailing comma in an object or array. JSON5 extras
(single quotes, bare keys, hex numbers, ``NaN``) are errors, as VS Code
reports them. Every error is an :class:`~mlqa.diagnostics.InputError` with the
1-based line and column: ``path:line:col: invalid JSON: message``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from mlqa.diagnostics import InputError

#: Objects and arrays nested deeper than this are refused with a clean error.
MAX_DEPTH = 200

_SPACE = re.compile(r"[ \t\r\n]+")
_LINE_COMMENT = re.compile(r"//[^\r\n]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_SPECIAL = re.compile(r'["\\\x00-\x1f]')
_WORD = re.compile(r"[\w$.+-]+")
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_ESCAPES = frozenset('"\\/bfnrt')
_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}


@dataclass(frozen=True, eq=False)
class Node:
    """One JSONC value and where it sits in the text.

    Attributes:
        start: Offset of its first character (``{``, ``[``, ``"``, a digit...).
        end: Offset just after its last character.
        value: The plain Python value (of a repeated key, the last one wins).
        members: An object's members, in order (empty for other values).
        items: An array's items, in order (empty for other values).
        trailing_comma: Offset of a comma after an object's or array's last entry.
    """

    start: int
    end: int
    value: Any
    members: tuple[Member, ...] = ()
    items: tuple[Node, ...] = ()
    trailing_comma: int | None = None

    @property
    def is_object(self) -> bool:
        """Tell whether this is an object."""
        return isinstance(self.value, dict)

    @property
    def is_array(self) -> bool:
        """Tell whether this is an array."""
        return isinstance(self.value, list)

    def fields(self) -> dict[str, Node]:
        """Return an object's values by key (of a repeated key, the last one)."""
        return {member.key: member.value for member in self.members}


@dataclass(frozen=True, eq=False)
class Member:
    """One ``"key": value`` of an object.

    Attributes:
        key: The decoded key.
        start: Offset of the key's opening quote.
        value: The value.
    """

    key: str
    start: int
    value: Node


def position(text: str, offset: int) -> tuple[int, int]:
    """Return the 1-based line and column of an offset.

    Args:
        text: The document.
        offset: A character offset into it.

    Returns:
        (line, column); a column counts characters, a tab as one.
    """
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


class _Parser:
    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.pos = 0

    def error(self, message: str, offset: int) -> InputError:
        line, column = position(self.text, offset)
        return InputError(self.path, f"invalid JSON: {message}", line, column)

    def found(self) -> str:
        """Describe what stands at the current position, for messages."""
        if self.pos >= len(self.text):
            return "end of file"
        word = _WORD.match(self.text, self.pos)
        return repr(word.group() if word else self.text[self.pos])

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def skip(self) -> None:
        """Move past whitespace and comments."""
        text = self.text
        while True:
            match = _SPACE.match(text, self.pos) or _LINE_COMMENT.match(text, self.pos)
            if match:
                self.pos = match.end()
            elif text.startswith("/*", self.pos):
                close = text.find("*/", self.pos + 2)
                if close == -1:
                    raise self.error("unterminated /* comment", self.pos)
                self.pos = close + 2
            else:
                return

    def value(self, depth: int) -> Node:
        self.skip()
        char, start = self.peek(), self.pos
        if char in ("{", "["):
            if depth >= MAX_DEPTH:
                raise self.error(f"nested deeper than {MAX_DEPTH} levels", start)
            return self.container(depth + 1)
        if char == '"':
            return self.string()
        number = _NUMBER.match(self.text, start)
        word = _WORD.match(self.text, start)
        if number and word and number.end() == word.end():
            try:
                value = json.loads(number.group())
            except ValueError:  # more digits than int() accepts
                raise self.error("number too long", start) from None
            self.pos = number.end()
            return Node(start, self.pos, value)
        if word and word.group() in _LITERALS:
            self.pos = word.end()
            return Node(start, self.pos, _LITERALS[word.group()])
        raise self.error(f"expected a value, found {self.found()}", start)

    def string(self) -> Node:
        text, start = self.text, self.pos
        end = start + 1
        while True:
            special = _SPECIAL.search(text, end)
            end = special.start() if special else len(text)
            char = text[end : end + 1]
            if char == '"':
                break
            if char == "\\":
                escape = text[end + 1 : end + 2]
                if escape == "u" and _HEX4.fullmatch(text, end + 2, end + 6):
                    end += 6
                elif escape in _ESCAPES:
                    end += 2
                elif escape in ("", "\r", "\n"):
                    raise self.error("unterminated string", start)
                elif escape == "u":
                    raise self.error("invalid escape \\u: needs 4 hex digits", end)
                else:
                    raise self.error(f"invalid escape \\{escape} in a string", end)
            elif char in ("", "\r", "\n"):
                raise self.error("unterminated string", start)
            else:
                raise self.error(
                    f"control character U+{ord(char):04X} in a string", end
                )
        self.pos = end + 1
        return Node(start, self.pos, json.loads(text[start : self.pos]))

    def container(self, depth: int) -> Node:
        start, is_object = self.pos, self.text[self.pos] == "{"
        close = "}" if is_object else "]"
        members: list[Member] = []
        items: list[Node] = []
        trailing: int | None = None
        self.pos += 1
        self.skip()
        if self.peek() == close:
            self.pos += 1
            return Node(start, self.pos, {} if is_object else [])
        while True:
            if is_object:
                self.skip()
                if self.peek() != '"':
                    raise self.error(
                        f"expected a key in double quotes, found {self.found()}",
                        self.pos,
                    )
                key = self.string()
                self.skip()
                if self.peek() != ":":
                    raise self.error(
                        f"expected ':' after the key, found {self.found()}", self.pos
                    )
                self.pos += 1
                members.append(Member(key.value, key.start, self.value(depth)))
            else:
                items.append(self.value(depth))
            self.skip()
            if self.peek() == close:
                break
            if self.peek() != ",":
                raise self.error(
                    f"expected ',' or {close!r}, found {self.found()}", self.pos
                )
            comma = self.pos
            self.pos += 1
            self.skip()
            if self.peek() == close:
                trailing = comma
                break
        self.pos += 1
        if is_object:
            value: Any = {member.key: member.value.value for member in members}
        else:
            value = [item.value for item in items]
        return Node(start, self.pos, value, tuple(members), tuple(items), trailing)


def parse(path: str, text: str) -> Node | None:
    """Parse a JSONC document.

    Args:
        path: The file, for messages.
        text: Its text.

    Returns:
        The top-level value, or None when the text holds only whitespace and
        comments.

    Raises:
        InputError: If the text is not valid JSONC, naming line and column.
    """
    parser = _Parser(path, text)
    parser.skip()
    if parser.pos >= len(text):
        return None
    node = parser.value(0)
    parser.skip()
    if parser.pos < len(text):
        raise parser.error(f"unexpected {parser.found()} after the value", parser.pos)
    return node


def loads(text: str, path: str = "<string>") -> Any:
    """Return the plain Python value of a JSONC document (None if it has none).

    Args:
        text: The document.
        path: The file, for messages.

    Returns:
        Its value: dicts, lists, strings, numbers, booleans and None.

    Raises:
        InputError: If the text is not valid JSONC.
    """
    node = parse(path, text)
    return None if node is None else node.value
