"""A mypy plugin that understands PyTorch modules.

``nn.Module.__getattr__`` is annotated ``-> Tensor | Module``, so without help
mypy types every attribute it cannot find on a module (a ``ModuleDict`` key, a
registered buffer, a submodule added by name) as that union, and idiomatic
code (``self.transformer.wte(idx)``, ``self.bias[:, :T]``) fails to check.
mypy calls the attribute hook for every attribute of a class that defines
``__getattr__``; this plugin answers it:

- a key of ``nn.ModuleDict(dict(a=...))`` / ``nn.ModuleDict({"a": ...})`` has
  the type of its value (the dict's keys travel with the ``ModuleDict`` type,
  so they survive ``self.x = ...``, aliases and mypy's cache);
- a name given to ``self.register_buffer("name", ...)`` is a ``Tensor``, one
  given to ``self.register_parameter`` a ``Parameter`` (found when the class
  is analysed, kept in the class's metadata, so in mypy's cache too);
- ``.module`` of a module is the module itself (see the wrappers below);
- anything else mypy cannot find is ``Any``, never ``Tensor | Module``.

A class that stores its attributes dynamically (``self.__dict__.update(kw)``
or ``setattr(self, name, value)`` with a computed name, as config objects
such as minGPT's ``CfgNode`` do) is treated like a class with an unknown
base: attributes mypy cannot find on it are ``Any`` instead of errors. So is
FSDP2's ``FSDPModule``: ``fully_shard(model)`` turns ``model`` into a subclass
of both ``FSDPModule`` and the model's class, which torch's types cannot say.

``torch.compile(m)`` and the wrappers ``DistributedDataParallel(m)``,
``DataParallel(m)`` and ``FullyShardedDataParallel(m)`` have the type of
``m``: ``model = DDP(model)`` keeps ``model`` usable, calling it returns what
calling ``m`` returns, and its ``.module`` is ``m``'s type.

Enable it with ``plugins = ["mlqa.mypy_plugin"]`` under ``[tool.mypy]``
(mlqa's own preset does). Without torch installed nothing here applies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from mypy.checker import TypeChecker
from mypy.nodes import (
    ARG_POS,
    Block,
    CallExpr,
    Decorator,
    DictExpr,
    Expression,
    ExpressionStmt,
    ForStmt,
    FuncDef,
    IfStmt,
    MemberExpr,
    NameExpr,
    Statement,
    StrExpr,
    TryStmt,
    TypeInfo,
    WhileStmt,
    WithStmt,
)
from mypy.plugin import AttributeContext, ClassDefContext, FunctionContext, Plugin
from mypy.typeops import make_simplified_union
from mypy.types import (
    AnyType,
    FunctionLike,
    Instance,
    NoneType,
    Type,
    TypeOfAny,
    UnionType,
    get_proper_type,
)

MODULE = "torch.nn.modules.module.Module"
MODULE_DICT = "torch.nn.modules.container.ModuleDict"
TENSOR = "torch._tensor.Tensor"
PARAMETER = "torch.nn.parameter.Parameter"
METADATA = "mlqa.torch"
# Calls whose result has the type of their first argument.
SAME_TYPE = frozenset(
    {
        "torch.compile",
        "torch.nn.parallel.distributed.DistributedDataParallel",
        "torch.nn.parallel.data_parallel.DataParallel",
        "torch.distributed.fsdp.fully_sharded_data_parallel.FullyShardedDataParallel",
    }
)
FSDP_MODULE = "torch.distributed.fsdp._fully_shard._fully_shard.FSDPModule"
_REGISTER = {"register_buffer": "buffers", "register_parameter": "parameters"}
_ATTRIBUTE_PREFIX = MODULE + "."


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


def _named(ctx: AttributeContext, fullname: str) -> Type:
    """Return an instance of a torch class, or Any when it is not loaded."""
    module, _, name = fullname.rpartition(".")
    tree = ctx.api.modules.get(module) if isinstance(ctx.api, TypeChecker) else None
    node = tree.names.get(name) if tree is not None else None
    if node is not None and isinstance(node.node, TypeInfo):
        return Instance(node.node, [])
    return AnyType(TypeOfAny.special_form)


def _resolve(name: str, typ: Instance, ctx: AttributeContext) -> Type:
    """Type one module instance's attribute that has no definition."""
    if typ.extra_attrs is not None and name in typ.extra_attrs.attrs:
        return typ.extra_attrs.attrs[name]
    for base in typ.type.mro:
        meta = base.metadata.get(METADATA)
        if meta is not None:
            if name in meta.get("buffers", ()):
                return _named(ctx, TENSOR)
            if name in meta.get("parameters", ()):
                return _named(ctx, PARAMETER)
    if name == "module":
        return typ  # ``DDP(model).module``: the wrappers keep the model's type
    return AnyType(TypeOfAny.special_form)


