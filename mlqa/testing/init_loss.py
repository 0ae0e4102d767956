"""``assert_loss_at_init``: an untrained model is calibrated, not confidently wrong."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from mlqa.testing._core import (
    call_model,
    check,
    compute_loss,
    fail,
    fresh_copy,
    unpack_batch,
)
from mlqa.testing.training import LossFn

if TYPE_CHECKING:
    import torch
    from torch import nn

#: Default relative tolerance of assert_loss_at_init.
INIT_RTOL = 0.2

LOSS_KINDS = ("cross_entropy", "nll", "binary_cross_entropy", "mse", "l1")


def expected_loss_at_init(
    kind: str,
    *,
    num_classes: int | None = None,
    positive_rate: float | None = None,
    targets: torch.Tensor | None = None,
) -> float:
    """The loss a calibrated, untrained model gives, for the common losses.

    - ``cross_entropy`` / ``nll``: ``log(num_classes)`` (uniform predictions).
    - ``binary_cross_entropy``: the entropy of ``positive_rate`` (``log 2`` at 0.5);
      the rate is measured from ``targets`` when given.
    - ``mse``: the variance of ``targets`` (the model predicts their mean).
    - ``l1``: the mean absolute deviation of ``targets`` from their median.

    Args:
        kind: One of ``cross_entropy``, ``nll``, ``binary_cross_entropy``, ``mse``, ``l1``.
        num_classes: The number of classes, for ``cross_entropy`` and ``nll``.
        positive_rate: The fraction of positive labels, for ``binary_cross_entropy``.
        targets: The targets, for ``mse``, ``l1`` (and ``binary_cross_entropy``).

    Returns:
        The expected loss.

    Raises:
        ValueError: For an unknown kind or a missing/invalid argument.
    """
    if kind in ("cross_entropy", "nll"):
        if (
            isinstance(num_classes, bool)
            or not isinstance(num_classes, int)
            or num_classes < 2
        ):
            raise ValueError(
                f"num_classes={num_classes!r} must be an integer >= 2 for {kind}"
            )
        return math.log(num_classes)
    if kind == "binary_cross_entropy":
        if positive_rate is None and targets is not None:
            positive_rate = float(targets.float().mean())
        rate = 0.5 if positive_rate is None else positive_rate
        if not 0.0 < rate < 1.0:
            raise ValueError(f"positive_rate={rate!r} must be strictly between 0 and 1")
        return -(rate * math.log(rate) + (1 - rate) * math.log(1 - rate))
    if kind in ("mse", "l1"):
        if targets is None:
            raise ValueError(f"targets=None: {kind} needs the targets")
        values = targets.detach().double()
        if kind == "mse":
            return float(((values - values.mean()) ** 2).mean())
        return float((values - values.median()).abs().mean())
    raise ValueError(f"kind={kind!r} must be one of {', '.join(LOSS_KINDS)}")


@check
def assert_loss_at_init(
    model: nn.Module,
    batch: Any,
    loss_fn: LossFn,
    expected: float,
    *,
    rtol: float = INIT_RTOL,
) -> None:
    """Assert the untrained model's loss is close to what a calibrated model gives.

    The loss is that of the first training step (training mode, no gradient),
    e.g. ``math.log(num_classes)`` for cross-entropy; see :func:`expected_loss_at_init`.

    Fails (AssertionError) with the loss found, the expected value and the
    tolerance.

    Args:
        model: The untrained module; a deep copy is run.
        batch: ``(inputs, targets)``.
        loss_fn: ``loss_fn(outputs, targets)`` returning a scalar.
        expected: The calibrated loss.
        rtol: The relative tolerance: ``|loss - expected| <= rtol * |expected|``.

    Raises:
        ValueError: If ``rtol`` is negative or ``expected`` is not finite.
    """
    import torch

    if not rtol >= 0:
        raise ValueError(f"rtol={rtol!r} must be >= 0")
    if not math.isfinite(expected):
        raise ValueError(f"expected={expected!r} must be finite")
    inputs, targets = unpack_batch(batch)
    copy = fresh_copy(model)
    with torch.no_grad():
        loss = float(compute_loss(loss_fn, call_model(copy, inputs), targets))
    allowed = rtol * abs(expected)
    if math.isfinite(loss) and abs(loss - expected) <= allowed:
        return
    if not math.isfinite(loss) or loss > expected:
        hint = (
            "the model starts confidently wrong: scale the last layer's weights down "
            "(e.g. x0.01) and set its bias to the log class priors / the target mean"
        )
    else:
        hint = "the loss starts below chance: check for target leakage or a mis-scaled loss"
    fail(
        f"loss at init is {loss:.4g}, expected {expected:.4g} within rtol={rtol:g} "
        f"(|difference| {abs(loss - expected):.4g} > {allowed:.4g})",
        hint=hint,
    )
