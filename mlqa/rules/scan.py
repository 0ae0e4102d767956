"""Text scans that find where a rule could fire, before any tree is walked.

A check's scan appends character offsets of the source where it might report
(a superset is fine: it only prunes the walk). :func:`lines_of` turns the
offsets of every active scan into the sorted candidate line numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def trie_regex(words: Iterable[str]) -> str:
    """Build a regex alternation of words, factored by common prefixes.

    Python's ``re`` tries alternatives one by one; a trie makes the first
    character pick the branch, which is what keeps the candidate scan cheap.

    Args:
        words: Plain words (no regex syntax).

    Returns:
        A regex matching exactly those words (not anchored).
    """
    trie: dict[str, dict] = {}  # type: ignore[type-arg]
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict) -> str:  # type: ignore[type-arg]
        ends = "" in node
        branches = [
            re.escape(c) + build(child) for c, child in sorted(node.items()) if c
        ]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return f"(?:{body})?" if len(branches) > 1 or len(body) > 1 else body + "?"
        return body

    return build(trie)


def find_all(source: str, needle: str, starts: list[int]) -> None:
    """Append the offset of every occurrence of ``needle``.

    Args:
        source: The text.
        needle: A plain string.
        starts: Updated in place.
    """
    index = source.find(needle)
    while index != -1:
        starts.append(index)
        index = source.find(needle, index + len(needle))


def lines_of(source: str, starts: list[int]) -> list[int]:
    """Turn offsets into the sorted, distinct 1-based lines holding them.

    Args:
        source: The text.
        starts: Offsets into it (sorted in place).

    Returns:
        The line numbers.
    """
    starts.sort()
    lines: list[int] = []
    line, pos = 1, 0
    for start in starts:
        line += source.count("\n", pos, start)
        pos = start
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines
