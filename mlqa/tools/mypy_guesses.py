"""Findings about a type mypy guessed wrong, not one the user wrote.

**Placeholders.** mypy gives an unannotated variable the type of its first
value. Four first values in ML code are placeholders, not declarations:

- an ``int`` literal later replaced by a ``float``: ``best_acc1 = 0`` then
  ``best_acc1 = max(acc1, best_acc1)``, ``self.avg = 0`` in ``reset()`` then
  ``self.avg = self.sum / self.count`` (an ``AverageMeter``, in half the
  training scripts there are); ``int`` is acceptable wherever ``float`` is
  (PEP 484's numeric tower): the code is right, only mypy's guess is narrow;
- a layer in a module's slot, replaced in another branch by another layer:
  ``self.mlp = nn.Linear(a, b)`` if ``nlayers == 1`` else ``self.mlp =
  nn.Sequential(...)``: both are modules, mypy only took the first one's class;
- ``None`` in one method (``self.finished = None`` in ``__init__``) and a
  value in another (``self.finished = [{} for _ in range(n)]`` in
  ``reset()``): mypy types the attribute ``None`` and reports the value and
  every later use (``len(self.finished)``); those go with it;
- an empty ``[]``, ``{}`` or ``set()`` that mypy could not give an item type
  (it learns one from ``append`` but not from ``insert(0, x)``), later
  replaced by what was built from it: ``returns = []``, a loop of
  ``returns.insert(0, R)``, then ``returns = torch.tensor(returns)``. mypy
  then also reports each use of the new value as a use of ``list[Any]``
  (``"list[Any]" has no attribute "mean"``); those go with it. The same goes
  for a number accumulated with tensors (``correct = 0.0``, then ``correct +=
  torch.sum(compare)``): mypy makes it ``float | Tensor`` and reports
  ``(correct / n).item()``.

Only ``[assignment]`` findings whose variable got its type this way are
dropped: the first binding of the same name (or ``self.`` attribute, in the
same class) in the same scope is an unannotated placeholder. A variable the
user annotated (``best: int = 0``) keeps every finding.

**Unpacking an untyped value.** ``b, n, device = *x.shape, x.device`` with an
unannotated ``x`` (the einops-era idiom of lucidrains' and many other model
files) makes mypy (1.x and 2.x alike) report ``Invalid type 'Any' for *expr``,
``Need more than 1 value to unpack`` and then ``Cannot determine type of``
each name bound there, at every later use: five or more findings for one
correct line. mypy cannot know the length of ``x.shape`` when ``x`` is
``Any``, so it should let the names be ``Any``; those findings are dropped
(the same line with ``x: torch.Tensor`` checks clean, as it should).

**Inferred types in functions with no annotations** (first, in
:mod:`mlqa.tools.mypy_untyped`): only the findings that hold whatever mypy
inferred stay (undefined names, missing module attributes, overrides...),
unless ``[tool.mlqa] report-untyped-guesses = true``.

**Uses of a value that may be None.** ``self.cross_attn(x)`` where
``cross_attn`` is ``Module | None``, ``features.index_copy_(...)`` on the one
rank that allocated ``features``: mypy reports each use of an ``Optional``
value it cannot prove set, and in training code the guarantee is almost
always one it cannot see (set in ``__init__`` when a flag is on, set on
rank 0 only, set by the first loop iteration). On six hand-labelled
repositories 1 of 23 such findings was a real bug (docs/types.md). Unless
``[tool.mlqa] report-optional-uses = true``, findings whose only complaint
is the ``None`` in a type are dropped; where ``None`` comes from stays
checked (``x: int = None``, a ``None`` default or return where the
annotation has no ``| None``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from mlqa.diagnostics import Finding
from mlqa.tools.mypy_idioms import UNDETERMINED, drop_idioms
from mlqa.tools.mypy_optional import optional_use
from mlqa.tools.mypy_runtime import drop_runtime
from mlqa.tools.mypy_source import (
    Source,
    Sources,
    first_binding,
    flat_targets,
    scope_of,
    target_name,
)
from mlqa.tools.mypy_untyped import drop_untyped_guesses

_ASSIGNMENT = re.compile(
    r'^Incompatible types in assignment \(expression has type "(?P<value>[^"]*)", '
    r'variable has type "(?P<variable>[^"]*)"\)$'
)
_STAR_ANY = "Invalid type 'Any' for *expr (iterable expected)"
_UNPACK = re.compile(r"^Need more than \d+ values? to unpack \(\d+ expected\)$")
_EMPTY_TYPE = re.compile(r'(?:"| \| )(?:list\[Any\]|dict\[Any, Any\])(?:"| \| )')
_EMPTY = frozenset({"list[Any]", "dict[Any, Any]", "set[Any]"})


def drop_guesses(
    findings: list[Finding],
    *,
    optional_uses: bool = False,
    untyped_guesses: bool = False,
) -> list[Finding]:
    """Drop the findings the module docstring describes.

    Args:
        findings: mypy's findings (paths readable from the working directory).
        optional_uses: Keep the findings about uses of values that may be None.
        untyped_guesses: Keep the findings about inferred types in functions
            with no annotations (:mod:`mlqa.tools.mypy_untyped`).

    Returns:
        The other findings, in order.
    """
    sources = Sources()
    kept = findings if untyped_guesses else drop_untyped_guesses(findings, sources)
    kept = _drop_any_unpacking(kept, sources)
    kept = _drop_widened(_drop_placeholders(kept, sources), sources)
    kept = drop_runtime(drop_idioms(kept, sources), sources)
    return kept if optional_uses else [f for f in kept if not optional_use(f)]


def _drop_any_unpacking(findings: list[Finding], sources: Sources) -> list[Finding]:
    """Drop the cascade of one unpacking of ``*untyped`` (see the docstring)."""
    starred = {(f.path, f.line) for f in findings if f.message == _STAR_ANY}
    if not starred:
        return findings
    bound: dict[str, list[tuple[int, int, set[str]]]] = {}  # path -> scope, names
    for path, line in starred:
        found = sources[path].assignment_at(line)
        if found is not None:
            target, scopes = found[0].targets[0], found[1]
            start = getattr(scopes[-1], "lineno", 1)
            end = getattr(scopes[-1], "end_lineno", None) or line
            names = {t.id for t in flat_targets([target]) if isinstance(t, ast.Name)}
            bound.setdefault(path, []).append((start, end, names))
    kept = []
    for finding in findings:
        if (finding.path, finding.line) in starred and (
            finding.message == _STAR_ANY or _UNPACK.match(finding.message)
        ):
            continue
        undetermined = UNDETERMINED.match(finding.message)
        if undetermined and any(
            start <= finding.line <= end and undetermined["name"] in names
            for start, end, names in bound.get(finding.path, ())
        ):
            continue
        kept.append(finding)
    return kept


def _drop_placeholders(findings: list[Finding], sources: Sources) -> list[Finding]:
    """Drop assignments that replace a placeholder (see the docstring)."""
    candidates = [f for f in findings if f.code == "assignment"]
    if not any(_ASSIGNMENT.match(f.message) for f in candidates):
        return findings
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    dropped: set[Finding] = set()
    for finding in candidates:
        match = _ASSIGNMENT.match(finding.message)
        if match is None:
            continue
        source = sources[finding.path]
        follow = _placeholder(source, finding.line, match["value"], match["variable"])
        if follow is None:
            continue
        dropped.add(finding)
        if follow:
            dropped.update(
                _uses(by_path[finding.path], finding, follow, match["variable"], source)
            )
    return [f for f in findings if f not in dropped]


def _drop_widened(findings: list[Finding], sources: Sources) -> list[Finding]:
    """Drop uses of a placeholder that mypy widened instead of replacing.

    Rebound in a nested block (``queries = []``, then under ``if rank == 0:``
    ``queries = torch.cat(queries)``), the variable becomes ``list[Any] |
    Tensor``; a number accumulated with tensors (``correct = 0.0``, then
    ``correct += torch.sum(compare)``) becomes ``float | Tensor``. Each later
    use is then reported (``Item "float" of "float | Tensor" has no attribute
    "item"``), with no assignment finding to start from: a finding that names
    ``list[Any]`` or ``dict[Any, Any]``, or the number in such a union, about
    a name whose first binding is that placeholder, rebound or accumulated
    before the finding's line, goes.
    """
    if not any(_widened_kind(f.message) for f in findings):
        return findings
    kept = []
    for finding in findings:
        kind = _widened_kind(finding.message)
        if kind is None:
            kept.append(finding)
            continue
        source = sources[finding.path]
        # the name the expression starts with: ``(correct / total).item()``
        start = source.line(finding.line)[finding.column - 1 :].lstrip("(")
        name = _NAME.match(start)
        if name is None or not _rebound(source, name[0], finding.line, kind):
            kept.append(finding)
    return kept


_NAME = re.compile(r"self\.[A-Za-z_]\w*|[A-Za-z_]\w*")  # a local or ``self.x``
_NUMBER_ITEM = re.compile(r'^Item "(?:int|float)" of "[^"]*" has no attribute ')


def _widened_kind(message: str) -> str | None:
    """``"empty"``, ``"number"`` or None: which placeholder a message may be about."""
    if _EMPTY_TYPE.search(message):
        return "empty"
    if _NUMBER_ITEM.match(message):
        return "number"
    return None


def _rebound(source: Source, name: str, line: int, kind: str = "empty") -> bool:
    """Tell whether ``name`` started as a placeholder and was rebound before ``line``.

    Args:
        source: The file.
        name: A local name or ``self.`` attribute.
        line: The line of the finding about it.
        kind: ``"empty"`` for ``[]``/``{}``/``set()``, ``"number"`` for a number
            literal (then ``+=`` counts as a rebinding).

    Returns:
        True when the first binding is that placeholder and a later one, before
        ``line``, gives another value.
    """
    scopes = source.scopes_at(line)
    if not scopes:
        return False
    scope = scope_of(name, scopes)
    first = first_binding(source, scope, name)
    if first is None:
        return False
    if kind == "number":
        literal = first.value
        if not (
            isinstance(literal, ast.Constant) and type(literal.value) in (int, float)
        ):
            return False
        return any(
            node is not first and first.lineno < node.lineno < line
            for node in source.bindings(scope).get(name, ())
        )
    if not any(_is_empty(first.value, t) for t in _EMPTY):
        return False
    return any(
        isinstance(node, ast.Assign)
        and first.lineno < node.lineno < line
        and not any(_is_empty(node.value, t) for t in _EMPTY)
        for node in source.bindings(scope).get(name, ())
    )


def _placeholder(
    source: Source, line: int, value: str, variable: str
) -> tuple[str, int] | tuple[()] | None:
    """Tell whether the assignment at ``line`` replaces a placeholder.

    Args:
        source: The file.
        line: The line of mypy's finding.
        value: The type of the value assigned there, as mypy printed it.
        variable: The type mypy gave the variable.

    Returns:
        None when it does not; ``()`` for a number placeholder or a layer
        slot; for an empty container, the name and the end line of its scope
        (its later uses are dropped too).
    """
    if value == "None":
        return () if _optional_later(source, line) else None
    found = source.assignment_at(line)
    if found is None:
        return None
    node, scopes = found
    name = target_name(node.targets[0])
    if name is None:
        return None
    scope = scope_of(name, scopes)
    first = first_binding(source, scope, name)
    if first is None or first.lineno >= line:
        return None
    if variable == "int" and value == "float":
        literal = first.value
        is_int = isinstance(literal, ast.Constant) and type(literal.value) is int
        return () if is_int else None
    end = getattr(scope, "end_lineno", None) or line
    if variable == "None":  # ``self.cache = None`` in __init__, set elsewhere
        placeholder = first.value
        is_none = isinstance(placeholder, ast.Constant) and placeholder.value is None
        return (name, end) if is_none else None
    if variable in _EMPTY:
        return (name, end) if _is_empty(first.value, variable) else None
    layers = source.module_classes()
    # the slot's first layer, past a ``self.attn = None`` placeholder
    earlier = [
        binding.value
        for binding in source.bindings(scope).get(name, [])
        if isinstance(binding, ast.Assign)
        and binding.lineno < line
        and not (
            isinstance(binding.value, ast.Constant) and binding.value.value is None
        )
    ]
    return (
        ()
        if earlier and _layer(earlier[0], layers) and _layer(node.value, layers)
        else None
    )


def _optional_later(source: Source, line: int) -> bool:
    """Tell whether ``None`` goes, on ``line``, to names first set to a value.

    ``self.masks = [...]`` in one branch and ``self.masks = None`` in the
    other (or ``self.q_norm = self.k_norm = None``): an unannotated variable
    that is sometimes None is Optional; mypy took the first value's type.
    """
    found = source.assigns.get(line)
    if found is None:
        return False
    node, scopes = found
    for target in flat_targets(node.targets):  # ``self.k, self.v = None, None`` too
        name = target_name(target)
        if name is None:
            return False
        first = first_binding(source, scope_of(name, scopes), name)
        if first is None or first.lineno >= line:
            return False
    return True


def _layer(value: ast.expr, layers: set[str]) -> bool:
    """Tell whether a value is a layer: ``nn.X(...)``, or a module class of the file."""
    if not isinstance(value, ast.Call):
        return False
    if isinstance(value.func, ast.Name):
        return value.func.id in layers
    if not isinstance(value.func, ast.Attribute):
        return False
    owner = value.func.value
    return (isinstance(owner, ast.Name) and owner.id == "nn") or (
        isinstance(owner, ast.Attribute) and owner.attr == "nn"
    )


def _is_empty(value: ast.expr, variable: str) -> bool:
    if variable == "list[Any]":
        return isinstance(value, ast.List) and not value.elts
    if variable == "dict[Any, Any]":
        return isinstance(value, ast.Dict) and not value.keys
    return (  # set()
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "set"
        and not value.args
    )


def _uses(
    findings: list[Finding],
    at: Finding,
    follow: tuple[str, int],
    variable: str,
    source: Source,
) -> Iterator[Finding]:
    """Later findings in the same scope about the replaced value's old type."""
    name, end = follow
    for finding in findings:
        if not at.line <= finding.line <= end or f'"{variable}"' not in finding.message:
            continue
        text = source.line(finding.line)
        if re.match(rf"{re.escape(name)}\b", text[finding.column - 1 :]):
            yield finding
