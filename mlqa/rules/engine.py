"""One pruned pass over a parsed file that dispatches every node to the registered checks.

The selected rules' checks (from :mod:`mlqa.rules.registry`) come with text
scans that mark the lines where they could fire; only statements spanning
such a line are entered. Most of a large codebase is never visited, which
keeps ``mlqa check`` within a small factor of a bare ``ast.parse``. The walker
knows no rule: it tracks what encloses a node (:class:`~mlqa.rules.context.State`)
and calls the checks registered for the node's type. Checks only collect
findings; printing is the door's job.
"""

from __future__ import annotations

import ast
import re
import warnings
from bisect import bisect_left

from mlqa.rules.context import (
    FileContext,
    Options,
    RawFinding,
    State,
    device_specific,
    mentions_device,
)
from mlqa.rules.hyperparameter_apis import is_config_class
from mlqa.rules.registry import CheckFunc, Dispatch, dispatch
from mlqa.rules.resolve import add_import
from mlqa.rules.scan import lines_of
from mlqa.rules.scope import ends_block, is_main_guard, is_smoke_test

__all__ = [
    "Options",
    "RawFinding",
    "analyze_source",
    "analyze_tree",
    "candidate_lines",
    "parse",
    "suppressed",
]

_NOQA = re.compile(
    r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]*(?:\s*,\s*[A-Z]+[0-9]*)*))?", re.IGNORECASE
)
_TRY_STAR: type[ast.Try] = getattr(ast, "TryStar", ast.Try)
_NONE: tuple[CheckFunc, ...] = ()


def candidate_lines(source: str, options: Options) -> list[int] | None:
    """Find the 1-based lines where a selected rule could fire.

    Args:
        source: The file's text.
        options: The names and codes in effect.

    Returns:
        The sorted line numbers (a superset is fine: it only prunes the
        walk); None when some selected check must see every line.
    """
    table = dispatch(options.codes)
    if table.full:
        return None
    starts: list[int] = []
    for scan in table.scans:
        scan(source, options, starts)
    return lines_of(source, starts) if starts else []


class Walker:
    """The pruned walk: visits candidate statements and calls the registered checks.

    Args:
        ctx: The file context findings go to.
        lines: The sorted candidate line numbers; None walks everything.
        table: The checks by node type.
    """

    def __init__(
        self, ctx: FileContext, lines: list[int] | None, table: Dispatch
    ) -> None:
        self.ctx = ctx
        self.lines = lines
        self.checks = table.by_node

    def touches(self, node: ast.stmt) -> bool:
        """Tell whether a statement spans a candidate line.

        Args:
            node: A statement.

        Returns:
            True if some candidate line lies within it.
        """
        if self.lines is None:
            return True
        i = bisect_left(self.lines, node.lineno)
        end = node.end_lineno or node.lineno
        return i < len(self.lines) and self.lines[i] <= end

    def run(self) -> None:
        """Walk the module."""
        tree = self.ctx.tree
        self._hoist_imports(tree.body)
        self.body(tree.body, State())

    def _hoist_imports(self, body: list[ast.stmt]) -> None:
        # Module-level imports may come after the functions that use them.
        for stmt in body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                add_import(stmt, self.ctx.imports)
            elif isinstance(stmt, (ast.If, ast.Try)):
                self._hoist_imports(stmt.body)
                self._hoist_imports(stmt.orelse)
                if isinstance(stmt, ast.Try):
                    for handler in stmt.handlers:
                        self._hoist_imports(handler.body)

    def body(self, stmts: list[ast.stmt], state: State) -> None:
        """Visit the candidate statements of a block.

        Args:
            stmts: The block.
            state: What encloses it.
        """
        for stmt in stmts:
            if self.touches(stmt):
                self.stmt(stmt, state)
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                add_import(stmt, self.ctx.imports)
            if (
                not state.guarded
                and isinstance(stmt, ast.If)
                and not stmt.orelse
                and ends_block(stmt.body)
                and mentions_device(stmt.test)
            ):
                # ``if not torch.cuda.is_available(): return`` guards the rest.
                state = state._replace(guarded=True)

    def stmt(self, node: ast.stmt, state: State) -> None:  # noqa: C901
        """Visit one statement: call its checks, then visit what it holds.

        Args:
            node: The statement.
            state: What encloses it.
        """
        ctx = self.ctx
        for check in self.checks.get(type(node), _NONE):
            check(ctx, node, state)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            guarded = state.guarded or device_specific(node.name)
            self.body(
                node.body,
                state._replace(
                    scopes=state.scopes + (node,), guarded=guarded, class_body=False
                ),
            )
        elif isinstance(node, ast.ClassDef):
            config = state.in_config or is_config_class(node, ctx.imports)
            guarded = state.guarded or device_specific(node.name)
            self.body(
                node.body,
                state._replace(
                    guarded=guarded, in_config=config, class_body=True, in_class=True
                ),
            )
        elif isinstance(node, (ast.If, ast.While)):
            self.expr(node.test, state)
            inner = state._replace(class_body=False)
            if not state.guarded and mentions_device(node.test):
                inner = inner._replace(guarded=True)
            if isinstance(node, ast.If) and is_main_guard(node.test):
                inner = inner._replace(smoke=is_smoke_test(node.body))
            self.body(node.body, inner)
            self.body(node.orelse, inner)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self.expr(node.iter, state)
            inner = state._replace(class_body=False)
            self.body(node.body, inner)
            self.body(node.orelse, inner)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                self.expr(item.context_expr, state)
            self.body(node.body, state._replace(class_body=False))
        elif isinstance(node, (ast.Try, _TRY_STAR)):
            inner = state._replace(class_body=False)
            self.body(node.body, inner)
            for handler in node.handlers:
                self.body(handler.body, inner)
            self.body(node.orelse, inner)
            self.body(node.finalbody, inner)
        elif isinstance(node, ast.Match):
            self.expr(node.subject, state)
            for case in node.cases:
                self.body(case.body, state._replace(class_body=False))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            add_import(node, ctx.imports)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child, state)

    def expr(self, node: ast.expr, state: State) -> None:
        """Visit an expression's candidate nodes and call their checks.

        A conditional expression guards what it holds (a CPU fallback is in
        sight); a lambda's parameters are skipped.

        Args:
            node: The expression.
            state: What encloses it.
        """
        ctx, checks, lines = self.ctx, self.checks, self.lines
        stack: list[tuple[ast.AST, bool]] = [(node, state.guarded)]
        while stack:
            sub, guarded = stack.pop()
            if lines is not None:
                first = getattr(sub, "lineno", None)
                if first is not None:
                    i = bisect_left(lines, first)
                    if i == len(lines) or lines[i] > (
                        getattr(sub, "end_lineno", None) or first
                    ):
                        continue
            funcs = checks.get(type(sub))
            if funcs:
                here = (
                    state
                    if guarded == state.guarded
                    else state._replace(guarded=guarded)
                )
                for check in funcs:
                    check(ctx, sub, here)
            if isinstance(sub, ast.IfExp):
                guarded = True
            elif isinstance(sub, ast.Lambda):
                stack.append((sub.body, guarded))
                continue
            stack.extend((child, guarded) for child in ast.iter_child_nodes(sub))


