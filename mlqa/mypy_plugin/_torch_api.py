"""Where torch's own annotations reject code that torch documents and runs.

Each answer here follows torch's documentation (or its runtime behaviour) over
its type stubs, for one narrow idiom:

- **FSDP2.** ``fully_shard(model)`` swaps ``model``'s class in place for a
  subclass of both ``FSDPModule`` and the model's class; mypy keeps ``model``
  typed as the model's class, so passing it on to a function that takes an
  ``FSDPModule`` fails. A parameter typed ``FSDPModule`` accepts any
  ``nn.Module`` too.
- **Safe globals.** ``torch.serialization.safe_globals`` and
  ``add_safe_globals`` take ``list[Callable | tuple[Callable, str]]``; a list
  of classes built beforehand is ``list[type]`` and ``list`` is invariant, so
  the documented ``safe_globals([MyModel])`` written as two lines fails. The
  list's items are not checked.
- **Sparse constructors.** ``torch.sparse_coo_tensor(indices, values, ...)``
  and the other ``sparse_*_tensor`` factories document their index and value
  arguments as ``array_like`` (NumPy arrays and lists work); the stubs say
  ``Tensor``. Those arguments are not checked.
- **Gradients.** ``param.grad`` is ``Tensor | None`` in the stubs: ``None``
  until a backward pass reached the tensor, which mypy cannot see. Reading
  it is typed ``Tensor`` (``p.data.add_(-lr * p.grad)`` after
  ``loss.backward()`` checks clean); ``p.grad = None`` still checks.
- **Lists of layers.** ``layers = [nn.Linear(a, b)]`` then
  ``layers.append(nn.GELU())``, built for ``nn.Sequential(*layers)``: mypy
  types the list ``list[Linear]`` from its first item and rejects every other
  layer. A list of modules takes any module in ``append``, ``insert`` and
  ``extend``.
- **NumPy's ``axis``.** torch's argument parser takes ``axis=`` for ``dim=``
  everywhere (``x.sum(axis=1)``, ``torch.cat(xs, axis=0)``), and
  ``keepdims=`` for ``keepdim=``; the stubs name only ``dim``. In a call that
  uses the NumPy name, a torch signature's parameter takes that name.
- **``None`` in a ``ModuleList``.** ``nn.ModuleList([FiLM(d) if film else
  None, Attention(d)])`` (a layer slot that is off, checked for ``None`` in
  ``forward``) runs: the list registers each item with ``add_module``, whose
  own annotation takes ``Optional[Module]``. The constructor's items may be
  ``None``.
- **Tensors in a tuple.** ``torch.meshgrid((h, w), indexing="ij")`` runs
  (torch takes one list or tuple of tensors); the stubs accept a list only.
  A tuple of tensors is accepted where a list of tensors is.
- **The accelerator.** ``torch.accelerator.current_accelerator()`` returns
  ``None`` only for a torch built without any accelerator; code that asks
  for the accelerator has chosen to use one, as code calling ``.cuda()``
  has. Called without ``check_available=True`` it is typed ``torch.device``;
  with it (``None`` then also means "none available at run time", the case
  torch's documentation checks for) it keeps ``device | None``.
"""

from __future__ import annotations

from mypy.nodes import ARG_POS, NameExpr
from mypy.plugin import (
    AttributeContext,
    FunctionContext,
    FunctionSigContext,
    MethodSigContext,
)
from mypy.types import (
    AnyType,
    CallableType,
    FunctionLike,
    Instance,
    NoneType,
    Type,
    TypeOfAny,
    UnionType,
    get_proper_type,
)

from mlqa.mypy_plugin._types import MODULE, TENSOR, named

_FSDP_PACKAGE = "torch.distributed.fsdp."
SAFE_GLOBALS = frozenset(
    {"torch.serialization.safe_globals", "torch.serialization.add_safe_globals"}
)
SPARSE_FACTORIES = frozenset(
    f"torch._C._VariableFunctions.sparse_{kind}_tensor"
    for kind in ("coo", "csr", "csc", "bsr", "bsc", "compressed")
)
GRAD = frozenset({"torch._C.TensorBase.grad", "torch._tensor.Tensor.grad"})
CURRENT_ACCELERATOR = "torch.accelerator.current_accelerator"
MODULE_LIST = "torch.nn.modules.container.ModuleList"
MESHGRID = "torch.functional.meshgrid"


