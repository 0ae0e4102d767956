"""Checks that take training steps: finite values, parameters that move, a batch that can be fit."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from mlqa.testing._core import (
    call_model,
    check,
    compute_loss,
    describe,
    fail,
    fresh_copy,
    iter_tensors,
    make_optimizer,
    sparkline,
    unpack_batch,
)

if TYPE_CHECKING:
    import torch
    from torch import nn

LossFn = Callable[[Any, Any], "torch.Tensor"]
OptimizerFactory = Callable[[Iterable["torch.nn.Parameter"]], "torch.optim.Optimizer"]

#: Adam's learning rate for assert_params_update when no optimizer_factory is given.
UPDATE_LR = 1e-3
#: Adam's learning rate for assert_overfits_batch when no optimizer_factory is given.
OVERFIT_LR = 1e-2
#: Defaults of assert_overfits_batch: the most steps, and the target as a
#: fraction of the starting loss (see benchmarks/eval_overfit.py).
OVERFIT_MAX_STEPS = 300
OVERFIT_TARGET_RATIO = 0.3


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
        model: The module (already a copy).
        inputs: Its inputs.

    Returns:
        ``"'encoder.2' (ReLU)"`` or None when every module output is finite.
    """
    import torch

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
        with torch.no_grad():
            call_model(model, inputs)
    finally:
        for handle in handles:
            handle.remove()
    return found[0] if found else None


