"""Correct idioms mypy rejects: names and attributes that exist at run time, and three calls.

Each filter drops one kind of finding under one exact condition read from the
source, so the same words elsewhere stay reported:

- **A name the author marked undefined on purpose**: ``name-defined`` on a
  line whose ``# noqa`` covers ruff's F821 (the same check), as in whisper's
  Triton kernel templates (``LOAD_ALL_ROWS_HERE  # noqa: F821``).
- **A module global that a function creates** with ``global NAME`` and an
  assignment (a download progress hook's ``start_time``): mypy sees no
  module-level binding; Python creates one when the function runs.
- **Attributes set on a module built at run time** (``stub =
  types.ModuleType("pkg.dep")`` then ``stub.check = ...``, to stand in for
  a dependency in tests).
- **torch's legacy CUDA tensor types** (``torch.cuda.FloatTensor(x)``): they
  exist at run time but not in torch's type stubs.
- **A dict's own ``get`` as the key over its keys** (``max(d, key=d.get)``,
  ``sorted(scores, key=scores.get)``): ``get`` may return None in general,
  never for a key the dict holds (python/mypy#9765).
- **An optional dependency's fallback**: ``try: from torch.nn.functional
  import scaled_dot_product_attention`` ... ``except ImportError:
  scaled_dot_product_attention = None``: the usual way to feature-test an
  import, which mypy reports as assigning None to a function.
- **A class factory**: ``def with_clipping(optim): class Clipped(optim):
  ...``: the base is a parameter, a class only at run time; mypy says
  ``Invalid base class`` and ``Variable "optim" is not valid as a type``.
- **A class that extends the name it rebinds** (``class Dataset(Dataset):``
  after ``from torch.utils.data import Dataset``): mypy calls it a
  redefinition; the base is looked up before the name is rebound.
- **A list of layers annotated with their class**: ``self.blocks:
  Iterable[Block] = nn.ModuleList([Block(...) for _ in range(n)])``: the
  items are ``Block`` s, the annotation says so; mypy knows only
  ``Module``.

Each is applied by :func:`mlqa.tools.mypy_guesses.drop_guesses`; docs/types.md
lists them with the evaluation.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from mlqa.diagnostics import Finding
from mlqa.tools._common import noqa_codes
from mlqa.tools.mypy_source import (
    Source,
    Sources,
    base_name,
    first_binding,
    parameters,
)
from mlqa.tools.mypy_untyped import MODULE_ATTRIBUTE

_UNDEFINED = re.compile(r'^Name "(?P<name>[^"]+)" is not defined')
_LEGACY_CUDA = frozenset(
    f"{kind}Tensor"
    for kind in ("Float", "Double", "Half", "BFloat16", "Byte", "Char")
    + ("Short", "Int", "Long", "Bool")
)
_KEY_GET = re.compile(
    r'^Argument "key" to "(?:max|min|sorted)" has incompatible type overloaded function'
)
_NONE_FALLBACK = re.compile(
    r'^Incompatible types in assignment \(expression has type "None", variable has '
)
_LAYERS_AS = re.compile(
    r'^Incompatible types in assignment \(expression has type "(?:ModuleList|'
    r'Sequential)", variable has type "(?:Iterable|Sequence|list|List)\[(?P<item>\w+)\]"\)$'
)
_REDEFINED = re.compile(
    r'^Name "(?P<name>[^"]+)" already defined \(possibly by an import\)$'
)
_DYNAMIC_BASE = re.compile(
    r'^(?:Invalid base class "(?P<base>\w+)"|Variable "(?P<var>\w+)" is not valid as a type)$'
)
_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception"})


def drop_runtime(findings: list[Finding], sources: Sources) -> list[Finding]:
    """Drop the findings the module docstring describes.

    Args:
        findings: mypy's findings, codes without the ``mypy[]`` wrapper.
        sources: The parsed files.

    Returns:
        The others, in order.
    """
    made: dict[str, set[str]] = {}  # path -> its function-made globals, once

    def globals_of(source: Source, path: str) -> set[str]:
        if path not in made:
            made[path] = _function_globals(source)
        return made[path]

    return [f for f in findings if not _runtime_idiom(sources[f.path], f, globals_of)]


def _runtime_idiom(
    source: Source,
    finding: Finding,
    globals_of: Callable[[Source, str], set[str]],
) -> bool:
    if finding.code == "name-defined":
        match = _UNDEFINED.match(finding.message)
        return match is not None and (
            _noqa_f821(source.line(finding.line))
            or match["name"] in globals_of(source, finding.path)
        )
    if finding.code == "attr-defined":
        match = MODULE_ATTRIBUTE.match(finding.message)
        outer = source.expression_at(finding.line, finding.column)
        if match is None or outer is None:
            return False
        # the call or subscript mypy points at starts with the attribute
        node = next(
            (
                n
                for n in ast.walk(outer)
                if isinstance(n, ast.Attribute) and n.attr == match["name"]
            ),
            None,
        )
        if node is None:
            return False
        owner = ast.unparse(node.value)
        if owner == "torch.cuda" and match["name"] in _LEGACY_CUDA:
            return True
        return isinstance(node.value, ast.Name) and _built_module(
            source, finding.line, node.value.id
        )
    if finding.code in ("misc", "valid-type"):
        dynamic = _DYNAMIC_BASE.match(finding.message)
        return dynamic is not None and _base_is_parameter(
            source, finding.line, dynamic["base"] or dynamic["var"]
        )
    if finding.code == "no-redef":
        match = _REDEFINED.match(finding.message)
        return match is not None and any(
            isinstance(scope, ast.ClassDef)
            and scope.lineno == finding.line
            and scope.name == match["name"]
            and any(base_name(base) == scope.name for base in scope.bases)
            for scope in source.scopes
        )
    if finding.code == "arg-type" and _KEY_GET.match(finding.message):
        return _key_is_own_get(source, finding)
    if finding.code == "assignment":
        if _NONE_FALLBACK.match(finding.message):
            return _import_fallback(source, finding.line)
        layers = _LAYERS_AS.match(finding.message)
        return layers is not None and _layers_of(source, finding.line, layers["item"])
    return False


def _base_is_parameter(source: Source, line: int, name: str) -> bool:
    """A class on ``line`` takes ``name`` as a base, a parameter of its function."""
    scopes = source.scopes_at(line)
    for inner, outer in zip(scopes[1:], scopes[:-1], strict=True):
        if (
            isinstance(inner, ast.ClassDef)
            and inner.lineno == line
            and isinstance(outer, ast.FunctionDef | ast.AsyncFunctionDef)
            and any(base_name(base) == name for base in inner.bases)
        ):
            return name in {a.arg for a in parameters(outer)}
    return False


def _noqa_f821(text: str) -> bool:
    """A ``# noqa`` (bare, or listing F821) on the line."""
    codes = noqa_codes(text)
    return codes is None or "F821" in codes


