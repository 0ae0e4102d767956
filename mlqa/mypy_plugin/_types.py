"""What the plugin answers while mypy type-checks: attributes and calls."""

from __future__ import annotations

from mypy.nodes import (
    ARG_NAMED,
    ARG_POS,
    CallExpr,
    DictExpr,
    Expression,
    MypyFile,
    NameExpr,
    StrExpr,
    TypeInfo,
)
from mypy.plugin import AttributeContext, FunctionContext
from mypy.typeops import make_simplified_union
from mypy.types import (
    AnyType,
    FunctionLike,
    Instance,
    NoneType,
    Type,
    TypeOfAny,
    TypeVarType,
    UnionType,
    get_proper_type,
)

from mlqa.mypy_plugin._classes import METADATA

MODULE = "torch.nn.modules.module.Module"
TENSOR = "torch._tensor.Tensor"
PARAMETER = "torch.nn.parameter.Parameter"
_GIVEN = (ARG_POS, ARG_NAMED)  # ``DDP(model)``, ``DDP(module=model)``


def named(api: object, fullname: str) -> Type:
    """Return an instance of a torch class, or Any when it is not loaded.

    Args:
        api: mypy's TypeChecker, as a hook's ``ctx.api`` (not imported: a warm
            run that checks nothing never loads mypy.checker, and importing it
            would cost that run 20 ms).
        fullname: The class, e.g. ``torch.nn.modules.module.Module``.

    Returns:
        The instance type, or ``Any``.
    """
    module, _, name = fullname.rpartition(".")
    tree = getattr(api, "modules", {}).get(module)
    node = tree.names.get(name) if isinstance(tree, MypyFile) else None
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
                return named(ctx.api, TENSOR)
            if name in meta.get("parameters", ()):
                return named(ctx.api, PARAMETER)
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
    items = [
        get_proper_type(t.upper_bound) if isinstance(t, TypeVarType) else t
        for t in (
            [get_proper_type(t) for t in typ.items]
            if isinstance(typ, UnionType)
            else [typ]
        )
    ]
    modules = [t for t in items if isinstance(t, Instance) and t.type.has_base(MODULE)]
    for base in modules[0].type.mro if modules else ():
        if base.fullname == MODULE and name in base.names:
            return ctx.default_attr_type  # a real attribute, such as ``training``
    missing = [_resolve(name, t, ctx) for t in modules if t.type.get(name) is None]
    return (
        make_simplified_union(missing) if missing else AnyType(TypeOfAny.special_form)
    )


def any_type(ctx: AttributeContext) -> Type:
    """Type ``DataLoader.dataset`` and ``.sampler`` as ``Any``.

    Args:
        ctx: The attribute access.

    Returns:
        ``Any``.
    """
    del ctx
    return AnyType(TypeOfAny.special_form)


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
    lookup = getattr(ctx.api, "lookup_type_or_none", None)  # the TypeChecker's
    if not items or lookup is None:
        return ctx.default_return_type
    for key, value in items:
        found = lookup(value)
        typ = found if isinstance(found, Type) else AnyType(TypeOfAny.special_form)
        ret = ret.copy_with_extra_attr(key, typ)
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
    if ctx.arg_types and ctx.arg_types[0] and ctx.arg_kinds[0][0] in _GIVEN:
        arg = ctx.arg_types[0][0]
        if not isinstance(get_proper_type(arg), (FunctionLike, NoneType)):
            return arg
    return ctx.default_return_type
