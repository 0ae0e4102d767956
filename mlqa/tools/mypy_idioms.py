"""Findings about idioms whose types mypy cannot follow: configs, buffers, re-annotation.

- **Reads of a config dict** (:func:`drop_record_reads`): a dict display with
  string keys and values of several kinds is a record; mypy joins the values.
- **A registered buffer** (:func:`drop_buffer_deferrals`): mypy defers the type
  of a buffer assigned in ``forward`` and read first.
- **A name the user re-annotates** (:func:`drop_reannotated`): ``tokens:
  Tensor`` then, later in the same function, ``tokens: List[List[int]] =
  ...`` (whisper's decoding pipeline): the user declares the name
  multi-typed on purpose; mypy keeps the first annotation, reports each
  later one (``no-redef``) and every assignment and use of the later value.
  Those findings about that name in that function go; a name annotated once
  keeps them all.

Each is applied by :func:`mlqa.tools.mypy_guesses.drop_guesses`; docs/types.md
lists them with the evaluation.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from mlqa.diagnostics import Finding
from mlqa.tools.mypy_source import (
    Source,
    Sources,
    first_binding,
    flat_targets,
    parameters,
    target_name,
    walk,
)

#: mypy's words when it could not infer a name's type in time.
UNDETERMINED = re.compile(r'^Cannot determine type of "(?P<name>[^"]+)"$')
_REDEFINED = re.compile(r'^Name "(?P<name>[^"]+)" already defined on line \d+$')


def drop_idioms(findings: list[Finding], sources: Sources) -> list[Finding]:
    """Apply the three filters of this module.

    Args:
        findings: mypy's findings.
        sources: The parsed files.

    Returns:
        The findings they keep, in order.
    """
    kept = drop_record_reads(findings, sources)
    kept = drop_buffer_deferrals(kept, sources)
    return drop_reannotated(kept, sources)


def drop_reannotated(findings: list[Finding], sources: Sources) -> list[Finding]:
    """Drop findings about a name its function annotates more than once.

    Args:
        findings: mypy's findings.
        sources: The parsed files.

    Returns:
        The others, in order.
    """
    known: dict[int, set[str]] = {}  # function id -> its re-annotated names
    kept = []
    for finding in findings:
        source = sources[finding.path]
        if not _about_reannotated(source, finding, known):
            kept.append(finding)
    return kept


def _about_reannotated(
    source: Source, finding: Finding, known: dict[int, set[str]]
) -> bool:
    functions = [
        s
        for s in source.scopes_at(finding.line)
        if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    if not functions:
        return False
    function = functions[-1]
    if id(function) not in known:
        known[id(function)] = _reannotated(source, function)
    names = known[id(function)]
    if not names:
        return False
    redefined = _REDEFINED.match(finding.message)
    if redefined is not None:
        return redefined["name"] in names
    node = source.expression_at(finding.line, finding.column)
    if node is not None and _uses(node, names):
        return True  # the finding's expression uses the name
    if any(
        _uses(generator.iter, names)
        for comprehension in _comprehensions_at(function, finding)
        for generator in comprehension.generators
    ):
        return True  # an item of the name, in a comprehension over it
    found = source.assigns.get(finding.line)
    if finding.code == "assignment" and found is not None:
        return any(target_name(t) in names for t in flat_targets(found[0].targets))
    return False


_Comprehension = ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp


def _comprehensions_at(
    function: ast.FunctionDef | ast.AsyncFunctionDef, finding: Finding
) -> Iterator[_Comprehension]:
    """The comprehensions in ``function`` whose span holds the finding's position."""
    where = (finding.line, finding.column - 1)
    for node in ast.walk(function):
        if isinstance(node, _Comprehension):
            end = (node.end_lineno or node.lineno, node.end_col_offset or 0)
            if (node.lineno, node.col_offset) <= where < end:
                yield node


def _uses(node: ast.expr, names: set[str]) -> bool:
    return any(isinstance(sub, ast.Name) and sub.id in names for sub in ast.walk(node))


def _reannotated(
    source: Source, function: ast.FunctionDef | ast.AsyncFunctionDef
) -> set[str]:
    """Names a function declares twice: annotated twice, or annotated after a value.

    A parameter counts as one declaration; so does a plain binding (``tokens,
    sum_logprobs = self._main_loop(...)``, unpacking too) before the name's
    first annotation: annotating a name that already holds a value declares
    its new type.
    """
    counts = {arg.arg: 1 for arg in parameters(function) if arg.annotation is not None}
    annotated_at: dict[str, int] = {}
    for name, nodes in source.bindings(function).items():
        annotations = [node for node in nodes if isinstance(node, ast.AnnAssign)]
        counts[name] = counts.get(name, 0) + len(annotations)
        if annotations:
            annotated_at[name] = annotations[0].lineno
    for node, scopes in walk(function, [function]):
        if len(scopes) == 1 and isinstance(node, ast.Assign):
            for target in flat_targets(node.targets):
                bound = target_name(target)
                if bound is not None and node.lineno < annotated_at.get(bound, 0):
                    counts[bound] += 1
                    del annotated_at[bound]  # one value before is enough
    return {name for name, count in counts.items() if count > 1}


