"""``assert_eval_mode``: ``model.eval()`` really turns training behaviour off."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mlqa.testing._core import (
    call_model,
    check,
    eval_forward,
    fail,
    fresh_copy,
    iter_tensors,
    mismatch,
)

if TYPE_CHECKING:
    import torch
    from torch import nn


def _training(model: nn.Module) -> list[str]:
    return [
        f"{name or 'the model'!r} ({type(module).__name__})"
        for name, module in model.named_modules()
        if module.training
    ]


def _state(model: nn.Module) -> list[tuple[str, torch.Tensor]]:
    tensors: list[tuple[str, torch.Tensor]] = [
        (f"parameter {n!r}", p) for n, p in model.named_parameters()
    ]
    tensors += [(f"buffer {n!r}", b) for n, b in model.named_buffers()]
    return [(name, t.detach().clone()) for name, t in tensors]


def _first_differing_module(model: nn.Module, inputs: Any) -> str | None:
    """Run twice more with hooks; name the first submodule whose output differs."""
    runs: list[dict[str, torch.Tensor]] = []

    def hook(name: str) -> Callable[[Any, Any, Any], None]:
        def record(module: Any, args: Any, output: Any) -> None:
            for _, tensor in iter_tensors(output):
                runs[-1].setdefault(name, tensor.detach().clone())
                return

        return record

    handles = [
        module.register_forward_hook(hook(f"{name!r} ({type(module).__name__})"))
        for name, module in model.named_modules()
        if name
    ]
    try:
        for _ in range(2):
            runs.append({})
            eval_forward(model, inputs)
    finally:
        for handle in handles:
            handle.remove()
    for name, first in runs[0].items():  # in call order
        second = runs[1].get(name)
        if second is not None and mismatch(first, second):
            return name
    return None


@check
def assert_eval_mode(model: nn.Module, inputs: Any) -> None:
    """Assert that after ``model.eval()`` the model behaves as in inference.

    On a deep copy: ``eval()`` must leave no submodule reporting training mode
    (a custom ``train()`` that does not pass the mode on), forward() must not
    switch any back, two forward passes without reseeding must give
    bit-identical outputs (dropout or noise still active: ``F.dropout(x,
    training=True)``, ``torch.randn`` in forward), and no parameter or buffer
    may change (BatchNorm statistics still updated: ``F.batch_norm(...,
    training=True)``). NaN compares equal to NaN.

    Fails (AssertionError) listing each submodule still training, the outputs
    that differ (and the first submodule whose output does), and each parameter
    or buffer that changed.

    Args:
        model: The module; a deep copy is put in eval mode and run without
            gradients.
        inputs: A Tensor, a tuple of Tensors (positional) or a dict (keywords).
    """
    import torch

    copy = fresh_copy(model, train=True)
    copy.eval()
    stuck = _training(copy)
    problems = [
        f"{name} still reports training=True after model.eval(): does its train() "
        "call super().train(mode)?"
        for name in stuck
    ]
    before = _state(copy)
    with torch.no_grad():
        first = list(iter_tensors(call_model(copy, inputs), "output"))
        second = list(iter_tensors(call_model(copy, inputs), "output"))
    problems += [
        f"forward() put {name} back in training mode"
        for name in _training(copy)
        if name not in stuck
    ]
    differ = False
    for (path, a), (_, b) in zip(first, second, strict=True):
        difference = mismatch(a, b)
        if difference:
            differ = True
            problems.append(
                f"two forward passes in eval mode give different {path}: {difference}"
            )
    if len(first) != len(second):
        problems.append(
            f"two forward passes gave {len(first)} vs {len(second)} outputs"
        )
    for (name, old), (_, new) in zip(before, _state(copy), strict=True):
        difference = mismatch(new, old)
        if difference:
            problems.append(
                f"{name} changed during forward() in eval mode: {difference}"
            )
    if not problems:
        return
    hint = (
        "dropout or noise that ignores self.training (F.dropout(x, training=True), "
        "torch.randn in forward), statistics updated in forward (F.batch_norm(..., "
        "training=True)), or a custom train() that does not call super().train(mode)"
    )
    if differ:
        module = _first_differing_module(copy, inputs)
        if module:
            hint = f"first module whose output differs between passes: {module}; {hint}"
    fail(problems, hint=hint)
