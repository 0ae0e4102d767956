"""Checks that take training steps: parameters that move, a batch that can be fit.

``assert_finite`` lives in :mod:`mlqa.testing.finite` (re-exported here).
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from mlqa.testing._core import (
    call_model,
    check,
    compute_loss,
    describe,
    fail,
    fresh_copy,
    make_optimizer,
    sparkline,
    unpack_batch,
)
from mlqa.testing.finite import assert_finite as assert_finite

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


def _declared_frozen(
    params: dict[str, torch.nn.Parameter], frozen: Sequence[str] | None
) -> dict[str, str] | None:
    """Map each parameter a ``frozen`` pattern matches to that pattern."""
    if frozen is None:
        return None
    if isinstance(frozen, str):
        raise ValueError(f"frozen={frozen!r} must be a list of name patterns")
    declared: dict[str, str] = {}
    for pattern in frozen:
        found = [
            name
            for name in params
            if fnmatch.fnmatchcase(name, pattern) or name.startswith(f"{pattern}.")
        ]
        if not found:
            raise ValueError(f"frozen pattern {pattern!r} matches no parameter")
        for name in found:
            declared.setdefault(name, pattern)
    return declared


def _frozen_problem(
    name: str, param: torch.nn.Parameter, pattern: str | None, changed: bool
) -> str:
    if pattern is None:
        return (
            f"parameter {name!r} ({describe(param)}) has requires_grad=False but is "
            "not declared in frozen=: frozen by mistake (a leftover requires_grad_(False) "
            "or a freeze loop over the wrong module)? Declare it if it is meant to be"
        )
    moved = "; one step changed it" if changed else ""
    return (
        f"parameter {name!r} is declared frozen (pattern {pattern!r}) but has "
        f"requires_grad=True{moved}: freeze it with requires_grad_(False)"
    )


@check
def assert_params_update(
    model: nn.Module,
    batch: Any,
    loss_fn: LossFn,
    *,
    optimizer_factory: OptimizerFactory | None = None,
    frozen: Sequence[str] | None = None,
) -> None:
    """Assert one optimizer step changes every trainable parameter and no frozen one.

    With ``frozen`` (even ``[]``) the frozen parameters are declared: a
    parameter with ``requires_grad=False`` that no pattern matches is frozen by
    mistake, and one that a pattern matches must have ``requires_grad=False``
    and stay unchanged. A pattern matches a parameter name as a glob
    (``"encoder.*"``) or as a module prefix (``"encoder"``).

    Fails (AssertionError) naming every trainable parameter that did not
    change (and why: no gradient, zero gradient), every frozen one that did,
    and with ``frozen`` every undeclared frozen and declared trainable one.

    Args:
        model: The module; a deep copy is trained.
        batch: ``(inputs, targets)``.
        loss_fn: ``loss_fn(outputs, targets)`` returning a scalar.
        optimizer_factory: ``optimizer_factory(params)``; Adam(lr=1e-3) if None.
        frozen: Name patterns of the parameters meant to be frozen; None to not
            check which parameters are frozen.

    Raises:
        ValueError: If a ``frozen`` pattern matches no parameter.
    """
    import torch

    inputs, targets = unpack_batch(batch)
    copy = fresh_copy(model)
    params = dict(copy.named_parameters())
    if not params:
        fail("the model has no parameters")
    declared = _declared_frozen(params, frozen)
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
        if declared is not None and (name in declared) == param.requires_grad:
            problems.append(_frozen_problem(name, param, declared.get(name), changed))
        elif param.requires_grad and not changed:
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
