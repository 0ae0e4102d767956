"""What the plugin reads from class bodies while mypy analyses them.

Runs in mypy's semantic analysis (before any method is type-checked), so it
sees syntax only; what it finds goes into the class (metadata, the
``fallback_to_any`` flag), which mypy caches with the class.
"""

from __future__ import annotations

from collections.abc import Iterator

from mypy.nodes import (
    Block,
    CallExpr,
    Decorator,
    ExpressionStmt,
    ForStmt,
    FuncDef,
    IfStmt,
    MemberExpr,
    NameExpr,
    Statement,
    StrExpr,
    TryStmt,
    WhileStmt,
    WithStmt,
)
from mypy.plugin import ClassDefContext

METADATA = "mlqa.torch"
FSDP_MODULE = "torch.distributed.fsdp._fully_shard._fully_shard.FSDPModule"
_REGISTER = {"register_buffer": "buffers", "register_parameter": "parameters"}


def _statements(body: list[Statement]) -> Iterator[Statement]:
    """Yield the statements of a function body, entering compound statements."""
    for stmt in body:
        yield stmt
        blocks: list[Block | None] = []
        if isinstance(stmt, IfStmt):
            blocks = [*stmt.body, stmt.else_body]
        elif isinstance(stmt, (ForStmt, WhileStmt)):
            blocks = [stmt.body, stmt.else_body]
        elif isinstance(stmt, WithStmt):
            blocks = [stmt.body]
        elif isinstance(stmt, TryStmt):
            blocks = [stmt.body, *stmt.handlers, stmt.else_body, stmt.finally_body]
        for block in blocks:
            if block is not None:
                yield from _statements(block.body)


def _method_calls(func: FuncDef) -> Iterator[tuple[str, CallExpr]]:
    """Yield ``(self name, call)`` for each call statement of a method body."""
    if not func.arguments:
        return
    self_name = func.arguments[0].variable.name
    for stmt in _statements(func.body.body):
        if isinstance(stmt, ExpressionStmt) and isinstance(stmt.expr, CallExpr):
            yield self_name, stmt.expr


def _methods(ctx: ClassDefContext) -> Iterator[FuncDef]:
    """Yield the methods defined in a class body (decorated ones too)."""
    for node in ctx.cls.defs.body:
        func = node.func if isinstance(node, Decorator) else node
        if isinstance(func, FuncDef):
            yield func


def _registered(func: FuncDef) -> Iterator[tuple[str, str]]:
    """Yield ``(kind, name)`` for each ``self.register_*("name", value)``."""
    for self_name, call in _method_calls(func):
        if not (
            isinstance(call.callee, MemberExpr)
            and call.callee.name in _REGISTER
            and isinstance(call.callee.expr, NameExpr)
            and call.callee.expr.name == self_name
            and len(call.args) >= 2
            and isinstance(call.args[0], StrExpr)
        ):
            continue
        value = call.args[1]
        if isinstance(value, NameExpr) and value.name == "None":
            continue  # an optional buffer: left to Any
        yield _REGISTER[call.callee.name], call.args[0].value


def _sets_attributes_dynamically(func: FuncDef) -> bool:
    """Tell whether a method does ``self.__dict__.update(...)`` or ``setattr(self, name, ...)``."""
    for self_name, call in _method_calls(func):
        callee = call.callee
        if (
            isinstance(callee, MemberExpr)
            and callee.name == "update"
            and isinstance(callee.expr, MemberExpr)
            and callee.expr.name == "__dict__"
            and isinstance(callee.expr.expr, NameExpr)
            and callee.expr.expr.name == self_name
        ) or (
            isinstance(callee, NameExpr)
            and callee.name == "setattr"
            and len(call.args) == 3
            and isinstance(call.args[0], NameExpr)
            and call.args[0].name == self_name
            and not isinstance(call.args[1], StrExpr)
        ):
            return True
    return False


def mark_dynamic(ctx: ClassDefContext) -> None:
    """Make unknown attributes ``Any`` on a class that sets them dynamically.

    Args:
        ctx: The class being defined (its MRO just computed).
    """
    name = ctx.cls.fullname
    if name == FSDP_MODULE or (
        not name.startswith("torch.")
        and any(_sets_attributes_dynamically(func) for func in _methods(ctx))
    ):
        ctx.cls.info.fallback_to_any = True


def collect_registered(ctx: ClassDefContext) -> None:
    """Record the buffers and parameters a class registers by name.

    Runs while mypy analyses the class (before its methods are type-checked)
    and keeps the names in the class's metadata, which mypy caches with it.

    Args:
        ctx: The class being defined.
    """
    info = ctx.cls.info
    if info.fullname.startswith("torch."):
        return
    found: dict[str, list[str]] = {}
    for func in _methods(ctx):
        for kind, name in _registered(func):
            found.setdefault(kind, []).append(name)
    if found:
        info.metadata[METADATA] = {k: sorted(set(v)) for k, v in found.items()}
    else:
        info.metadata.pop(METADATA, None)