def module_attribute(name: str, ctx: AttributeContext) -> Type:
    """Type an attribute of a module instance that mypy found no definition for.

    mypy calls this for attributes ``nn.Module`` declares (``training``) and
    for every name it finds nowhere else (through ``Module.__getattr__``).
    For a union (``GPT | Any``) it passes the whole union: each module in it
    without the attribute gets its answer.

    Args:
        name: The attribute's name.
        ctx: The attribute access.

    Returns:
        The precise type where the plugin knows it, else ``Any``; the declared
        type for attributes ``nn.Module`` itself declares.
    """
    typ = ctx.type
    items = (
        [get_proper_type(t) for t in typ.items] if isinstance(typ, UnionType) else [typ]
    )
    modules = [t for t in items if isinstance(t, Instance) and t.type.has_base(MODULE)]
    for base in modules[0].type.mro if modules else ():
        if base.fullname == MODULE and name in base.names:
            return ctx.default_attr_type  # a real attribute, such as ``training``
    missing = [_resolve(name, t, ctx) for t in modules if t.type.get(name) is None]
    return (
        make_simplified_union(missing) if missing else AnyType(TypeOfAny.special_form)
    )


def _dict_items(arg: Expression) -> list[tuple[str, Expression]] | None:
    """Return the literal keys and values of ``dict(a=...)`` or ``{"a": ...}``."""
    if isinstance(arg, DictExpr):
        items = [(k.value, v) for k, v in arg.items if isinstance(k, StrExpr)]
        return items if len(items) == len(arg.items) else None
    if (
        isinstance(arg, CallExpr)
        and isinstance(arg.callee, NameExpr)
        and arg.callee.fullname == "builtins.dict"
        and arg.arg_names
        and all(arg.arg_names)
    ):
        return [(str(n), v) for n, v in zip(arg.arg_names, arg.args, strict=True)]
    return None


def module_dict(ctx: FunctionContext) -> Type:
    """Give ``nn.ModuleDict(...)`` with literal keys the types of its values.

    Args:
        ctx: The constructor call.

    Returns:
        The ``ModuleDict`` type carrying one extra attribute per key.
    """
    ret = get_proper_type(ctx.default_return_type)
    if not (isinstance(ret, Instance) and ctx.args and len(ctx.args[0]) == 1):
        return ctx.default_return_type
    items = _dict_items(ctx.args[0][0])
    if not items or not isinstance(ctx.api, TypeChecker):
        return ctx.default_return_type
    for key, value in items:
        found = ctx.api.lookup_type_or_none(value)
        ret = ret.copy_with_extra_attr(key, found or AnyType(TypeOfAny.special_form))
    return ret


def same_type(ctx: FunctionContext) -> Type:
    """Give ``torch.compile(m)`` and ``DDP(m)``-style wrappers the type of ``m``.

    Args:
        ctx: The call.

    Returns:
        The type of the first argument (a module, a union of modules, Any),
        except for a function: ``torch.compile(f)`` keeps mypy's answer,
        a callable with ``f``'s signature.
    """
    if ctx.arg_types and ctx.arg_types[0] and ctx.arg_kinds[0][0] == ARG_POS:
        arg = ctx.arg_types[0][0]
        if not isinstance(get_proper_type(arg), (FunctionLike, NoneType)):
            return arg
    return ctx.default_return_type


class TorchPlugin(Plugin):
    """The mypy plugin: see the module docstring."""

    def get_attribute_hook(
        self, fullname: str
    ) -> Callable[[AttributeContext], Type] | None:
        """Answer attributes of ``nn.Module`` subclasses (see :func:`module_attribute`).

        Args:
            fullname: ``torch.nn.modules.module.Module.<name>`` for attributes
                found through ``Module.__getattr__``.

        Returns:
            The hook, or None for other attributes.
        """
        if fullname.startswith(_ATTRIBUTE_PREFIX):
            return partial(module_attribute, fullname[len(_ATTRIBUTE_PREFIX) :])
        return None

    def get_function_hook(
        self, fullname: str
    ) -> Callable[[FunctionContext], Type] | None:
        """Answer ``ModuleDict(...)``, ``torch.compile`` and the DDP/FSDP wrappers.

        Args:
            fullname: The called function or class.

        Returns:
            The hook, or None for other calls.
        """
        if fullname == MODULE_DICT:
            return module_dict
        if fullname in SAME_TYPE:
            return same_type
        return None

    def get_base_class_hook(
        self, fullname: str
    ) -> Callable[[ClassDefContext], None] | None:
        """Record registered buffers and parameters of every class defined.

        Args:
            fullname: A base class of a class being defined.

        Returns:
            The hook (cheap: it reads the class's own method bodies only).
        """
        del fullname
        return collect_registered

    def get_customize_class_mro_hook(
        self, fullname: str
    ) -> Callable[[ClassDefContext], None] | None:
        """Find classes that set their attributes dynamically (see :func:`mark_dynamic`).

        Args:
            fullname: The class being defined (every class is seen here).

        Returns:
            The hook.
        """
        del fullname
        return mark_dynamic


def plugin(version: str) -> type[Plugin]:
    """Return the plugin class (mypy's entry point).

    Args:
        version: mypy's version.

    Returns:
        :class:`TorchPlugin`.
    """
    del version
    return TorchPlugin
