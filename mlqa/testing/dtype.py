"""``assert_dtype_consistent``: every floating tensor in forward and backward has one dtype.

This is the only module of mlqa that uses a private torch API:
``torch.utils._python_dispatch.TorchDispatchMode``, which sees every aten op
(its inputs and results) in forward and backward. ``tests/test_testing_v2.py``
pins the contract it relies on.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mlqa.testing._core import (
    call_model,
    check,
    fail,
    fresh_copy,
    iter_tensors,
)

if TYPE_CHECKING:
    import torch
    from torch import nn

#: (where, op, input dtypes, result dtype) of an op whose result has another dtype.
Event = tuple[str, str, tuple[str, ...], str]


def _name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _floating(tensor: torch.Tensor) -> bool:
    return tensor.is_floating_point()


def default_dtype(model: nn.Module, inputs: Any) -> torch.dtype:
    """The dtype most of the model's parameters have.

    Args:
        model: The module.
        inputs: Its inputs, used when it has no floating parameter or buffer.

    Returns:
        The commonest floating dtype of the parameters, else of the buffers,
        else of the inputs, else ``torch.get_default_dtype()``.
    """
    import torch

    for tensors in (
        [p for p in model.parameters() if _floating(p)],
        [b for b in model.buffers() if _floating(b)],
        [t for _, t in iter_tensors(inputs) if _floating(t)],
    ):
        if tensors:
            return Counter(t.dtype for t in tensors).most_common(1)[0][0]
    return torch.get_default_dtype()


@functools.cache
def _tracer_class() -> Any:
    """The dispatch mode class, built once (building a mode class is not free)."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    # a tensor brought in from outside (torch.from_numpy, torch.tensor(data)) is
    # like an input: judged by what forward() computes from it, not itself
    lifts = {torch.ops.aten.lift_fresh, torch.ops.aten.lift_fresh_copy}
    tensor = torch.Tensor

    class DtypeTracer(TorchDispatchMode):  # type: ignore[no-untyped-call]
        """Records every floating op result whose dtype is not ``want``."""

        def __init__(
            self, want: torch.dtype, events: list[Event], where: list[str]
        ) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self.want, self.events, self.where = want, events, where

        @classmethod
        def _should_skip_dynamo(cls) -> bool:
            # no torch.compile inside this trace: skip the per-op dynamo guard
            return False

        def __torch_dispatch__(
            self,
            func: Any,
            types: Any,
            args: tuple[Any, ...] = (),
            kwargs: dict[str, Any] | None = None,
        ) -> Any:
            result = func(*args, **(kwargs or {}))
            want = self.want
            if type(result) is tensor:  # the common case, kept cheap
                if result.dtype == want or not result.is_floating_point():
                    return result
                wrong = [result.dtype]
            else:
                wrong = [
                    t.dtype
                    for _, t in iter_tensors(result)
                    if t.dtype != want and t.is_floating_point()
                ]
            if wrong and func.overloadpacket not in lifts:
                given = [
                    t for _, t in iter_tensors(args) if isinstance(t, torch.Tensor)
                ]
                given += [t for _, t in iter_tensors(kwargs or {})]
                names = tuple(sorted({_name(t.dtype) for t in given if _floating(t)}))
                op = str(func.overloadpacket)
                for dtype in dict.fromkeys(wrong):
                    self.events.append((self.where[-1], op, names, _name(dtype)))
            return result

    return DtypeTracer


def _tracer(want: torch.dtype, events: list[Event], where: list[str]) -> Any:
    """A dispatch mode that records every floating op result not of dtype ``want``."""
    return _tracer_class()(want, events, where)


def _hooks(model: nn.Module, where: list[str]) -> list[Any]:
    def enter(name: str) -> Callable[..., None]:
        def push(module: Any, args: Any) -> None:
            where.append(name)

        return push

    def leave(module: Any, args: Any, output: Any) -> None:
        if len(where) > 1:
            where.pop()

    handles = []
    for name, module in model.named_modules():
        label = (
            f"{name} ({type(module).__name__})"
            if name
            else (f"the model ({type(module).__name__})")
        )
        handles.append(module.register_forward_pre_hook(enter(label)))
        handles.append(module.register_forward_hook(leave))
    return handles


def _is_cause(event: Event) -> bool:
    """Tell an op that brings in the wrong dtype from one that carries it on."""
    _, _, given, result = event
    return given != (result,)


def _report(events: list[Event], phase: str) -> list[str]:
    counts = Counter(events)
    causes = [e for e in counts if _is_cause(e)]
    problems = []
    for where, op, given, result in causes:
        source = "/".join(given) if given else "a new tensor"
        times = counts[(where, op, given, result)]
        suffix = f" ({times} times)" if times > 1 else ""
        problems.append(f"{where}: {source} -> {result} in {op}{suffix}")
    carried = sum(n for e, n in counts.items() if not _is_cause(e))
    if carried:
        dtypes = sorted({e[3] for e in counts if not _is_cause(e)})
        problems.append(
            f"{phase}: {carried} more op results carry {'/'.join(dtypes)} on from there"
        )
    return problems


@check
def assert_dtype_consistent(
    model: nn.Module, inputs: Any, *, dtype: torch.dtype | None = None
) -> None:
    """Assert forward and backward compute every floating tensor in one dtype.

    A deep copy is run forward and backward in training mode while every aten
    op is traced; every floating parameter, buffer, op result and output must
    have ``dtype``. Each op that brings in another dtype is named with the
    submodule running it (``net.0 (Bf16Linear): float32 -> bfloat16 in
    aten._to_copy``), ops in the backward pass as ``backward``; ops that only
    carry a wrong dtype on are counted. Models that use ``torch.autocast`` on
    purpose mix dtypes by design: this check is not for them.

    Fails (AssertionError) listing each parameter, buffer and output of the
    wrong dtype and each op that changed the dtype.

    Args:
        model: The module; a deep copy is run.
        inputs: A Tensor, a tuple of Tensors (positional) or a dict (keywords).
        dtype: The dtype wanted; None for the dtype of most parameters.
    """
    import torch

    copy = fresh_copy(model, train=True)
    want = default_dtype(copy, inputs) if dtype is None else dtype
    problems = [
        f"{kind} {name!r} is {_name(t.dtype)}"
        for kind, named in (
            ("parameter", copy.named_parameters()),
            ("buffer", copy.named_buffers()),
        )
        for name, t in named
        if _floating(t) and t.dtype != want
    ]
    events: list[Event] = []
    where = ["forward()"]
    handles = _hooks(copy, where)
    try:
        with _tracer(want, events, where):
            outputs = list(iter_tensors(call_model(copy, inputs), "output"))
        forward = len(events)
        roots = [t for _, t in outputs if _floating(t) and t.requires_grad]
        where[:] = ["backward"]
        if roots:
            grads = [torch.ones_like(t) for t in roots]
            with _tracer(want, events, where):
                torch.autograd.backward(roots, grads)
    finally:
        for handle in handles:
            handle.remove()
    problems += [
        f"{path} is {_name(t.dtype)}"
        for path, t in outputs
        if _floating(t) and t.dtype != want
    ]
    problems += _report(events[:forward], "forward()")
    problems += _report(events[forward:], "backward")
    if problems:
        fail(
            problems,
            hint=f"every floating tensor should be {_name(want)}: look for .to(), "
            ".half()/.double()/.float() and dtype= in forward(), tensors created "
            "without dtype= (torch.zeros, torch.arange(...).float()), and parameters "
            "or buffers kept in another dtype",
        )