def _is_fsdp_module(typ: Type) -> bool:
    proper = get_proper_type(typ)
    return (
        isinstance(proper, Instance)
        and proper.type.name == "FSDPModule"
        and proper.type.fullname.startswith(_FSDP_PACKAGE)
    )


def accept_sharded(
    ctx: FunctionSigContext | MethodSigContext, signature: CallableType
) -> CallableType:
    """Let a parameter typed ``FSDPModule`` take any ``nn.Module`` too.

    Args:
        ctx: mypy's context for the call's signature.
        signature: The signature so far.

    Returns:
        The signature, each ``FSDPModule`` parameter widened to
        ``FSDPModule | Module`` (unchanged when there is none).
    """
    types = signature.arg_types
    if not any(_is_fsdp_module(t) for t in types):
        return signature
    module = named(ctx.api, MODULE)
    if not isinstance(module, Instance):  # torch not loaded
        return signature
    widened = [UnionType.make_union([t, module]) if _is_fsdp_module(t) else t
               for t in types]  # fmt: skip
    return signature.copy_modified(arg_types=widened)


LIST_METHODS = frozenset(
    f"builtins.list.{name}" for name in ("append", "insert", "extend")
)


def _is_module(typ: Type) -> bool:
    proper = get_proper_type(typ)
    return isinstance(proper, Instance) and proper.type.has_base(MODULE)


def any_layer(ctx: MethodSigContext) -> FunctionLike:
    """Let a list of modules take any module (see the module docstring).

    Args:
        ctx: mypy's context for ``list.append``/``insert``/``extend``.

    Returns:
        The signature, its item parameters widened to ``Module`` when the
        list holds modules.
    """
    signature = ctx.default_signature
    receiver = get_proper_type(ctx.type)
    if not (
        isinstance(signature, CallableType)
        and isinstance(receiver, Instance)
        and len(receiver.args) == 1
        and _is_module(receiver.args[0])
    ):
        return signature
    item = get_proper_type(receiver.args[0])
    assert isinstance(item, Instance)
    base = next(info for info in item.type.mro if info.fullname == MODULE)
    module = Instance(base, [])
    types = []
    for typ in signature.arg_types:
        proper = get_proper_type(typ)
        if proper == item:  # append(x), insert(i, x)
            typ = module
        elif isinstance(proper, Instance) and proper.args == (item,):  # extend(xs)
            typ = proper.copy_modified(args=[module])
        types.append(typ)
    return signature.copy_modified(arg_types=types)


_NUMPY_NAMES = {"dim": "axis", "keepdim": "keepdims"}  # torch's -> NumPy's


def numpy_names(
    ctx: FunctionSigContext | MethodSigContext, signature: CallableType
) -> CallableType:
    """Let a torch call say ``axis=``/``keepdims=`` for ``dim=``/``keepdim=``.

    Args:
        ctx: mypy's context for the call's signature.
        signature: The signature so far.

    Returns:
        The signature with ``dim`` named ``axis`` (``keepdim`` named
        ``keepdims``) when the call uses that name and the callee is torch's.
    """
    used = set(getattr(ctx.context, "arg_names", ()))
    if not used & {"axis", "keepdims"}:
        return signature
    definition = signature.definition
    if definition is None or not definition.fullname.startswith("torch."):
        return signature
    names = []
    for name in signature.arg_names:
        numpy = _NUMPY_NAMES.get(name or "")
        clash = numpy in signature.arg_names
        names.append(numpy if numpy in used and not clash else name)
    return signature.copy_modified(arg_names=names)


