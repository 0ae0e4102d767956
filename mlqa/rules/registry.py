"""The rule registry: every rule's code, name, docs and checks in one table.

A rule module (one per rule, named by what it flags) declares its
:class:`Rule` (code, name, summary, docs) and registers its checks with
:func:`register`: a function called for the AST node types it needs, the
rules it may report and, optionally, a text scan that finds the lines where
it could fire (the engine only walks those lines). The engine dispatches by
node type through this table; ``select``/``ignore`` pick rules by code or
prefix (``MLQ``, ``MLQ1``, ``MLQ101``) and a check runs when one of its rules
is picked.

This module imports no rule module at import time (rule modules import it),
so there is no import cycle: :func:`all_rules` imports :data:`RULE_MODULES`
on first use.

Adding a rule:

1. ``mlqa/rules/<what_it_flags>.py`` with ``RULE = define(Rule(code, name,
   summary, doc))`` (the doc has the :data:`SECTIONS`; the name is the module
   name in kebab case) and its check::

       @register(ast.Call, rules=(RULE,), scan=scan_something)
       def check_something(ctx: FileContext, node: ast.Call, state: State) -> None:
           if ...:
               ctx.report(node, RULE, "what is wrong; what to do")

   ``scan`` appends the offsets of the text where the check could fire (a
   superset; it decides which statements are walked); shared knowledge goes
   in a helper module (:mod:`~mlqa.rules.hyperparameter_apis`), never in the
   walker.
2. Its module name in :data:`RULE_MODULES`.
3. ``tests/rules/<what_it_flags>.py``: a fixture whose ``# expect: CODE:COL``
   comments give every finding of that rule alone, exactly.
4. ``mlqa rule --write docs/rules`` renders its page; the rules index links it.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from mlqa.rules.context import FileContext, Options, State

#: The rule modules, in code order: importing one registers its rules and checks.
RULE_MODULES = (
    "mlqa.rules.hardcoded_hyperparameter",
    "mlqa.rules.hardcoded_positional_hyperparameter",
    "mlqa.rules.hardcoded_loop_bound",
    "mlqa.rules.hyperparameter_constant",
    "mlqa.rules.hardcoded_cuda_call",
    "mlqa.rules.hardcoded_device",
    "mlqa.rules.unguarded_cuda_call",
)

#: Every rule's documentation must have these sections, in this order.
SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead")

#: The code prefix of every mlqa rule.
PREFIX = "MLQ"


class Rule(NamedTuple):
    """One rule: its code, its name (what it flags), a summary and its docs.

    Attributes:
        code: The code, e.g. ``MLQ101``.
        name: A kebab-case name saying what it flags; also the docs file name.
        summary: One line, used by ``mlqa rule``, the rules index and sarif.
        doc: Markdown with the sections in :data:`SECTIONS`.
    """

    code: str
    name: str
    summary: str
    doc: str


#: A check: called with the file, the node and where the walk is.
CheckFunc = Callable[["FileContext", Any, "State"], None]
#: A text scan: appends the offsets in the source where a check could fire.
ScanFunc = Callable[[str, "Options", list[int]], None]


class Check(NamedTuple):
    """A check registered for some node types.

    Attributes:
        func: The function the walker calls on every node of those types.
        nodes: The AST node types it needs.
        rules: The rules it may report (it runs when one of them is selected).
        scan: Finds the candidate offsets in the text; None means every line.
    """

    func: CheckFunc
    nodes: tuple[type[ast.AST], ...]
    rules: tuple[Rule, ...]
    scan: ScanFunc | None


_RULES: dict[str, Rule] = {}
_CHECKS: list[Check] = []


def define(rule: Rule) -> Rule:
    """Add a rule to the table (once per code).

    Args:
        rule: The rule.

    Returns:
        The rule, for ``RULE = define(Rule(...))``.

    Raises:
        ValueError: If another rule already has its code or name.
    """
    for other in _RULES.values():
        if other != rule and (other.code == rule.code or other.name == rule.name):
            raise ValueError(f"rule {rule.code} ({rule.name}) is defined twice")
    _RULES[rule.code] = rule
    return rule


def register(
    *nodes: type[ast.AST], rules: Sequence[Rule], scan: ScanFunc | None = None
) -> Callable[[CheckFunc], CheckFunc]:
    """Register the decorated function as a check of ``nodes``.

    Args:
        *nodes: The AST node types the walker calls it on.
        rules: The rules it may report.
        scan: Finds the offsets where it could fire (see :class:`Check`).

    Returns:
        The decorator; it returns the function unchanged.
    """

    def decorate(func: CheckFunc) -> CheckFunc:
        _CHECKS.append(Check(func, tuple(nodes), tuple(rules), scan))
        return func

    return decorate


def _load() -> None:
    for module in RULE_MODULES:
        importlib.import_module(module)


def all_rules() -> dict[str, Rule]:
    """Return every rule by code, in code order.

    Returns:
        A dict code -> Rule.
    """
    _load()
    return {code: _RULES[code] for code in sorted(_RULES)}


def all_checks() -> list[Check]:
    """Return every registered check, in registration order.

    Returns:
        The checks.
    """
    _load()
    return list(_CHECKS)


class Dispatch(NamedTuple):
    """The checks that run for one set of selected codes.

    Attributes:
        by_node: Node type -> the check functions to call, in order.
        scans: The distinct text scans of those checks; empty when some check
            must see every line (then ``full`` is True).
        full: Whether the whole file must be walked.
        codes: The selected codes.
    """

    by_node: dict[type[ast.AST], tuple[CheckFunc, ...]]
    scans: tuple[ScanFunc, ...]
    full: bool
    codes: frozenset[str]


@lru_cache(maxsize=64)
def dispatch(codes: frozenset[str] | None) -> Dispatch:
    """Build the node-type dispatch table for the selected codes (cached).

    Args:
        codes: The selected codes; None selects every rule.

    Returns:
        The checks to run, by node type, and their scans.
    """
    checks = all_checks()
    chosen = frozenset(_RULES) if codes is None else codes
    active = [c for c in checks if any(r.code in chosen for r in c.rules)]
    by_node: dict[type[ast.AST], list[CheckFunc]] = {}
    scans: dict[ScanFunc, None] = {}
    full = False
    for check in active:
        for node in check.nodes:
            by_node.setdefault(node, []).append(check.func)
        if check.scan is None:
            full = True
        else:
            scans.setdefault(check.scan, None)
    return Dispatch(
        {node: tuple(funcs) for node, funcs in by_node.items()},
        tuple(scans),
        full,
        chosen,
    )


def expand(patterns: Iterable[str], codes: Iterable[str] | None = None) -> set[str]:
    """Expand codes and prefixes (``MLQ1`` -> every MLQ1xx code), as ruff does.

    Args:
        patterns: Codes or prefixes; ``ALL`` means every code.
        codes: The known codes; every registered rule's when None.

    Returns:
        The matching codes.

    Raises:
        ValueError: If a pattern matches no known code.
    """
    known = list(all_rules() if codes is None else codes)
    chosen: set[str] = set()
    for pattern in patterns:
        pattern = pattern.strip().upper()
        if not pattern:
            continue
        matched = (
            known if pattern == "ALL" else [c for c in known if c.startswith(pattern)]
        )
        if not matched:
            raise ValueError(f"unknown rule code or prefix {pattern!r}")
        chosen.update(matched)
    return chosen
