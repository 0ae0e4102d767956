"""What the Google Python Style Guide asks of a docstring, beyond pydoclint's reading.

:mod:`mlqa.tools.docstrings` runs ruff's ``D`` rules and pydoclint; this module
holds the preset's refinements, each from a sentence of the guide
(docs/docstrings.md): which pydoclint findings the guide does not ask for
(:func:`guide_keeps`), the multi-line docstring with no sections
(:func:`sectionless`), and one finding per problem where ruff's layout codes
say one fault twice (:func:`one_layout_finding`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Sequence

from mlqa.diagnostics import Finding

#: pydoclint codes the preset drops, each for a sentence of the guide
#: (docs/docstrings.md): types may be in the signature, the docstring or both;
#: Raises lists what is relevant to the interface, which the body cannot tell;
#: class and ``__init__`` docstrings may both document; attributes are not
#: part of the signature; a tuple of return and yield types is a typing rule.
PRESET_DROPPED = frozenset(
    {"DOC105", "DOC106", "DOC107", "DOC108", "DOC109", "DOC110", "DOC111"}
    | {"DOC203", "DOC304", "DOC305", "DOC404", "DOC405"}
    | {"DOC501", "DOC502", "DOC503", "DOC504"}
    | {f"DOC60{n}" for n in range(1, 8)}
)

#: Section headings that make a docstring more than a summary (pydoclint's list).
SECTION = re.compile(
    r"^\s*(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|"
    r"Other Parameters|Returns?|Yields?|Raises|Attributes|Examples?)\s*:\s*$"
)


def guide_keeps(finding: Finding, node: ast.AST | None) -> bool:
    """Tell whether the guide asks for what a pydoclint finding asks for."""
    code = finding.code
    if code in PRESET_DROPPED:
        return False
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return True
    doc = ast.get_docstring(node) or ""
    first = doc.split(maxsplit=1)[:1]
    if code in ("DOC201", "DOC402") and first and first[0] in _RETURN_WORDS:
        return False  # "may also be omitted if the docstring starts with Returns"
    if code in ("DOC101", "DOC103") and _decorated(node, frozenset({"override"})):
        # "a docstring with at least those differences" (3.8.3): an @override
        # need not list its base's arguments, only not name missing ones
        return code == "DOC103" and bool(_EXTRA.search(finding.message))
    heading = _SINGULAR.get(code)
    if heading is not None and re.search(heading, doc, re.M):
        return False  # ``Return:``/``Yield:``: the section, under Napoleon's name
    if code == "DOC001" and SECTION.match(doc.lstrip().split("\n", 1)[0]):
        return False  # no summary line (ruff's D205/D415 say so): nothing to parse
    if code == "DOC402" and not _yields(node, value=True):
        return False  # only bare `yield`s: nothing to describe, as for None
    if code == "DOC403" and _yields(node):
        return False  # a @contextmanager (or unannotated generator) does yield
    # an abstract method or stub documents what its overrides return
    return not (code == "DOC202" and _is_stub(node))


#: The singular headings Sphinx's Napoleon reads as Returns and Yields, which
#: pydoclint does not: the section is there.
_SINGULAR = {"DOC201": r"^\s*Return\s*:\s*$", "DOC402": r"^\s*Yield\s*:\s*$"}
_EXTRA = re.compile(r"in the docstring but not in the function signature: \[(?!\])")
_PUNCTUATED = re.compile(r"[.?!]\s*$")
_QUOTES = re.compile(r"^\s*[rRuUbBfF]{0,2}(?:\"\"\"|\'\'\'|\"|\')")


def one_layout_finding(
    findings: Sequence[Finding], line: Callable[[str, int], str]
) -> list[Finding]:
    """Drop ruff's D415 where the summary's first physical line is punctuated.

    ruff's D415 looks at the end of the first paragraph; the guide's summary
    is "one physical line ... terminated by a period, question mark, or
    exclamation point". A summary line followed at once by more text (no
    blank line) is ended right, and the missing blank line is D205's
    finding on the same docstring: one problem, one finding.

    Args:
        findings: ruff's findings.
        line: Gives the text of a file's line (path, 1-based number).

    Returns:
        The findings kept, in order.
    """
    kept = []
    for finding in findings:
        if finding.code == "D415":
            text = _QUOTES.sub("", line(finding.path, finding.line), count=1)
            if not text.strip():  # the summary starts on the next line
                text = line(finding.path, finding.line + 1)
            if _PUNCTUATED.search(text):
                continue
        kept.append(finding)
    return kept


def sectionless(shown: str, nodes: Iterable[ast.AST]) -> Iterable[Finding]:
    """Find multi-line docstrings with no sections where the guide wants them.

    The guide omits sections only "where the function's name and signature are
    informative enough that it can be aptly described using a one-line
    docstring". A docstring of more than one line therefore needs its Args when
    the function takes an argument besides ``self``/``cls`` and either takes
    two or returns a value. Private functions (no docstring needed at all),
    ``__init__`` (the class may document its Args), properties, overloads and
    ``@override`` methods are exempt.

    Args:
        shown: The file as findings name it.
        nodes: The file's definitions.

    Yields:
        One DOC101 finding per such definition.
    """
    for node in nodes:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        dunder = node.name[:2] == node.name[-2:] == "__"
        if node.name == "__init__" or (node.name[:1] == "_" and not dunder):
            continue
        doc = ast.get_docstring(node)
        if not doc or "\n" not in doc.strip() or _decorated(node, _EXEMPT):
            continue
        if any(SECTION.match(line) for line in doc.splitlines()):
            continue
        params = [a.arg for a in _params(node) if a.arg.strip("_")]
        if params and params[0] in ("self", "cls") and _in_class(node, nodes):
            params = params[1:]
        if params and (len(params) > 1 or _returns_value(node)):
            kind = "Method" if _in_class(node, nodes) else "Function"
            yield Finding(
                shown,
                node.lineno,
                1,
                "DOC101",
                f"{kind} `{node.name}`: the docstring is longer than one line but"
                f" has no Args section (undocumented: {names_list(params)})",
            )


_EXEMPT = frozenset({"property", "cached_property", "overload", "override", "setter"})


def _decorated(
    node: ast.FunctionDef | ast.AsyncFunctionDef, names: frozenset[str]
) -> bool:
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        if getattr(target, "attr", getattr(target, "id", "")) in names:
            return True
    return False


def _in_class(node: ast.AST, nodes: Iterable[ast.AST]) -> bool:
    return any(isinstance(c, ast.ClassDef) and node in c.body for c in nodes)


def _params(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.arg]:
    args = node.args
    extra = [a for a in (args.vararg, args.kwarg) if a is not None]
    return [*args.posonlyargs, *args.args, *args.kwonlyargs, *extra]


def _own_scope(node: ast.AST) -> Iterable[ast.AST]:
    """Yield the nodes of a function body, not of functions defined inside it."""
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        yield child
        if not isinstance(
            child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
        ):
            stack.extend(ast.iter_child_nodes(child))


_RETURN_WORDS = ("Return", "Returns", "Yield", "Yields")


def _yields(node: ast.FunctionDef | ast.AsyncFunctionDef, value: bool = False) -> bool:
    return any(
        isinstance(n, ast.YieldFrom)
        or (isinstance(n, ast.Yield) and not (value and _is_none(n.value)))
        for n in _own_scope(node)
    )


def _is_none(expr: ast.expr | None) -> bool:
    return expr is None or (isinstance(expr, ast.Constant) and expr.value is None)


def _returns_value(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    ann = node.returns
    if ann is not None:
        text = ast.unparse(ann).strip("'\"")
        return text not in ("None", "NoReturn", "Never", "typing.NoReturn")
    return any(
        isinstance(n, ast.Return) and not _is_none(n.value) for n in _own_scope(node)
    )


def _is_stub(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Tell whether a function is abstract or a stub (``pass``, ``...``, raise)."""
    if _decorated(node, frozenset({"abstractmethod"})):
        return True
    body = node.body[1:] if ast.get_docstring(node) is not None else node.body
    for stmt in body:
        if isinstance(stmt, ast.Pass) or (
            isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
        ):
            continue
        if isinstance(stmt, ast.Raise) and "NotImplementedError" in ast.unparse(stmt):
            continue
        return False
    return True


def names_list(names: list[str]) -> str:
    """Names as a message lists them: `a`, `b` (or "nothing")."""
    return ", ".join(f"`{n}`" for n in names) or "nothing"
