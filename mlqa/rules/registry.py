"""The central table of rule codes: one :class:`Rule` per code, docs included.

Each rule family module (``hyperparameters``, ``devices``) declares its rules
as :class:`Rule` values; this module gathers them. ``mlqa rule`` prints a
rule's ``doc``; ``docs/rules/<name>.md`` is rendered from the same text.
"""

from __future__ import annotations

from typing import NamedTuple

#: Every rule's documentation must have these sections, in this order.
SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead")


class Rule(NamedTuple):
    """One rule: its code, its name (what it flags), a summary and its docs.

    Attributes:
        code: The code, e.g. ``MLQ101``.
        name: A kebab-case name saying what it flags; also the docs file name.
        summary: One line, used by ``mlqa rule``, the README and sarif.
        doc: Markdown with the sections in :data:`SECTIONS`.
    """

    code: str
    name: str
    summary: str
    doc: str


def all_rules() -> dict[str, Rule]:
    """Return every rule by code, in code order.

    Returns:
        A dict code -> Rule.
    """
    from mlqa.rules import devices, hyperparameters

    rules = [*hyperparameters.RULES, *devices.RULES]
    return {rule.code: rule for rule in sorted(rules)}


def expand(patterns: list[str] | tuple[str, ...], codes: list[str]) -> set[str]:
    """Expand codes and prefixes (``MLQ1`` -> every MLQ1xx code), as ruff does.

    Args:
        patterns: Codes or prefixes; ``ALL`` means every code.
        codes: The known codes.

    Returns:
        The matching codes.

    Raises:
        ValueError: If a pattern matches no known code.
    """
    chosen: set[str] = set()
    for pattern in patterns:
        pattern = pattern.strip().upper()
        if not pattern:
            continue
        matched = (
            codes if pattern == "ALL" else [c for c in codes if c.startswith(pattern)]
        )
        if not matched:
            raise ValueError(f"unknown rule code or prefix {pattern!r}")
        chosen.update(matched)
    return chosen
