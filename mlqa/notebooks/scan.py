"""Find the outputs a notebook is about to lose, without parsing them.

Outputs are most of a notebook's bytes (plots as base64, logs, tables) and
stripping drops them, so parsing them into Python objects is wasted work.
In a notebook laid out with a fixed indent per level, as nbformat, Jupyter
and most editors write it, JSON strings never hold a raw newline, so every
line starts with structure: a cell's ``"outputs": [`` opens a line at depth
3, each output is an object whose ``{`` and ``}`` open lines at depth 4, and
the array's ``]`` is the first line back at depth 3. :func:`elide_outputs`
walks those lines, jumping from newline to newline (``memchr``), and replaces
each array's content with a marker and the number of outputs; the rest of
the notebook (sources, metadata) is parsed as usual.

Only what the walk proves is elided: every line inside the array is an
output's ``{`` or ``}`` at depth 4 or deeper than that, and each output has
an ``"output_type"`` string key at depth 5. Anything else (another layout,
CRLF line ends) returns None, and the caller parses the whole file; the
caller also checks that each marker landed in a cell's ``outputs``
(:func:`restore`) and decides from the cell metadata whether stripping really
drops those outputs. What the walk does not check is the JSON inside the
dropped outputs' lines.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

#: The JSON string put in place of elided outputs (``"\\u0000mlqa-elided"``).
MARKER = b'"\\u0000mlqa-elided", '
_MARKER_VALUE = "\x00mlqa-elided"


class Elided(NamedTuple):
    """A notebook's bytes with its outputs elided.

    Attributes:
        data: The bytes with each elided array replaced by ``[MARKER, count]``.
        counts: The number of outputs in each elided array, in file order.
        spans: Where each elided array's content was in the original bytes
            (whole lines, so each is whole UTF-8 characters too).
    """

    data: bytes
    counts: list[int]
    spans: list[tuple[int, int]]


class _Layout(NamedTuple):
    opener: bytes  # a cell's '"outputs": [' line, from its newline
    deep: bytes  # the start of a line deeper than an output
    output: bytes  # the start of an output's "{" or "}" line
    closer: bytes  # the outputs array's "]" line
    output_type: bytes  # an output's "output_type" key line


@lru_cache(maxsize=8)
def _layout(unit: int) -> _Layout:
    return _Layout(
        opener=b"\n" + b" " * (3 * unit) + b'"outputs": [\n',
        deep=b" " * (4 * unit + 1),
        output=b" " * (4 * unit),
        closer=b" " * (3 * unit) + b"]",
        output_type=b" " * (5 * unit) + b'"output_type": "',
    )


def _unit(data: bytes) -> int:
    """Return the indent of the second line (the file's indent per level), or 0."""
    start = data.find(b"\n") + 1
    if not start:
        return 0
    unit = len(data[start : start + 9]) - len(data[start : start + 9].lstrip(b" "))
    return unit if 0 < unit <= 8 and data.startswith(b'"', start + unit) else 0


def _array_end(data: bytes, start: int, layout: _Layout, width: int) -> tuple[int, int]:
    """Walk an outputs array's lines from ``start``; return its end and count.

    Args:
        data: The notebook's bytes.
        start: Where the array's first line starts.
        layout: The line starts of the file's layout.
        width: The indent of an output's ``{`` line.

    Returns:
        The index of the newline before the closing ``]`` and the number of
        outputs, or ``(-1, 0)`` when a line is not where the layout puts it.
    """
    find, startswith = data.find, data.startswith
    deep, output, output_type, closer = (
        layout.deep,
        layout.output,
        layout.output_type,
        layout.closer,
    )
    pos, count, inside, typed = start, 0, False, False
    while True:
        if startswith(deep, pos):
            if startswith(output_type, pos):
                if not inside:
                    return -1, 0
                typed = True
        elif startswith(output, pos):
            mark = data[pos + width : pos + width + 3]
            if mark[:2] == b"{\n" and not inside:
                inside, typed, count = True, False, count + 1
            elif mark[:1] == b"}" and inside and typed and mark[1:2] in (b"\n", b","):
                inside = False
            else:
                return -1, 0
        elif startswith(closer, pos) and not inside and count:
            return pos - 1, count
        else:
            return -1, 0
        newline = find(b"\n", pos)
        if newline < 0:
            return -1, 0
        pos = newline + 1


def elide_outputs(data: bytes) -> Elided | None:
    """Replace each cell's non-empty outputs array with a marker and a count.

    Args:
        data: A notebook's bytes (without a byte order mark).

    Returns:
        The elided bytes and the counts, or None when there is nothing to
        elide or the layout does not prove where each array ends.
    """
    unit = _unit(data)
    if not unit:
        return None
    layout = _layout(unit)
    pieces: list[bytes] = []
    counts: list[int] = []
    spans: list[tuple[int, int]] = []
    done = 0
    while True:
        found = data.find(layout.opener, done)
        if found < 0:
            break
        start = found + len(layout.opener)
        end, count = _array_end(data, start, layout, 4 * unit)
        if end < 0:
            return None
        pieces += (data[done:start], MARKER, b"%d" % count)
        counts.append(count)
        spans.append((start, end))
        done = end
    if not counts:
        return None
    pieces.append(data[done:])
    return Elided(b"".join(pieces), counts, spans)


def is_utf8(data: bytes, spans: list[tuple[int, int]]) -> bool:
    """Tell whether the elided parts of ``data`` are UTF-8, decoding only non-ASCII ones.

    Args:
        data: The original bytes.
        spans: :attr:`Elided.spans`.

    Returns:
        True when every span decodes.
    """
    for start, end in spans:
        part = data[start:end]
        if not part.isascii():
            try:
                part.decode("utf-8")
            except UnicodeDecodeError:
                return False
    return True


def restore(nb: Any, counts: list[int]) -> dict[int, int] | None:
    """Empty the marked outputs arrays of a parsed elided notebook.

    Args:
        nb: The notebook parsed from :attr:`Elided.data` (structure checked).
        counts: :attr:`Elided.counts`.

    Returns:
        For each cell whose outputs were elided, its index and its number of
        outputs; None if the markers are not exactly the cells' outputs.
    """
    found: dict[int, int] = {}
    for index, cell in enumerate(nb["cells"]):
        outputs = cell.get("outputs")
        if (
            type(outputs) is list
            and len(outputs) == 2
            and outputs[0] == _MARKER_VALUE
            and type(outputs[1]) is int
        ):
            found[index] = outputs[1]
            cell["outputs"] = []
    if list(found.values()) != counts:
        return None
    return found
