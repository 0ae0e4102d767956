"""``assert_deterministic``: the same seed gives the same training run, bit for bit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
    unpack_batch,
)
from mlqa.testing._state import seed_everything
from mlqa.testing.training import UPDATE_LR, LossFn

if TYPE_CHECKING:
    import torch
    from torch import nn

#: Default number of training steps compared by assert_deterministic.
DETERMINISM_STEPS = 3


@dataclass
class _Run:
    init: list[tuple[str, torch.Tensor]] = field(default_factory=list)
    steps: list[list[tuple[str, torch.Tensor]]] = field(default_factory=list)


def same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Tell whether two tensors are bitwise identical (NaN equals the same NaN).

    Args:
        a: A tensor.
        b: Another tensor.

    Returns:
        True when shape, dtype and every bit agree.
    """
    import torch

    if a.shape != b.shape or a.dtype != b.dtype or a.device != b.device:
        return False
    if a.dtype == torch.bool or not a.numel():
        return torch.equal(a, b)
    return torch.equal(
        a.reshape(-1).contiguous().view(torch.uint8),
        b.reshape(-1).contiguous().view(torch.uint8),
    )


def _difference(a: torch.Tensor, b: torch.Tensor) -> str:
    import torch

    if a.shape != b.shape or a.dtype != b.dtype:
        return f"{describe(a)} vs {describe(b)}"
    if not (a.is_floating_point() or a.is_complex()):
        return f"{int((a != b).sum())} of {a.numel()} values differ"
    diff = (a.double() - b.double()).abs().nan_to_num(nan=float("inf"))
    index = tuple(int(i) for i in torch.unravel_index(diff.argmax(), diff.shape))
    return f"max |difference| {float(diff.max()):.3g} at {index}"


def _snapshot(model: nn.Module) -> list[tuple[str, torch.Tensor]]:
    return [
        (f"parameter {n!r}", p.detach().clone()) for n, p in model.named_parameters()
    ]


def _train(
    source: nn.Module | Callable[[], nn.Module],
    batch: Any,
    loss_fn: LossFn,
    seed: int,
    steps: int,
) -> _Run:
    import torch
    from torch import nn

    seed_everything(seed)
    run = _Run()
    if isinstance(source, nn.Module):
        model = fresh_copy(source)
    else:
        made = source()
        if not isinstance(made, nn.Module):
            fail(f"the factory returned {type(made).__name__}, expected an nn.Module")
        # a factory returning a shared module must not see it trained
        model = fresh_copy(made)
        run.init = _snapshot(model)
    model.train()
    inputs, targets = unpack_batch(batch)
    optimizer = make_optimizer(None, model, UPDATE_LR)
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        outputs = call_model(model, inputs)
        loss = compute_loss(loss_fn, outputs, targets)
        record = [
            (path, t.detach().clone()) for path, t in iter_tensors(outputs, "output")
        ]
        record.append(("loss", loss.detach().clone()))
        if loss.requires_grad:
            torch.autograd.backward(loss)
        optimizer.step()
        record.extend(
            (f"{name} after the optimizer step", t) for name, t in _snapshot(model)
        )
        run.steps.append(record)
    return run


def _diverged(
    first: list[tuple[str, torch.Tensor]], second: list[tuple[str, torch.Tensor]]
) -> list[str]:
    problems = []
    for (name, a), (_, b) in zip(first, second, strict=True):
        if not same_bits(a, b):
            problems.append(f"{name} differs: {_difference(a, b)}")
    if len(first) != len(second):
        problems.append(f"the runs recorded {len(first)} vs {len(second)} tensors")
    return problems


@check
def assert_deterministic(
    model_or_factory: nn.Module | Callable[[], nn.Module],
    batch: Any,
    loss_fn: LossFn,
    *,
    seed: int = 0,
    steps: int = DETERMINISM_STEPS,
) -> None:
    """Assert two seeded training runs give bitwise-identical outputs, losses and parameters.

    Fails (AssertionError) naming the first step (or the initialisation) that
    diverged and every tensor that differs there.

    Args:
        model_or_factory: A module (deep-copied for each run) or a zero-argument
            factory returning a fresh module, in which case initialisation is
            compared too.
        batch: ``(inputs, targets)``.
        loss_fn: ``loss_fn(outputs, targets)`` returning a scalar.
        seed: The seed given to Python, NumPy and torch before each run.
        steps: The number of Adam steps per run.

    Raises:
        ValueError: If ``steps`` is not a positive integer.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps={steps!r} must be a positive integer")
    first = _train(model_or_factory, batch, loss_fn, seed, steps)
    second = _train(model_or_factory, batch, loss_fn, seed, steps)
    problems = _diverged(first.init, second.init)
    if problems:
        fail(
            [f"initialisation: {p}" for p in problems],
            hint="initialisation draws from a generator that torch.manual_seed does not "
            "seed (np.random.default_rng(), random.SystemRandom, an unseeded torch.Generator)",
        )
    for step, (a, b) in enumerate(zip(first.steps, second.steps, strict=True)):
        problems = _diverged(a, b)
        if problems:
            fail(
                [f"step {step}: {p}" for p in problems],
                hint="forward/backward uses randomness the seed does not control (a private "
                "or time-seeded generator) or a nondeterministic kernel: try "
                "torch.use_deterministic_algorithms(True) (the mlqa_deterministic fixture)",
            )
