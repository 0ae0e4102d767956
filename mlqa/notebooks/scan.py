"""Find the outputs a notebook is about to lose, without parsing them.

Outputs are most of a notebook's bytes (plots as base64, logs, tables) and
stripping drops them, so parsing them into Python objects is wasted work.
In a notebook laid out with a fixed indent per level, as nbformat, Jupyter
and most editors write it, JSON strings never hold a raw newline, so every
line starts with structure: a cell's ``"outputs": [`` opens a line at depth
3 and its ``]`` is the first line back at depth 3. :func:`elide_outputs`
replaces the content of every such array with a marker and the number of
outputs, in C-speed string searches; the rest of the notebook (sources,
metadata) is parsed as usual.

Only what the checks here prove is elided: every line inside the array is
deeper than the array, each output is an object opening a line at depth 4
with an ``"output_type"`` string at depth 5. Anything else (another layout,
CRLF line ends, a marker the file already holds) returns None, and the
caller parses the whole file. The caller must also check that each marker
landed in a cell's ``outputs`` (:func:`restore`); whether stripping really
drops those outputs is the caller's to decide from the cell metadata.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple

#: Text no notebook holds: the JSON string put in place of elided outputs.
MARKER = "\\u0000mlqa-elided-outputs"
_MARKER_VALUE = "\x00mlqa-elided-outputs"


class Elided(NamedTuple):
    """A notebook's text with its outputs elided.

    Attributes:
        text: The text with each elided array replaced by ``[MARKER, count]``.
        counts: The number of outputs in each elided array, in file order.
    """

    text: str
    counts: list[int]


class _Patterns(NamedTuple):
    opener: re.Pattern[str]
    closer: str
    bad_line: re.Pattern[str]
    output: str
    output_type: str


@lru_cache(maxsize=8)
def _patterns(unit: int) -> _Patterns:
    cell_key, output, output_key = " " * (3 * unit), " " * (4 * unit), " " * (5 * unit)
    return _Patterns(
        opener=re.compile(rf'\n{cell_key}"outputs": \[\n'),
        closer=f"\n{cell_key}]",
        # a line not deeper than an output, other than an output's "{" or "}"
        bad_line=re.compile(rf"\n(?!{output}(?: |\{{\n|\}},?(?:\n|\Z)))"),
        output=f"\n{output}{{\n",
        output_type=f'\n{output_key}"output_type": "',
    )


def _unit(text: str) -> int:
    """Return the indent of the second line (the file's indent per level), or 0."""
    end = text.find("\n")
    if end < 0:
        return 0
    unit = 0
    while text.startswith(" ", end + 1 + unit):
        unit += 1
    return unit if unit <= 8 and text.startswith('"', end + 1 + unit) else 0


def elide_outputs(text: str) -> Elided | None:
    """Replace each cell's non-empty outputs array with a marker and a count.

    Args:
        text: A notebook's text.

    Returns:
        The elided text and the counts, or None when there is nothing to
        elide or the layout does not prove where each array ends.
    """
    unit = _unit(text)
    if not unit or '"outputs": [\n' not in text or "mlqa-elided" in text:
        return None
    patterns = _patterns(unit)
    pieces: list[str] = []
    counts: list[int] = []
    done = 0
    for match in patterns.opener.finditer(text):
        start = match.end()
        if start < done:  # pragma: no cover - nested in a previous array
            return None
        end = text.find(patterns.closer, start - 1)
        if end < 0 or patterns.bad_line.search(text, start - 1, end):
            return None
        count = text.count(patterns.output, start - 1, end)
        if not count or text.count(patterns.output_type, start, end) != count:
            return None
        pieces += (text[done:start], f'"{MARKER}", {count}')
        counts.append(count)
        done = end
    if not counts:
        return None
    pieces.append(text[done:])
    return Elided("".join(pieces), counts)


def restore(nb: Any, counts: list[int]) -> dict[int, int] | None:
    """Empty the marked outputs arrays of a parsed elided notebook.

    Args:
        nb: The notebook parsed from :attr:`Elided.text` (structure checked).
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