def unchecked_arguments(ctx: FunctionSigContext) -> FunctionLike:
    """Leave the arguments of safe globals and sparse factories unchecked.

    Args:
        ctx: mypy's context for the call's signature.

    Returns:
        The signature with its tensor or list parameters typed ``Any``.
    """
    signature = ctx.default_signature
    if not isinstance(signature, CallableType):
        return signature
    types = [
        AnyType(TypeOfAny.special_form) if _array_like(t) else t
        for t in signature.arg_types
    ]
    return signature.copy_modified(arg_types=types)


def _array_like(typ: Type) -> bool:
    """Tell whether a parameter is one of those documented as array-like."""
    proper = get_proper_type(typ)
    items = proper.items if isinstance(proper, UnionType) else [proper]
    return any(
        isinstance(item, Instance) and item.type.fullname in (TENSOR, "builtins.list")
        for item in map(get_proper_type, items)
    )


def gradient(ctx: AttributeContext) -> Type:
    """Type a read of ``tensor.grad`` as ``Tensor`` (see the module docstring).

    Args:
        ctx: The attribute access.

    Returns:
        The declared type without ``None``; the declared type for a write.
    """
    if ctx.is_lvalue:
        return ctx.default_attr_type
    return _without_none(ctx.default_attr_type)


def current_accelerator(ctx: FunctionContext) -> Type:
    """Type ``current_accelerator()`` as ``torch.device`` unless asked to check.

    Args:
        ctx: The call.

    Returns:
        ``torch.device``; ``device | None`` when ``check_available`` is given
        as anything but ``False``.
    """
    for names, args, kinds in zip(ctx.arg_names, ctx.args, ctx.arg_kinds, strict=True):
        for name, arg, kind in zip(names, args, kinds, strict=True):
            given = name == "check_available" or kind == ARG_POS
            if given and not (isinstance(arg, NameExpr) and arg.name == "False"):
                return ctx.default_return_type
    return _without_none(ctx.default_return_type)


def _without_none(typ: Type) -> Type:
    proper = get_proper_type(typ)
    if isinstance(proper, UnionType):
        kept = [t for t in proper.items if not isinstance(get_proper_type(t), NoneType)]
        return UnionType.make_union(kept)
    return typ


def optional_items(
    ctx: FunctionSigContext | MethodSigContext, signature: CallableType
) -> CallableType:
    """Let ``ModuleList(...)`` take ``None`` items (see the module docstring).

    Args:
        ctx: mypy's context for the constructor call.
        signature: The signature so far.

    Returns:
        The signature with ``Iterable[Module]`` widened to
        ``Iterable[Module | None]``.
    """
    del ctx
    types = []
    for typ in signature.arg_types:
        proper = get_proper_type(typ)
        parts = proper.items if isinstance(proper, UnionType) else [proper]
        widened = []
        for part in map(get_proper_type, parts):
            if isinstance(part, Instance) and len(part.args) == 1:
                item = get_proper_type(part.args[0])
                if isinstance(item, Instance) and item.type.fullname == MODULE:
                    part = part.copy_modified(args=[UnionType([item, NoneType()])])
            widened.append(part)
        types.append(UnionType.make_union(widened))
    return signature.copy_modified(arg_types=types)


def tensor_tuples(
    ctx: FunctionSigContext | MethodSigContext, signature: CallableType
) -> CallableType:
    """Let ``torch.meshgrid`` take a tuple of tensors (see the module docstring).

    Args:
        ctx: mypy's context for the call.
        signature: The signature so far.

    Returns:
        The signature with each ``list[Tensor]`` also accepting
        ``tuple[Tensor, ...]``.
    """
    tensor = named(ctx.api, TENSOR)
    if not isinstance(tensor, Instance):
        return signature
    tuples = ctx.api.named_generic_type("builtins.tuple", [tensor])
    types = []
    for typ in signature.arg_types:
        proper = get_proper_type(typ)
        parts = proper.items if isinstance(proper, UnionType) else [proper]
        lists = any(
            isinstance(p, Instance)
            and p.type.fullname == "builtins.list"
            and p.args == (tensor,)
            for p in map(get_proper_type, parts)
        )
        types.append(UnionType.make_union([*parts, tuples]) if lists else typ)
    return signature.copy_modified(arg_types=types)
