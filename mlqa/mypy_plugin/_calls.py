"""``f(**config)``: a dict's value type need not fit every parameter it may fill.

mypy cannot know which keys a plain dict holds, so it checks the dict's value
type against every parameter the ``**`` expansion may fill: nanoGPT's
``GPTConfig(**model_args)`` (``dict[str, int]``: ints and a bool) fails on
``bias: bool`` and pytorch/examples' ``DataLoader(data, **{"num_workers": 1,
"pin_memory": True})`` on ``sampler``, although each key goes to a parameter
its value fits. This plugin keeps the check where it can find a real bug:
the expansion is reported only when its value type fits *none* of the
parameters it may fill (``dict[str, str]`` into ``int`` parameters only).
A value type of ``object`` or a union (values of different types, one per
key: ``dict(n_layer=12, dropout=0.1, vocab_size=None)``) is not checked. A
``TypedDict`` keeps mypy's own per-key check.
"""

from __future__ import annotations

from mypy.nodes import ARG_STAR2, CallExpr, Expression
from mypy.plugin import FunctionSigContext, MethodSigContext
from mypy.subtypes import is_subtype
from mypy.types import (
    AnyType,
    CallableType,
    FunctionLike,
    Instance,
    Type,
    TypeOfAny,
    UnionType,
    get_proper_type,
)


def _value_type(mapping: Type) -> Type | None:
    """The value type of a ``**`` argument's mapping type (None: not a plain mapping)."""
    proper = get_proper_type(mapping)
    if not isinstance(proper, Instance) or len(proper.args) != 2:
        return None
    return proper.args[1]


def _mixed(value: Type) -> bool:
    """Tell whether a mapping's value type says its values differ by key."""
    proper = get_proper_type(value)
    if isinstance(proper, UnionType):
        return True
    return isinstance(proper, Instance) and proper.type.fullname == "builtins.object"


def dict_kwargs(ctx: FunctionSigContext | MethodSigContext) -> FunctionLike:
    """Check a ``**`` argument against the parameters it may fill, as described above.

    Args:
        ctx: mypy's context for the call's signature.

    Returns:
        The signature, with the parameters a ``**`` argument fills typed
        ``Any`` when its value type is mixed or fits at least one of them.
    """
    signature = ctx.default_signature
    call = ctx.context
    if (
        not isinstance(call, CallExpr)
        or ARG_STAR2 not in call.arg_kinds
        or not isinstance(signature, CallableType)
        or len(ctx.args) != len(signature.arg_types)
    ):
        return signature
    types = list(signature.arg_types)
    for arg, kind in zip(call.args, call.arg_kinds, strict=True):
        if kind != ARG_STAR2:
            continue
        value = _value_type(ctx.api.get_expression_type(arg))
        if value is None:
            continue
        filled = [i for i, actuals in enumerate(ctx.args) if _holds(actuals, arg)]
        if _mixed(value) or any(is_subtype(value, types[i]) for i in filled):
            for i in filled:
                types[i] = AnyType(TypeOfAny.special_form)
    return signature.copy_modified(arg_types=types)


def _holds(actuals: list[Expression], arg: Expression) -> bool:
    return any(actual is arg for actual in actuals)
