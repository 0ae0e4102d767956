"""The questions mlqa's mypy filters ask of a source file, answered from one parse.

:mod:`mlqa.tools.mypy_guesses` decides whether a mypy finding is about a type
mypy guessed; it asks what is assigned on a line, which scopes surround it,
where a name is first bound. :class:`Source` parses a file once and indexes it,
so each question is a lookup: hundreds of findings in one long file stay
linear.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from mlqa.files import read_lines

Scope = ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


class Source:
    """One file's syntax tree and the indexes the filters ask of it, built once.

    Each filter question (the assignment on a line, the scopes around a line,
    a name's bindings in a scope) is then a lookup, not a walk of the tree:
    hundreds of findings in one long file stay linear.
    """

    def __init__(self, path: str) -> None:
        self.lines = read_lines(path)
        self.tree = parse(path)
        self.assigns: dict[int, tuple[ast.Assign, list[Scope]]] = {}
        # functions and classes, outer first
        self.scopes: list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef] = []
        self._bindings: dict[int, dict[str, list[ast.stmt]]] = {}
        self._layers: set[str] | None = None
        self._starts: dict[tuple[int, int], ast.expr] | None = None
        if self.tree is None:
            return
        for node, scopes in walk(self.tree, [self.tree]):
            if isinstance(node, ast.Assign) and node.lineno not in self.assigns:
                self.assigns[node.lineno] = (node, scopes)
            elif isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            ):
                self.scopes.append(node)

    def line(self, number: int) -> str:
        """The text of line ``number`` (1-based; empty past either end)."""
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""

    def assignment_at(self, line: int) -> tuple[ast.Assign, list[Scope]] | None:
        """The assignment of one target on ``line`` and the scopes around it."""
        found = self.assigns.get(line)
        return found if found is not None and len(found[0].targets) == 1 else None

    def scopes_at(self, line: int) -> list[Scope]:
        """The module and every function or class around ``line``, outer first."""
        around: list[Scope] = [
            scope
            for scope in self.scopes
            if scope.lineno <= line <= (scope.end_lineno or scope.lineno)
        ]
        return [self.tree, *around] if self.tree is not None else around

    def expression_at(self, line: int, column: int) -> ast.expr | None:
        """The outermost expression that starts at ``line``, ``column`` (1-based).

        Args:
            line: The line of a mypy finding.
            column: Its column.

        Returns:
            The expression, or None when none starts there.
        """
        if self._starts is None:
            self._starts = {}
            for node in ast.walk(self.tree) if self.tree is not None else ():
                if isinstance(node, ast.expr):  # breadth first: outer ones win
                    self._starts.setdefault((node.lineno, node.col_offset + 1), node)
        return self._starts.get((line, column))

    def module_classes(self) -> set[str]:
        """The file's top-level classes that subclass ``nn.Module`` (or one of them)."""
        if self._layers is None:
            classes = [
                n for n in getattr(self.tree, "body", []) if isinstance(n, ast.ClassDef)
            ]
            found = {"Module"}
            grew = True
            while grew:  # a class whose base is a module class found so far
                grew = False
                for cls in classes:
                    bases = {base_name(base) for base in cls.bases}
                    if cls.name not in found and bases & found:
                        found.add(cls.name)
                        grew = True
            found.discard("Module")
            self._layers = found
        return self._layers

    def bindings(self, scope: Scope) -> dict[str, list[ast.stmt]]:
        """Each name's assignments in ``scope`` (``self.x`` across a class's methods)."""
        table = self._bindings.get(id(scope))
        if table is None:
            table = self._bindings[id(scope)] = {}
            nested_ok = isinstance(scope, ast.ClassDef)  # ``self.x`` is set in methods
            for node, inner in walk(scope, [scope]):
                if not nested_ok and len(inner) > 1:
                    continue  # a nested function's own local
                if isinstance(node, ast.AnnAssign | ast.AugAssign):
                    names = [target_name(node.target)]
                elif isinstance(node, ast.Assign):
                    names = [target_name(target) for target in node.targets]
                else:
                    continue
                for name in names:
                    if name is not None:
                        table.setdefault(name, []).append(node)
        return table


class Sources(dict[str, Source]):
    """Parsed files by path, each parsed on first use."""

    def __missing__(self, path: str) -> Source:
        source = self[path] = Source(path)
        return source


def walk(node: ast.AST, scopes: list[Scope]) -> Iterator[tuple[ast.AST, list[Scope]]]:
    """Every node below ``node`` with the scopes around it, outer first.

    Args:
        node: Where to start.
        scopes: The scopes around ``node`` (``[node]`` for a scope itself).

    Yields:
        ``(node, scopes)`` in source order, parents before children.
    """
    for child in ast.iter_child_nodes(node):
        yield child, scopes
        inner = scopes + [child] if isinstance(child, Scope) else scopes
        yield from walk(child, inner)


def flat_targets(targets: list[ast.expr]) -> Iterator[ast.expr]:
    """The single targets of an assignment: ``a, (b, *c) = ...`` gives a, b, c.

    Args:
        targets: An assignment's targets.

    Yields:
        Each target that is not a tuple, list or starred target itself.
    """
    for target in targets:
        if isinstance(target, ast.Tuple | ast.List):
            yield from flat_targets(target.elts)
        elif isinstance(target, ast.Starred):
            yield from flat_targets([target.value])
        else:
            yield target


def target_name(target: ast.expr) -> str | None:
    """The name an assignment target binds: ``x`` or ``self.x`` (None otherwise).

    Args:
        target: An assignment target.

    Returns:
        ``"x"``, ``"self.x"`` or None for anything else.
    """
    if isinstance(target, ast.Name):
        return target.id
    if (
        isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == "self"
    ):
        return f"self.{target.attr}"
    return None


def scope_of(name: str, scopes: list[Scope]) -> Scope:
    """A local's scope is its function; ``self.x``'s is the enclosing class."""
    if name.startswith("self."):
        classes = [s for s in scopes if isinstance(s, ast.ClassDef)]
        if classes:
            return classes[-1]
    return scopes[-1]


def parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.arg]:
    """Every parameter of a function, ``*args`` and ``**kwargs`` included."""
    arguments = function.args
    stars = [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    return [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, *stars]


def first_binding(source: Source, scope: Scope, name: str) -> ast.Assign | None:
    """The first unannotated ``name = value`` in the scope (None if annotated)."""
    if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef) and any(
        arg.arg == name for arg in parameters(scope)
    ):
        return None  # a parameter: its type is the annotation's, or Any
    nodes = source.bindings(scope).get(name, [])
    if any(isinstance(node, ast.AnnAssign) for node in nodes):
        return None
    assigns = [n for n in nodes if isinstance(n, ast.Assign)]
    return min(assigns, key=lambda node: node.lineno) if assigns else None


def base_name(base: ast.expr) -> str:
    """``Module`` for ``nn.Module``, ``torch.nn.Module`` and ``Module``."""
    if isinstance(base, ast.Attribute):
        return base.attr
    return base.id if isinstance(base, ast.Name) else ""


def parse(path: str) -> ast.Module | None:
    """Parse a file (None when it cannot be read or parsed).

    Args:
        path: The file.

    Returns:
        Its syntax tree, or None.
    """
    try:
        with open(path, "rb") as handle:
            return ast.parse(handle.read())
    except (OSError, SyntaxError, ValueError):
        return None