@check
def assert_finite(model: nn.Module, batch: Any, loss_fn: LossFn) -> None:
    """Assert outputs, loss and every gradient of one training step are finite.

    Fails (AssertionError) listing every non-finite output, the loss, and each
    parameter with a non-finite gradient (the first offending one first), with
    the first submodule whose output is not finite.

    Args:
        model: The module; a deep copy is run in training mode.
        batch: ``(inputs, targets)``.
        loss_fn: ``loss_fn(outputs, targets)`` returning a scalar.
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
    if floats and bool(
        torch.stack(
            [t.abs().amax().double() for t in floats if t.numel()]
            or [loss.new_zeros((), dtype=torch.float64)]
        )
        .isfinite()
        .all()
    ):
        return
    problems = []
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
    if problems:
        hints = []
        if first_param:
            hints.append(f"first offending parameter: {first_param!r}")
        module = first_nonfinite_module(fresh_copy(model), inputs)
        if module:
            hints.append(f"first module with a non-finite output: {module}")
        hints.append(
            "look for log/sqrt/div of values that can be <= 0, exp overflow, and "
            "torch.where branches whose unused side is NaN (its gradient still is)"
        )
        fail(problems, hint="; ".join(hints))


@check
def assert_params_update(
    model: nn.Module,
    batch: Any,
    loss_fn: LossFn,
    *,
    optimizer_factory: OptimizerFactory | None = None,
) -> None:
    """Assert one optimizer step changes every trainable parameter and no frozen one.

    Fails (AssertionError) naming every trainable parameter that did not
    change (and why: no gradient, zero gradient) and every frozen one that did.

    Args:
        model: The module; a deep copy is trained.
        batch: ``(inputs, targets)``.
        loss_fn: ``loss_fn(outputs, targets)`` returning a scalar.
        optimizer_factory: ``optimizer_factory(params)``; Adam(lr=1e-3) if None.
    """
    import torch

    inputs, targets = unpack_batch(batch)
    copy = fresh_copy(model)
    params = dict(copy.named_parameters())
    if not params:
        fail("the model has no parameters")
    before = {name: param.detach().clone() for name, param in params.items()}
    optimizer = make_optimizer(optimizer_factory, copy, UPDATE_LR)
    optimizer.zero_grad(set_to_none=True)
    loss = compute_loss(loss_fn, call_model(copy, inputs), targets)
    if not loss.requires_grad:
        fail(
            "the loss does not require grad: nothing in it depends on a trainable parameter"
        )
    torch.autograd.backward(loss)
    optimizer.step()
    problems = []
    for name, param in params.items():
        changed = not torch.equal(before[name], param.detach())
        if param.requires_grad and not changed:
            if param.grad is None:
                why = "it received no gradient (unused in forward(), or detached from the loss)"
            elif not bool(param.grad.any()):
                why = "its gradient is all zeros (multiplied by zero, or a dead ReLU/mask)"
            else:
                why = "it has a gradient but the optimizer did not move it (not given to the optimizer? learning rate 0?)"
            problems.append(
                f"trainable parameter {name!r} ({describe(param)}) did not change: {why}"
            )
        elif not param.requires_grad and changed:
            problems.append(
                f"frozen parameter {name!r} (requires_grad=False) changed: it is modified in "
                "forward() or by the optimizer (weight decay on a frozen parameter?)"
            )
    if problems:
        fail(problems)


def overfit_target(
    start: float, target_loss: float | None, target_ratio: float
) -> float:
    """Return the loss assert_overfits_batch must reach.

    Args:
        start: The loss before the first step.
        target_loss: An absolute target, or None.
        target_ratio: Otherwise, the fraction of ``start`` to reach: the loss
            must fall by ``(1 - target_ratio) * |start|``.

    Returns:
        The target.
    """
    if target_loss is not None:
        return target_loss
    return start - (1.0 - target_ratio) * abs(start)


@check
def assert_overfits_batch(
    model: nn.Module,
    batch: Any,
    loss_fn: LossFn,
    *,
    max_steps: int = OVERFIT_MAX_STEPS,
    target_loss: float | None = None,
    target_ratio: float = OVERFIT_TARGET_RATIO,
    optimizer_factory: OptimizerFactory | None = None,
) -> None:
    """Assert the model can drive the loss on one batch well below where it started.

    The target is ``target_ratio`` times the starting loss (by default 0.3: the
    loss must fall by 70%), or ``target_loss`` when given. Training stops as
    soon as the target is met, so a healthy model costs only the steps it needs.

    Fails (AssertionError) with the loss curve (start, best, end and a
    sparkline) when the target is not reached or the loss stops being finite.

    Args:
        model: The module; a deep copy is trained in training mode.
        batch: ``(inputs, targets)``; keep it small (a few samples).
        loss_fn: ``loss_fn(outputs, targets)`` returning a scalar.
        max_steps: The most optimizer steps to take.
        target_loss: An absolute loss to reach instead of the relative target.
        target_ratio: The fraction of the starting loss to reach, in [0, 1).
        optimizer_factory: ``optimizer_factory(params)``; Adam(lr=1e-2) if None.

    Raises:
        ValueError: If ``max_steps`` is not a positive integer or
            ``target_ratio`` is not in [0, 1).
    """
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"max_steps={max_steps!r} must be a positive integer")
    if not 0.0 <= target_ratio < 1.0:
        raise ValueError(f"target_ratio={target_ratio!r} must be in [0, 1)")
    import torch

    inputs, targets = unpack_batch(batch)
    copy = fresh_copy(model)
    optimizer = make_optimizer(optimizer_factory, copy, OVERFIT_LR)
    curve: list[float] = []
    target = math.nan
    for _ in range(max_steps):
        optimizer.zero_grad(set_to_none=True)
        loss = compute_loss(loss_fn, call_model(copy, inputs), targets)
        value = float(loss.detach())
        if not curve:
            target = overfit_target(value, target_loss, target_ratio)
        curve.append(value)
        if value <= target or not math.isfinite(value):
            break
        torch.autograd.backward(loss)
        optimizer.step()
    end = curve[-1]
    if end <= target:
        return
    best = min(
        range(len(curve)),
        key=lambda i: curve[i] if math.isfinite(curve[i]) else math.inf,
    )
    goal = (
        f"target_loss={target:g}"
        if target_loss is not None
        else f"{target:.4g} (target_ratio={target_ratio:g} of the starting loss)"
    )
    if not math.isfinite(end):
        headline = f"loss became {end} at step {len(curve) - 1} before reaching {goal}"
    else:
        headline = f"loss did not reach {goal} in max_steps={max_steps}"
    fail(
        [
            f"{headline}\n"
            f"start {curve[0]:.4g}, best {curve[best]:.4g} (step {best}), end {end:.4g}\n"
            f"curve {sparkline(curve)}"
        ],
        hint="a model that cannot memorise one small batch has a bug: check the output "
        "activation (bounded or softmaxed logits before the loss), the targets, "
        "frozen or detached layers, the learning rate. A loss with a floor above "
        "the target (label smoothing, a regularisation term) needs target_loss",
    )
