"""``assert_finite``: no NaN or inf in a training step, nor on edge-case inputs."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mlqa.testing._core import (
    batch_size,
    call_model,
    check,
    compute_loss,
    crash,
    describe,
    eval_forward,
    fail,
    fresh_copy,
    iter_tensors,
    map_tensors,
    slice_batch,
    unpack_batch,
)

if TYPE_CHECKING:
    import torch
    from torch import nn

#: Floating inputs are multiplied by this for the large-magnitude edge case.
LARGE_SCALE = 1e4
#: The factor for float16 inputs, whose range ends at 65504.
LARGE_SCALE_FLOAT16 = 1e2


def nonfinite_summary(tensor: torch.Tensor) -> str | None:
    """Describe the NaN/inf values of a tensor, or None when it is all finite.

    Args:
        tensor: Any tensor; non-floating tensors are always finite.

    Returns:
        ``"3 NaN, 1 inf of 80 values (first at (0, 2))"`` or None.
    """
    import torch

    if not (tensor.is_floating_point() or tensor.is_complex()):
        return None
    finite = torch.isfinite(tensor)
    if bool(finite.all()):
        return None
    nan = int(torch.isnan(tensor).sum())
    inf = int((~finite).sum()) - nan
    parts = [f"{count} {kind}" for count, kind in ((nan, "NaN"), (inf, "inf")) if count]
    first = tuple(int(i) for i in (~finite).nonzero()[0].tolist())
    return f"{', '.join(parts)} of {tensor.numel()} values (first at {first})"


def first_nonfinite_module(model: nn.Module, inputs: Any) -> str | None:
    """Find the first submodule whose forward output is not finite.

    Args:
        model: The module (already a copy, in the mode wanted).
        inputs: Its inputs.

    Returns:
        ``"'encoder.2' (ReLU)"`` or None when every module output is finite.
    """
    found: list[str] = []

    def hook(name: str) -> Callable[[Any, Any, Any], None]:
        def record(module: Any, args: Any, output: Any) -> None:
            if found:
                return
            for _, tensor in iter_tensors(output):
                if nonfinite_summary(tensor):
                    found.append(f"{name!r} ({type(module).__name__})")
                    return

        return record

    handles = [
        module.register_forward_hook(hook(name))
        for name, module in model.named_modules()
        if name  # the root is reported through the outputs already
    ]
    try:
        eval_forward(model, inputs)
    finally:
        for handle in handles:
            handle.remove()
    return found[0] if found else None


def edge_case_inputs(inputs: Any) -> list[tuple[str, Any]]:
    """The edge-case variants of ``inputs`` that assert_finite runs.

    Args:
        inputs: A Tensor, tuple or dict of tensors with the batch first.

    Returns:
        ``(description, inputs)`` for all-zero inputs (token ids 0), inputs
        constant within each sample (token ids: the sample's first id),
        floating inputs scaled by 1e4 (1e2 for float16; skipped without
        floating inputs) and a batch of one (skipped when the batch is one).
        Bool tensors (masks) are kept.
    """
    import torch

    size = batch_size(inputs)
    tensors = [t for _, t in iter_tensors(inputs) if t.dtype != torch.bool]

    def zero(tensor: torch.Tensor) -> torch.Tensor:
        return tensor if tensor.dtype == torch.bool else torch.zeros_like(tensor)

    def constant(tensor: torch.Tensor) -> torch.Tensor:
        if tensor.dtype == torch.bool or tensor.ndim < 2 or tensor.shape[0] != size:
            return tensor
        flat = tensor.reshape(size, -1)
        if tensor.is_floating_point() or tensor.is_complex():
            value = flat.mean(dim=1, keepdim=True)
        else:
            value = flat[:, :1]
        return value.expand_as(flat).reshape(tensor.shape).clone()

    def large(tensor: torch.Tensor) -> torch.Tensor:
        if not tensor.is_floating_point():
            return tensor
        scale = LARGE_SCALE_FLOAT16 if tensor.dtype == torch.float16 else LARGE_SCALE
        return tensor * scale

    cases = [
        ("all-zero inputs", map_tensors(inputs, zero)),
        ("inputs constant within each sample", map_tensors(inputs, constant)),
    ]
    if any(t.is_floating_point() for t in tensors):
        cases.append((f"inputs scaled by {LARGE_SCALE:g}", map_tensors(inputs, large)))
    if size > 1:
        cases.append(("a batch of one (inputs[:1])", slice_batch(inputs, size, 1)))
    return cases


def _edge_problems(model: nn.Module, inputs: Any) -> tuple[list[str], str | None]:
    import torch

    copy = fresh_copy(model, train=False)
    problems = []
    module = None
    for label, variant in edge_case_inputs(inputs):
        try:
            outputs = eval_forward(copy, variant)
        except Exception as exc:  # noqa: BLE001 - a crash on an edge case is a finding
            problems.append(f"with {label} (eval mode), forward() raised {crash(exc)}")
            continue
        tensors = [t for _, t in iter_tensors(outputs) if t.is_floating_point()]
        if not tensors or bool(
            torch.stack(
                [t.abs().amax().double() for t in tensors if t.numel()]
                or [torch.zeros((), dtype=torch.float64)]
            )
            .isfinite()
            .all()
        ):
            continue
        for path, tensor in iter_tensors(outputs, "output"):
            summary = nonfinite_summary(tensor)
            if summary:
                problems.append(
                    f"with {label} (eval mode), {path} ({describe(tensor)}) has {summary}"
                )
        if module is None:
            first = first_nonfinite_module(copy, variant)
            module = f"{first} with {label}" if first else None
    return problems, module


@check
def assert_finite(
    model: nn.Module,
    batch: Any,
    loss_fn: Callable[[Any, Any], torch.Tensor],
    *,
    edge_cases: bool = True,
) -> None:
    """Assert outputs, loss and every gradient of one training step are finite.

    With ``edge_cases`` the model is also run forward in eval mode (without
    gradients) on all-zero inputs, inputs constant within each sample,
    large-magnitude inputs (scaled by 1e4) and a batch of one, and every output
    must be finite: this catches a normalisation dividing by a standard deviation
    that can be 0, an ``exp`` that overflows, a variance over a batch of one.
    Integer inputs (token ids) become all-zero ids (and each sample's first id
    for the constant case); bool masks are kept.

    Fails (AssertionError) listing every non-finite output, the loss, and each
    parameter with a non-finite gradient (the first offending one first), with
    the first submodule whose output is not finite.

    Args:
        model: The module; a deep copy is run in training mode (and another in
            eval mode for the edge cases).
        batch: ``(inputs, targets)``.
        loss_fn: ``loss_fn(outputs, targets)`` returning a scalar.
        edge_cases: Also run the edge-case inputs.
    """
    import torch

    inputs, targets = unpack_batch(batch)
    copy = fresh_copy(model)
    outputs = call_model(copy, inputs)
    loss = compute_loss(loss_fn, outputs, targets)
    if loss.requires_grad:
        torch.autograd.backward(loss)
    named = list(iter_tensors(outputs, "output"))
    grads = [(n, p) for n, p in copy.named_parameters() if p.grad is not None]
    # one reduction per tensor and a single sync when all is well
    floats = [t.detach() for _, t in named if t.is_floating_point() or t.is_complex()]
    floats += [p.grad for _, p in grads if p.grad is not None]
    floats.append(loss.detach())
    problems: list[str] = []
    hints: list[str] = []
    if not bool(
        torch.stack(
            [t.abs().amax().double() for t in floats if t.numel()]
            or [loss.new_zeros((), dtype=torch.float64)]
        )
        .isfinite()
        .all()
    ):
        for path, tensor in named:
            summary = nonfinite_summary(tensor)
            if summary:
                problems.append(f"{path} ({describe(tensor)}) has {summary}")
        if not math.isfinite(float(loss.detach())):
            problems.append(f"loss is {float(loss.detach())}")
        first_param = None
        for name, param in grads:
            assert param.grad is not None
            summary = nonfinite_summary(param.grad)
            if summary:
                first_param = first_param or name
                problems.append(
                    f"gradient of parameter {name!r} ({describe(param)}) has {summary}"
                )
        if first_param:
            hints.append(f"first offending parameter: {first_param!r}")
        if problems:
            module = first_nonfinite_module(fresh_copy(model), inputs)
            if module:
                hints.append(f"first module with a non-finite output: {module}")
    if edge_cases:
        edge, module = _edge_problems(model, inputs)
        problems += edge
        if module:
            hints.append(f"first module with a non-finite output: {module}")
    if problems:
        hints.append(
            "look for log/sqrt/div of values that can be <= 0 (a std of 0 without "
            "eps), exp overflow, and torch.where branches whose unused side is NaN "
            "(its gradient still is)"
        )
        fail(problems, hint="; ".join(hints))
