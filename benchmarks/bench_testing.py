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
from mlqa.testing.battery import CHECKS, NEEDS, ModelSpec
from mlqa.testing.battery_items import run_check

BATCH = 16  # --batch changes it
#: The battery keys the bench's model table gives (so their checks run).
NEEDS_GIVEN = ("output_shape", "loss_at_init")
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

VOCAB, SEQ, WIDTH = 32, 16, 32


class TinyLM(nn.Module):
    """A one-layer causal transformer, for the causal check's row."""

    def __init__(self) -> None:
        super().__init__()
        self.tok = nn.Embedding(VOCAB, WIDTH)
        self.attn = nn.MultiheadAttention(WIDTH, 2, batch_first=True)
        self.head = nn.Linear(WIDTH, VOCAB)
        mask = torch.triu(torch.ones(SEQ, SEQ, dtype=torch.bool), 1)
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        h = self.tok(tokens)
        h = h + self.attn(h, h, h, attn_mask=self.mask, need_weights=False)[0]
        return self.head(h)


def make_tokens() -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    return torch.randint(0, VOCAB, (BATCH, SEQ), generator=gen)


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
        lr = 1e-2  # noqa: MLQ104
        return bare_train_steps(copy.deepcopy(model), x, y, n_overfit, lr)

    def bare_independent() -> object:
        model.eval()
        xg = x.detach().clone().requires_grad_(True)
        out = model(xg)
        for i in range(BATCH):
            torch.autograd.grad(out[i].sum(), xg, retain_graph=i < BATCH - 1)
        # v2: the value test (one sample changed) and a batch of one
        with torch.no_grad():
            changed = x.clone()
            changed[0] = x[1] + 0.5
            moved = model(changed)[1:] != out[1:]
            alone = model(x[:1]) != out[:1]
        model.train()
        return moved, alone

    def bare_deterministic() -> object:
        runs = []
        for _ in range(2):  # noqa: MLQ103
            torch.manual_seed(0)
            steps, lr = 3, 1e-3
            runs.append(bare_train_steps(copy.deepcopy(model), x, y, steps, lr))
        return runs

    def bare_parity() -> object:
        outs = []
        for _ in range(2):  # noqa: MLQ103
            model.zero_grad(set_to_none=True)
            out = model(x)
            out.sum().backward()
            outs.append(out)
        return outs

    rows = {
        "output_shape": (
            lambda: testing.assert_output_shape(
                model, x, ("B", CLASSES), batch_sizes=()
            ),
            bare_shape,
        ),
        "finite": (
            lambda: testing.assert_finite(model, batch, LOSS, edge_cases=False),
            bare_finite,
        ),
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
    rows.update(v2_pairs(model, x, y))
    return rows


def v2_pairs(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor
) -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    """(mlqa check, bare steps) for the v2 checks and the v2 parts of older ones."""
    import io

    batch = (x, y)
    lm = TinyLM()
    tokens = make_tokens()

    def bare_shape_sizes() -> object:
        model.eval()
        with torch.no_grad():
            shapes = [model(x[:n]).shape for n in (BATCH, 1, 2)]
        model.train()
        return shapes

    def bare_finite_edges() -> object:
        model.zero_grad(set_to_none=True)
        out = model(x)
        LOSS(out, y).backward()
        model.eval()
        flat = x.reshape(BATCH, -1)
        with torch.no_grad():
            for variant in (
                torch.zeros_like(x),
                flat.mean(1, keepdim=True).expand_as(flat).reshape(x.shape),
                x * 1e4,
                x[:1],
            ):
                torch.isfinite(model(variant)).all()
        model.train()
        return out

    def bare_eval_mode() -> object:
        model.eval()
        before = [t.clone() for t in model.state_dict().values()]
        with torch.no_grad():
            same = torch.equal(model(x), model(x))
        after = list(model.state_dict().values())
        unchanged = all(torch.equal(a, b) for a, b in zip(before, after, strict=True))
        model.train()
        return same, unchanged

    def bare_dtype() -> object:
        model.zero_grad(set_to_none=True)
        out = model(x)
        out.backward(torch.ones_like(out))
        return out

    def bare_causal() -> object:
        lm.eval()
        with torch.no_grad():
            base = lm(tokens)
            for t in range(1, SEQ):
                changed = tokens.clone()
                changed[:, t] = torch.where(changed[:, t] != VOCAB - 1, VOCAB - 1, 0)
                bool((lm(changed)[:, :t] != base[:, :t]).any())
        lm.train()
        return base

    def bare_checkpoint() -> object:
        torch.manual_seed(0)
        saved = make_model()
        with torch.no_grad():
            saved(x)
        buffer = io.BytesIO()
        torch.save(saved.state_dict(), buffer)
        buffer.seek(0)
        torch.manual_seed(1)
        fresh = make_model()
        fresh.load_state_dict(torch.load(buffer, weights_only=True), strict=True)
        saved.eval()
        fresh.eval()
        with torch.no_grad():
            return torch.equal(saved(x), fresh(x))

    def bare_shared() -> object:
        ids: dict[int, list[str]] = {}
        for name, p in model.named_parameters(remove_duplicate=False):
            ids.setdefault(id(p), []).append(name)
        return [n for n in ids.values() if len(n) > 1]

    return {
        "output_shape (+batch 1, 2)": (
            lambda: testing.assert_output_shape(
                model, x, ("B", CLASSES), dtype=torch.float32
            ),
            bare_shape_sizes,
        ),
        "finite (+4 edge cases)": (
            lambda: testing.assert_finite(model, batch, LOSS),
            bare_finite_edges,
        ),
        "params_update (frozen=[])": (
            lambda: testing.assert_params_update(model, batch, LOSS, frozen=[]),
            pairs_update(model, x, y),
        ),
        "eval_mode": (lambda: testing.assert_eval_mode(model, x), bare_eval_mode),
        "dtype_consistent": (
            lambda: testing.assert_dtype_consistent(model, x),
            bare_dtype,
        ),
        f"causal (TinyLM, T={SEQ})": (
            lambda: testing.assert_causal(lm, tokens),
            bare_causal,
        ),
        "checkpoint_roundtrip": (
            lambda: testing.assert_checkpoint_roundtrip(make_model, x),
            bare_checkpoint,
        ),
        "no_shared_params": (
            lambda: testing.assert_no_shared_params(model),
            bare_shared,
        ),
    }


def pairs_update(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor
) -> Callable[[], object]:
    trained = copy.deepcopy(model)

    def bare_update() -> object:
        opt = torch.optim.Adam(trained.parameters(), lr=1e-3)  # noqa: MLQ101
        opt.zero_grad(set_to_none=True)
        LOSS(trained(x), y).backward()
        opt.step()
        return opt

    return bare_update


#: The clock timed() reads; --clock cpu (process CPU time) is steadier on a loaded machine.
CLOCK = time.perf_counter


def timed(func: Callable[[], object]) -> float:
    start = CLOCK()
    func()
    return CLOCK() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
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

    # the default battery: every check but those that need a key not given here
    default = tuple(c for c in CHECKS if NEEDS.get(c) in (None, *NEEDS_GIVEN))
    spec = ModelSpec(
        name="cnn",
        factory=make_model,
        batch=make_batch,
        loss=LOSS,
        checks=default,
        output_shape=("B", CLASSES),
        loss_at_init=(math.log(CLASSES), None),
    )
    totals = []
    for _ in range(5):
        start = CLOCK()
        for check in default:
            if check == "device_parity":
                run_check(spec, check, device="cpu")
            else:
                run_check(spec, check)
        totals.append(CLOCK() - start)
    print(
        f"whole battery ({len(default)} checks, fresh model each): median {statistics.median(totals):.2f} s over 5 runs"
    )


if __name__ == "__main__":
    main()