def suppressed(line_text: str, code: str) -> bool:
    """Tell whether ``# noqa`` on a line suppresses ``code``.

    Args:
        line_text: The source line.
        code: The finding's code.

    Returns:
        True for a bare ``# noqa`` or one listing the code or a prefix of it.
    """
    if "noqa" not in line_text.lower():
        return False
    for match in _NOQA.finditer(line_text):
        codes = match.group("codes")
        if codes is None:
            return True
        if any(code.startswith(c.strip().upper()) for c in codes.split(",")):
            return True
    return False


def parse(source: str, filename: str, *, top_level_await: bool = False) -> ast.Module:
    """Parse Python source without printing SyntaxWarnings.

    Args:
        source: The text.
        filename: For error messages.
        top_level_await: Accept ``await`` at top level (notebook cells).

    Returns:
        The module.

    A source that does not parse raises :class:`SyntaxError` (``ValueError``
    for NUL bytes), as :func:`compile` does.
    """
    flags = ast.PyCF_ONLY_AST | (
        ast.PyCF_ALLOW_TOP_LEVEL_AWAIT if top_level_await else 0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree: ast.Module = compile(source, filename, "exec", flags, dont_inherit=True)
    return tree


def analyze_tree(
    tree: ast.Module,
    source: str,
    options: Options,
    lines: list[int] | None = None,
) -> list[RawFinding]:
    """Run the selected rules over a parsed module.

    Args:
        tree: The module.
        source: Its text.
        options: What to check.
        lines: The candidate lines, computed from ``source`` when None.

    Returns:
        The unsuppressed findings, sorted.
    """
    table = dispatch(options.codes)
    if not table.by_node:
        return []
    if lines is None:
        lines = candidate_lines(source, options)
        if lines is not None and not lines:
            return []
    text_lines = source.splitlines()
    ctx = FileContext(tree, text_lines, options, table.codes, source)
    Walker(ctx, lines, table).run()
    kept = [
        f
        for f in ctx.findings
        if not (0 < f[0] <= len(text_lines) and suppressed(text_lines[f[0] - 1], f[2]))
    ]
    return sorted(kept)


def analyze_source(source: str, filename: str, options: Options) -> list[RawFinding]:
    """Parse and check one Python file's text.

    Args:
        source: The text.
        filename: For syntax error messages.
        options: What to check.

    Returns:
        The findings, sorted.

    A source that does not parse raises :class:`SyntaxError`, as :func:`parse`.
    """
    # Parsed even when no rule can fire: a broken file is reported either way.
    # (compile() to bytecode is stricter and, measured fairly, only ~5-14%
    # cheaper than building the AST, so it is not used as a shortcut.)
    tree = parse(source, filename)
    if not dispatch(options.codes).by_node:
        return []
    lines = candidate_lines(source, options)
    if lines is not None and not lines:
        return []
    return analyze_tree(tree, source, options, lines)
