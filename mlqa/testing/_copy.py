"""Deep copies of modules: what ``copy.deepcopy`` does, minus its overhead."""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn


def _plain_module(cls: Any) -> bool:
    from torch import nn

    return (
        cls.__reduce_ex__ is object.__reduce_ex__
        and cls.__getstate__ is nn.Module.__getstate__
        and not hasattr(cls, "__deepcopy__")
        and not hasattr(cls, "__slots__")
    )


_ATOMIC = (type(None), bool, int, float, complex, str, bytes)


def _immutable(value: Any) -> bool:
    """Tell whether ``copy.deepcopy`` would return value itself (atomic, or a tuple of such)."""
    kind = type(value)
    if kind in _ATOMIC:
        return True
    return kind is tuple and all(type(item) in _ATOMIC for item in value)


def _copy_tensor(tensor: Any, memo: dict[int, Any]) -> Any:
    """Copy a plain parameter or buffer as ``copy.deepcopy`` would, without its overhead."""
    import torch
    from torch import nn

    key = id(tensor)
    if key in memo:
        return memo[key]
    kind = type(tensor)
    if tensor is None or (kind is not nn.Parameter and kind is not torch.Tensor):
        return copy.deepcopy(tensor, memo)
    if tensor.__dict__ or not tensor.is_leaf or tensor.grad is not None:
        return copy.deepcopy(tensor, memo)
    data = tensor.detach().clone(memory_format=torch.preserve_format)
    if kind is nn.Parameter:
        clone: Any = nn.Parameter(data, requires_grad=tensor.requires_grad)
    else:
        clone = data.requires_grad_(tensor.requires_grad)
    memo[key] = clone
    return clone


def _copy_module(module: Any, memo: dict[int, Any]) -> Any:
    """``copy.deepcopy`` for a module, minus the cost of its many empty hook dicts.

    Equivalent to what ``copy.deepcopy`` does for a module that does not customise
    copying (every attribute deep-copied with the same memo, so tied weights stay
    tied); modules that customise it go through ``copy.deepcopy`` itself.
    """
    key = id(module)
    if key in memo:
        return memo[key]
    cls: Any = type(module)
    if not _plain_module(cls):
        return copy.deepcopy(module, memo)
    clone = cls.__new__(cls)
    memo[key] = clone
    state: dict[str, Any] = {}
    for name, value in module.__dict__.items():
        if name == "_modules":
            state[name] = type(value)(
                (k, None if v is None else _copy_module(v, memo))
                for k, v in value.items()
            )
        elif name in ("_parameters", "_buffers") and type(value) is dict:
            state[name] = {k: _copy_tensor(v, memo) for k, v in value.items()}
        elif type(value) in (dict, OrderedDict, list, set) and not value:
            state[name] = type(value)()
        elif _immutable(value):  # shared, as deepcopy shares it
            state[name] = value
        else:
            state[name] = copy.deepcopy(value, memo)
    clone.__setstate__(state)
    return clone


def fresh_copy(model: nn.Module, train: bool = True) -> nn.Module:
    """Deep-copy ``model`` so the caller's module is never changed.

    Args:
        model: The module.
        train: Put the copy in training mode (True) or eval mode (False).

    Returns:
        The copy.
    """
    clone: nn.Module = _copy_module(model, {})
    clone.train(train)
    return clone