# A quoted type that names ``object`` or ``float``: what mypy joins a mixed
# config dict's values to (ints, floats and bools: float; strings too: object).
_JOINED = re.compile(r'"[^"]*\b(?:object|float)\b[^"]*"')
_RECORD_CODES = frozenset({"arg-type", "call-overload", "index", "operator"})
_READERS = frozenset({"values", "items", "get"})


def drop_record_reads(findings: list[Finding], sources: Sources) -> list[Finding]:
    """Drop findings about a read of a config dict whose values mypy joined.

    ``GPT_CONFIG = {"vocab_size": 50257, "emb_dim": 768, "drop_rate": 0.1,
    "qkv_bias": False}`` is a record: each key has its own type. mypy types
    it ``dict[str, float]`` (``dict[str, object]`` once a string or a dtype
    is among the values), so ``nn.Linear(cfg["emb_dim"], 2)`` gets a
    ``float``, ``torch.randint(0, cfg["vocab_size"], ...)`` matches no
    overload and ``cfg["rope"]["factor"]`` is "not indexable". A finding
    that names ``float`` or ``object`` at an expression reading such a dict
    (``NAME["key"]``, ``NAME.values()``), whose first binding in scope (or
    in the module) is a dict display with string keys and values of several
    kinds, goes. mypy cannot check those reads either way.

    Args:
        findings: mypy's findings.
        sources: The parsed files.

    Returns:
        The others, in order.
    """
    if not any(f.code in _RECORD_CODES and _JOINED.search(f.message) for f in findings):
        return findings
    kept = []
    for finding in findings:
        if finding.code in _RECORD_CODES and _JOINED.search(finding.message):
            source = sources[finding.path]
            node = source.expression_at(finding.line, finding.column)
            if node is not None and any(
                _is_record(source, name, finding.line) for name in _records_read(node)
            ):
                continue
        kept.append(finding)
    return kept


def _records_read(node: ast.expr) -> Iterator[str]:
    """Names read as dicts in an expression: ``NAME["key"]``, ``NAME.values()``."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Subscript):
            base = sub.value
            while isinstance(base, ast.Subscript):
                base = base.value
            if isinstance(base, ast.Name) and isinstance(sub.slice, ast.Constant):
                yield base.id
        elif (
            isinstance(sub, ast.Call)
            and isinstance(sub.func, ast.Attribute)
            and sub.func.attr in _READERS
            and isinstance(sub.func.value, ast.Name)
        ):
            yield sub.func.value.id


def _is_record(source: Source, name: str, line: int) -> bool:
    """Tell whether ``name`` is first bound, here or in the module, to a mixed dict."""
    scopes = source.scopes_at(line)
    for scope in (scopes[-1], scopes[0]) if scopes else ():
        first = first_binding(source, scope, name)
        if first is not None:
            return _mixed_dict(first.value)
    return False


def _mixed_dict(value: ast.expr) -> bool:
    """A dict display with string keys whose values are of several kinds."""
    if not isinstance(value, ast.Dict) or not all(
        isinstance(key, ast.Constant) and isinstance(key.value, str)
        for key in value.keys
    ):
        return False
    kinds = {
        (
            type(item.value).__name__
            if isinstance(item, ast.Constant)
            else type(item).__name__
        )
        for item in value.values
    }
    return len(kinds) > 1


def drop_buffer_deferrals(findings: list[Finding], sources: Sources) -> list[Finding]:
    """Drop "Cannot determine type" of a buffer the class registers.

    A KV cache registers ``self.register_buffer("cache_k", None)`` in
    ``__init__`` and assigns ``self.cache_k`` in ``forward``, where it also
    reads it first (``if self.cache_k is None``): mypy defers the attribute's
    type and gives up on the read. The buffer is a ``Tensor | None`` by
    construction; the finding goes.

    Args:
        findings: mypy's findings.
        sources: The parsed files.

    Returns:
        The others, in order.
    """
    kept = []
    for finding in findings:
        match = (
            UNDETERMINED.match(finding.message) if finding.code == "has-type" else None
        )
        if match is not None:
            source = sources[finding.path]
            classes = [
                s for s in source.scopes_at(finding.line) if isinstance(s, ast.ClassDef)
            ]
            if classes and match["name"] in _registered(classes[-1]):
                continue
        kept.append(finding)
    return kept


def _registered(cls: ast.ClassDef) -> set[str]:
    """Names a class gives ``self.register_buffer``/``register_parameter``."""
    return {
        node.args[0].value
        for node in ast.walk(cls)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("register_buffer", "register_parameter")
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }
