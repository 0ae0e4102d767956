"""What a name means in a file: import aliases, literal values and constants.

The rules ask three questions of an expression: which API does this call
resolve to (through ``import torch.optim as optim`` or ``from torch import nn``),
is this value a literal number (``1e-3``, ``-0.1``, ``(0.9, 0.999)``, ``2 ** 10``),
and, for a bare name, is it bound once to such a literal (a constant whose
definition is the thing to report).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

_NUMBER_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Pow, ast.Mod)
_SCOPE_BREAKS = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Lambda,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)


def collect_imports(tree: ast.AST, imports: dict[str, str]) -> None:
    """Record every import alias in ``tree`` (best effort, whole file).

    Args:
        tree: A module or any node holding import statements.
        imports: Updated in place: local name -> fully qualified name.
    """
    for node in ast.walk(tree):
        add_import(node, imports)


def add_import(node: ast.AST, imports: dict[str, str]) -> None:
    """Record the aliases one import statement binds.

    Args:
        node: Any node; only ``import`` and ``from ... import`` matter.
        imports: Updated in place: local name -> fully qualified name.
    """
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                imports[alias.asname] = alias.name
            else:
                root = alias.name.partition(".")[0]
                imports[root] = root
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
        for alias in node.names:
            if alias.name != "*":
                imports[alias.asname or alias.name] = f"{node.module}.{alias.name}"


def qualified_name(node: ast.expr, imports: dict[str, str]) -> str | None:
    """Resolve ``optim.Adam`` to ``torch.optim.Adam`` through the file's imports.

    Args:
        node: The expression, usually a call's ``func``.
        imports: The file's aliases from :func:`collect_imports`.

    Returns:
        The dotted name; names not imported stay as written; None for
        anything that is not a dotted name (a call, a subscript ...).
    """
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(imports.get(node.id, node.id))
    return ".".join(reversed(parts))


def is_literal_number(node: ast.expr) -> bool:
    """Tell whether ``node`` is a literal number, a tuple/list of them, or arithmetic.

    Args:
        node: Any expression.

    Returns:
        True for ``3``, ``1e-3``, ``-0.1``, ``2 ** 10``, ``(0.9, 0.999)``;
        False for booleans, strings, ``None``, names and calls.
    """
    if isinstance(node, ast.Constant):
        value = node.value
        return isinstance(value, (int, float, complex)) and not isinstance(value, bool)
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, (ast.USub, ast.UAdd)) and is_literal_number(
            node.operand
        )
    if isinstance(node, ast.BinOp):
        return (
            isinstance(node.op, _NUMBER_OPS)
            and is_literal_number(node.left)
            and is_literal_number(node.right)
        )
    if isinstance(node, (ast.Tuple, ast.List)):
        return bool(node.elts) and all(is_literal_number(e) for e in node.elts)
    return False


def is_setting_value(node: ast.expr) -> bool:
    """Tell whether a value is a literal setting, possibly chosen by a condition.

    Args:
        node: Any expression.

    Returns:
        True for a literal number (:func:`is_literal_number`), ``int(1e5)``,
        ``float("3e-4")``-free forms like ``float(3e-4)``, and a conditional
        expression choosing between such values (``256 if cuda else 64``).
    """
    if is_literal_number(node):
        return True
    if isinstance(node, ast.IfExp):
        return is_setting_value(node.body) and is_setting_value(node.orelse)
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("int", "float")
        and len(node.args) == 1
        and not node.keywords
        and is_literal_number(node.args[0])
    )


def names_in_number_expr(node: ast.expr) -> list[ast.Name] | None:
    """List the names in an arithmetic expression of numbers and names.

    Args:
        node: Any expression.

    Returns:
        The names (possibly empty) when ``node`` is built only from literal
        numbers and plain names with arithmetic, tuples and lists; None when
        anything else appears (a call, an attribute, a subscript ...).
    """
    if isinstance(node, ast.Name):
        return [node]
    if isinstance(node, ast.Constant):
        return [] if is_literal_number(node) else None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return names_in_number_expr(node.operand)
    if isinstance(node, ast.BinOp) and isinstance(node.op, _NUMBER_OPS):
        left = names_in_number_expr(node.left)
        right = names_in_number_expr(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, (ast.Tuple, ast.List)) and node.elts:
        found: list[ast.Name] = []
        for elt in node.elts:
            sub = names_in_number_expr(elt)
            if sub is None:
                return None
            found += sub
        return found
    return None


def _scope_nodes(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """Yield the nodes of one scope, not entering nested functions or classes."""
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, _SCOPE_BREAKS):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield ast.Name(id=node.name, ctx=ast.Store())
            continue
        stack.extend(ast.iter_child_nodes(node))


class Scope:
    """The names one scope binds, and which of them are literal constants.

    Args:
        node: A module or function node.
    """

    def __init__(
        self, node: ast.Module | ast.FunctionDef | ast.AsyncFunctionDef
    ) -> None:
        self.node = node
        bound: dict[str, int] = {}
        literal: dict[str, list[ast.Assign | ast.AnnAssign]] = {}
        if not isinstance(node, ast.Module):
            args = node.args
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
                bound[arg.arg] = bound.get(arg.arg, 0) + 2
            for extra in (args.vararg, args.kwarg):
                if extra is not None:
                    bound[extra.arg] = 2
        for sub in _scope_nodes(node.body):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
                bound[sub.id] = bound.get(sub.id, 0) + 1
            elif isinstance(sub, (ast.Global, ast.Nonlocal)):
                for name in sub.names:
                    bound[name] = bound.get(name, 0) + 2
            elif isinstance(sub, (ast.Import, ast.ImportFrom)):
                for alias in sub.names:
                    name = (alias.asname or alias.name).partition(".")[0]
                    bound[name] = bound.get(name, 0) + 2
            if isinstance(sub, ast.Assign):
                if (
                    len(sub.targets) == 1
                    and isinstance(sub.targets[0], ast.Name)
                    and is_setting_value(sub.value)
                ):
                    literal.setdefault(sub.targets[0].id, []).append(sub)
            elif (
                isinstance(sub, ast.AnnAssign)
                and isinstance(sub.target, ast.Name)
                and sub.value is not None
                and is_setting_value(sub.value)
            ):
                literal.setdefault(sub.target.id, []).append(sub)
        self.bound = bound
        #: Names every binding of which assigns a literal (``EPOCHS = 10``;
        #: ``BATCH = 256 if cuda else 64``; assigned again later): their
        #: assignments, in order.
        self.settings = {
            name: found
            for name, found in literal.items()
            if bound.get(name) == len(found)
        }
        #: Names bound once, to a literal: their assignment.
        self.constants = {
            name: found[0] for name, found in self.settings.items() if len(found) == 1
        }

    def binds(self, name: str) -> bool:
        """Tell whether the scope binds ``name`` at all.

        Args:
            name: A variable name.

        Returns:
            True when assigned, imported or a parameter here.
        """
        return name in self.bound
