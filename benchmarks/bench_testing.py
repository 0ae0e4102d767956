"""Each mlqa.testing check against the bare forward/backward steps it needs.

Run: python benchmarks/bench_testing.py [--repeat N]

For a small CNN (2 conv layers, 16 MNIST-sized images) on CPU with one thread,
each check and its bare equivalent (the same forward/backward/optimizer steps
written by hand, without deep copies, state save/restore or reports) are timed
side by side, interleaved, and the medians compared. Goal: ratio <= 1.2x.
Then the whole battery (every check through ``pytest --mlqa``'s runner) is timed.
"""

from __future__ import annotations

import argparse
import copy
import math
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from mlqa import testing
from mlqa.testing.battery import CHECKS, ModelSpec, run_check

BATCH = 16  # --batch changes it
CLASSES = 10


class SmallCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.head = nn.Linear(16 * 7 * 7, CLASSES)
        with torch.no_grad():
            self.head.weight.mul_(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.head(x.flatten(1))


def make_model() -> nn.Module:
    return SmallCNN()


def set_batch(size: int) -> None:
    global BATCH
    BATCH = size


def make_batch() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(BATCH, 1, 28, 28, generator=gen)
    y = torch.randint(0, CLASSES, (BATCH,), generator=gen)
    return x, y


LOSS = F.cross_entropy


def bare_train_steps(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, lr: float
) -> list[float]:
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = LOSS(model(x), y)
        losses.append(float(loss))
        loss.backward()
        opt.step()
    return losses


def overfit_steps(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """How many steps assert_overfits_batch takes here (so the bare loop matches)."""
    steps = 0

    def counting(out: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        nonlocal steps
        steps += 1
        return LOSS(out, t)

    testing.assert_overfits_batch(model, (x, y), counting)
    return steps


def pairs(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor
) -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    """(mlqa check, bare steps) per check; the bare side trains its own copy of the model."""
    batch = (x, y)
    n_overfit = overfit_steps(model, x, y)
    trained = copy.deepcopy(model)  # the bare params_update steps move this one

    def bare_shape() -> object:
        model.eval()
        with torch.no_grad():
            out = model(x)
        model.train()
        return out.shape

    def bare_finite() -> object:
        model.zero_grad(set_to_none=True)
        out = model(x)
        loss = LOSS(out, y)
        loss.backward()
        return out

    def bare_update() -> object:
        opt = torch.optim.Adam(trained.parameters(), lr=1e-3)  # noqa: MLQ101
        opt.zero_grad(set_to_none=True)
        LOSS(trained(x), y).backward()
        opt.step()
        return opt

    def bare_init_loss() -> object:
        with torch.no_grad():
            return float(LOSS(model(x), y))

    def bare_overfit() -> object:
        # the same loop, on a fresh copy each time so every run starts untrained
        return bare_train_steps(copy.deepcopy(model), x, y, n_overfit, 1e-2)

    def bare_independent() -> object:
        model.eval()
        xg = x.detach().clone().requires_grad_(True)
        out = model(xg)
        for i in range(BATCH):
            torch.autograd.grad(out[i].sum(), xg, retain_graph=i < BATCH - 1)
        model.train()
        return out

    def bare_deterministic() -> object:
        runs = []
        for _ in range(2):
            torch.manual_seed(0)
            runs.append(bare_train_steps(copy.deepcopy(model), x, y, 3, 1e-3))
        return runs

    def bare_parity() -> object:
        outs = []
        for _ in range(2):
            model.zero_grad(set_to_none=True)
            out = model(x)
            out.sum().backward()
            outs.append(out)
        return outs

    return {
        "output_shape": (
            lambda: testing.assert_output_shape(model, x, ("B", CLASSES)),
            bare_shape,
        ),
        "finite": (lambda: testing.assert_finite(model, batch, LOSS), bare_finite),
        "params_update": (
            lambda: testing.assert_params_update(model, batch, LOSS),
            bare_update,
        ),
        "loss_at_init": (
            lambda: testing.assert_loss_at_init(model, batch, LOSS, math.log(CLASSES)),
            bare_init_loss,
        ),
        f"overfit ({n_overfit} steps)": (
            lambda: testing.assert_overfits_batch(model, batch, LOSS),
            bare_overfit,
        ),
        "batch_independent": (
            lambda: testing.assert_batch_independent(model, x),
            bare_independent,
        ),
        "deterministic (2x3 steps)": (
            lambda: testing.assert_deterministic(model, batch, LOSS),
            bare_deterministic,
        ),
        "device_parity (cpu vs cpu)": (
            lambda: testing.assert_device_parity(model, x, device="cpu"),
            bare_parity,
        ),
    }


def timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--batch", type=int, default=BATCH)
    args = parser.parse_args()
    set_batch(args.batch)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = make_model()
    x, y = make_batch()
    print(
        f"torch {torch.__version__}, 1 thread, SmallCNN on {BATCH}x1x28x28, {args.repeat} runs each, medians"
    )
    print(
        f"{'check':30} {'mlqa ms':>9} {'bare ms':>9} {'ratio':>6}"
        f" {'min mlqa':>9} {'min bare':>9} {'min ratio':>9}"
    )
    worst = worst_min = 0.0
    for name, (check, bare) in pairs(model, x, y).items():
        for _ in range(3):  # warm up
            check()
            bare()
        ours, theirs = [], []
        for _ in range(args.repeat):  # interleaved, so load changes hit both sides
            ours.append(timed(check))
            theirs.append(timed(bare))
        a, b = statistics.median(ours), statistics.median(theirs)
        lo_a, lo_b = min(ours), min(theirs)
        worst = max(worst, a / b)
        worst_min = max(worst_min, lo_a / lo_b)
        print(
            f"{name:30} {a * 1e3:9.2f} {b * 1e3:9.2f} {a / b:5.2f}x"
            f" {lo_a * 1e3:9.2f} {lo_b * 1e3:9.2f} {lo_a / lo_b:8.2f}x"
        )
    print(
        f"worst ratio: {worst:.2f}x of medians, {worst_min:.2f}x of minimums (goal <= 1.2x)"
    )

    spec = ModelSpec(
        name="cnn",
        factory=make_model,
        batch=make_batch,
        loss=LOSS,
        checks=CHECKS,
        output_shape=("B", CLASSES),
        loss_at_init=(math.log(CLASSES), None),
    )
    totals = []
    for _ in range(5):
        start = time.perf_counter()
        for check in CHECKS:
            if check == "device_parity":
                run_check(spec, check, device="cpu")
            else:
                run_check(spec, check)
        totals.append(time.perf_counter() - start)
    print(
        f"whole battery ({len(CHECKS)} checks, fresh model each): median {statistics.median(totals):.2f} s over 5 runs"
    )


if __name__ == "__main__":
    main()