def _function_globals(source: Source) -> set[str]:
    """Names some function declares ``global`` and assigns."""
    names: set[str] = set()
    for scope in source.scopes:
        if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
            declared = {
                name
                for node in ast.walk(scope)
                if isinstance(node, ast.Global)
                for name in node.names
            }
            names |= declared & set(source.bindings(scope))
    return names


def _built_module(source: Source, line: int, name: str) -> bool:
    """``name`` is first bound, in the scope around ``line``, to ``ModuleType(...)``."""
    first = first_binding(source, source.scopes_at(line)[-1], name)
    value = first.value if first is not None else None
    return isinstance(value, ast.Call) and base_name(value.func) == "ModuleType"


def _key_is_own_get(source: Source, finding: Finding) -> bool:
    """The call iterates the very dict whose ``get`` is its key."""
    for node in _calls_on(source, finding.line):
        key = next((k.value for k in node.keywords if k.arg == "key"), None)
        if (
            node.args
            and isinstance(key, ast.Attribute)
            and key.attr == "get"
            and ast.dump(key.value) == ast.dump(node.args[0])
        ):
            return True
    return False


def _calls_on(source: Source, line: int) -> list[ast.Call]:
    if source.tree is None:
        return []
    return [
        node
        for node in ast.walk(source.tree)
        if isinstance(node, ast.Call)
        and node.lineno <= line <= (node.end_lineno or node.lineno)
    ]


def _import_fallback(source: Source, line: int) -> bool:
    """``line`` sets to None, in an ``except ImportError``, a name its try imports."""
    found = source.assigns.get(line)
    if found is None or not isinstance(found[0].value, ast.Constant):
        return False
    names = {t.id for t in found[0].targets if isinstance(t, ast.Name)}
    for node in ast.walk(source.tree) if source.tree is not None else ():
        if not isinstance(node, ast.Try):
            continue
        for handler in node.handlers:
            caught = handler.type
            kinds = caught.elts if isinstance(caught, ast.Tuple) else [caught]
            if not any(
                k is not None and base_name(k) in _IMPORT_ERRORS for k in kinds
            ) or not any(found[0] is stmt for stmt in ast.walk(handler)):
                continue
            imported = {
                alias.asname or alias.name
                for stmt in node.body
                if isinstance(stmt, ast.ImportFrom)
                for alias in stmt.names
            }
            if names and names <= imported:
                return True
    return False


def _layers_of(source: Source, line: int, item: str) -> bool:
    """The list of layers assigned on ``line`` is built of ``item(...)`` calls only."""
    node = (
        next(
            (
                n
                for n in ast.walk(source.tree)
                if isinstance(n, ast.AnnAssign | ast.Assign)
                and n.lineno <= line <= (n.end_lineno or n.lineno)
            ),
            None,
        )
        if source.tree is not None
        else None
    )
    value = getattr(node, "value", None)
    if not isinstance(value, ast.Call) or len(value.args) != 1:
        return False
    items = value.args[0]
    if isinstance(items, ast.ListComp | ast.GeneratorExp):
        elements = [items.elt]
    elif isinstance(items, ast.List | ast.Tuple):
        elements = list(items.elts)
    else:
        return False
    return bool(elements) and all(
        isinstance(e, ast.Call) and base_name(e.func) == item for e in elements
    )
