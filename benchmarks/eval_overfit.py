"""Does ``assert_overfits_batch`` pass, with its defaults, on correct models?

A check that fails a correct model is a false alarm: this script runs the
overfit check with default settings on a set of small, correct architectures
(and on a few models with a real bug it must catch) and prints one row each:
pass/fail, steps taken, start and end loss, wall time.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/eval_overfit.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from mlqa.testing import assert_overfits_batch, seed_everything

Case = tuple[Callable[[], nn.Module], Callable[[], tuple[Any, Any]], Callable[..., Any]]


def _gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def vectors(n: int = 16, d: int = 20, classes: int = 10) -> tuple[Any, Any]:
    g = _gen()
    return torch.randn(n, d, generator=g), torch.randint(0, classes, (n,), generator=g)


def images(n: int = 16, c: int = 3, side: int = 16) -> tuple[Any, Any]:
    g = _gen()
    return torch.randn(n, c, side, side, generator=g), torch.randint(
        0, 10, (n,), generator=g
    )


def tokens(n: int = 8, length: int = 16, vocab: int = 50) -> tuple[Any, Any]:
    g = _gen()
    seq = torch.randint(0, vocab, (n, length + 1), generator=g)
    return seq[:, :-1], seq[:, 1:]


def token_classes(n: int = 16, length: int = 12, vocab: int = 50) -> tuple[Any, Any]:
    g = _gen()
    return torch.randint(0, vocab, (n, length), generator=g), torch.randint(
        0, 5, (n,), generator=g
    )


def series(n: int = 16, length: int = 10, d: int = 6) -> tuple[Any, Any]:
    g = _gen()
    return torch.randn(n, length, d, generator=g), torch.randint(
        0, 4, (n, length), generator=g
    )


def regression(n: int = 16, d: int = 12) -> tuple[Any, Any]:
    g = _gen()
    return torch.randn(n, d, generator=g), torch.randn(n, 3, generator=g)


def autoencoding(n: int = 16, d: int = 24) -> tuple[Any, Any]:
    x = torch.randn(n, d, generator=_gen())
    return x, x


def binary(n: int = 16, d: int = 20) -> tuple[Any, Any]:
    g = _gen()
    return (
        torch.randn(n, d, generator=g),
        torch.randint(0, 2, (n, 1), generator=g).float(),
    )


def lm_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten())


# -- correct models ------------------------------------------------------------------


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 10))


def deep_mlp_layernorm() -> nn.Module:
    layers: list[nn.Module] = [nn.Linear(20, 32)]
    for _ in range(6):
        layers += [nn.LayerNorm(32), nn.GELU(), nn.Linear(32, 32)]
    return nn.Sequential(*layers, nn.Linear(32, 10))


def cnn_batchnorm() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(32, 10),
    )


def cnn_dropout() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.3),  # noqa: MLQ102 - a fixed architecture under test
        nn.Linear(16 * 8 * 8, 10),
    )


class ResBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c, c, 3, padding=1, bias=False),
            nn.BatchNorm2d(c),
            nn.ReLU(),
            nn.Conv2d(c, c, 3, padding=1, bias=False),
            nn.BatchNorm2d(c),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.body(x))


def resnet() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        ResBlock(16),
        ResBlock(16),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 10),
    )


class CausalLM(nn.Module):
    def __init__(self, vocab: int = 50, d: int = 32, length: int = 16) -> None:
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.zeros(length, d))
        layer = nn.TransformerEncoderLayer(
            d,
            4,
            64,
            dropout=0.1,  # noqa: MLQ101 - a fixed architecture under test
            batch_first=True,
        )
        self.body = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        t = ids.shape[1]
        mask = nn.Transformer.generate_square_subsequent_mask(t)
        h = self.body(self.tok(ids) + self.pos[:t], mask=mask, is_causal=True)
        return self.head(self.norm(h))


class TransformerClassifier(nn.Module):
    def __init__(self, vocab: int = 50, d: int = 32) -> None:
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        layer = nn.TransformerEncoderLayer(
            d,
            4,
            64,
            dropout=0.1,  # noqa: MLQ101 - a fixed architecture under test
            batch_first=True,
        )
        self.body = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
        self.head = nn.Linear(d, 5)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(self.tok(ids)).mean(dim=1))


class LSTMClassifier(nn.Module):
    def __init__(self, vocab: int = 50) -> None:
        super().__init__()
        self.tok = nn.Embedding(vocab, 16)
        self.rnn = nn.LSTM(16, 32, batch_first=True)
        self.head = nn.Linear(32, 5)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.rnn(self.tok(ids))
        return self.head(h[-1])


class GRUTagger(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.GRU(6, 32, batch_first=True, bidirectional=True)
        self.head = nn.Linear(64, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0])


def mlp_regression() -> nn.Module:
    return nn.Sequential(nn.Linear(12, 64), nn.Tanh(), nn.Linear(64, 3))


def autoencoder() -> nn.Module:
    return nn.Sequential(
        nn.Linear(24, 16),
        nn.ReLU(),
        nn.Linear(16, 8),
        nn.ReLU(),
        nn.Linear(8, 16),
        nn.ReLU(),
        nn.Linear(16, 24),
    )


class BagOfEmbeddings(nn.Module):
    def __init__(self, vocab: int = 50) -> None:
        super().__init__()
        self.bag = nn.EmbeddingBag(vocab, 32, mode="mean")
        self.head = nn.Linear(32, 5)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.bag(ids))


def conv1d_groupnorm() -> nn.Module:
    return nn.Sequential(
        nn.Conv1d(10, 16, 3, padding=1),
        nn.GroupNorm(4, 16),
        nn.SiLU(),
        nn.Conv1d(16, 16, 3, padding=1),
        nn.GroupNorm(4, 16),
        nn.SiLU(),
        nn.AdaptiveMaxPool1d(1),
        nn.Flatten(),
        nn.Linear(16, 4),
    )


class SeriesToChannels(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = conv1d_groupnorm()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.transpose(1, 2))


def series_classes(n: int = 16) -> tuple[Any, Any]:
    g = _gen()
    return torch.randn(n, 20, 10, generator=g), torch.randint(0, 4, (n,), generator=g)


def binary_mlp() -> nn.Module:
    return nn.Sequential(
        nn.Linear(20, 32),
        nn.ReLU(),
        nn.Dropout(0.1),  # noqa: MLQ102 - a fixed architecture under test
        nn.Linear(32, 1),
    )


def tiny_batch_cnn_batchnorm() -> tuple[Any, Any]:
    return images(n=4)


def digits() -> tuple[Any, Any]:
    return images(n=64, c=1, side=28)


def lenet_batchnorm() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 32),
        nn.ReLU(),
        nn.Linear(32, 10),
    )


def mlp_dropout_half() -> nn.Module:
    return nn.Sequential(
        nn.Linear(20, 128),
        nn.ReLU(),
        nn.Dropout(0.5),  # noqa: MLQ102 - a fixed architecture under test
        nn.Linear(128, 10),
    )


def smoothed(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(
        outputs,
        targets,
        label_smoothing=0.1,  # noqa: MLQ101 - a fixed architecture under test
    )


# -- models with a bug overfit must catch ---------------------------------------------


class Squashed(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = mlp()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.1 * torch.tanh(self.net(x))


class DoubleSoftmax(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = mlp()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(x), dim=-1)  # cross_entropy softmaxes again


class ConstantOutput(nn.Module):
    """The input is multiplied by a zero mask: the output ignores the sample."""

    def __init__(self) -> None:
        super().__init__()
        self.net = mlp()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 0.0)


ce = F.cross_entropy
CORRECT: dict[str, Case] = {
    "MLP": (mlp, vectors, ce),
    "deep MLP + LayerNorm": (deep_mlp_layernorm, vectors, ce),
    "CNN + BatchNorm": (cnn_batchnorm, images, ce),
    "CNN + BatchNorm, batch 4": (cnn_batchnorm, tiny_batch_cnn_batchnorm, ce),
    "CNN + Dropout": (cnn_dropout, images, ce),
    "ResNet (2 blocks)": (resnet, images, ce),
    "causal transformer LM": (CausalLM, tokens, lm_loss),
    "transformer classifier": (TransformerClassifier, token_classes, ce),
    "LSTM classifier": (LSTMClassifier, token_classes, ce),
    "BiGRU tagger": (GRUTagger, series, lambda o, t: ce(o.flatten(0, 1), t.flatten())),
    "MLP regression (MSE)": (mlp_regression, regression, F.mse_loss),
    "autoencoder (MSE)": (autoencoder, autoencoding, F.mse_loss),
    "EmbeddingBag classifier": (BagOfEmbeddings, token_classes, ce),
    "Conv1d + GroupNorm": (SeriesToChannels, series_classes, ce),
    "LeNet + BatchNorm, batch 64": (lenet_batchnorm, digits, ce),
    "MLP + Dropout 0.5": (mlp_dropout_half, vectors, ce),
    "MLP, label smoothing 0.1": (mlp, vectors, smoothed),
    "binary MLP + Dropout (BCE)": (
        binary_mlp,
        binary,
        F.binary_cross_entropy_with_logits,
    ),
}
BUGGY: dict[str, Case] = {
    "squashed logits (0.1*tanh)": (Squashed, vectors, ce),
    "softmax before cross_entropy": (DoubleSoftmax, vectors, ce),
    "input multiplied by zero": (ConstantOutput, vectors, ce),
}


def run(case: Case, seed: int, options: dict[str, Any]) -> tuple[bool, float, str]:
    factory, batch, loss = case
    seed_everything(seed)
    model, data = factory(), batch()
    start = time.perf_counter()
    try:
        assert_overfits_batch(model, data, loss, **options)
    except AssertionError as exc:
        lines = str(exc).splitlines()
        detail = next(
            (line.strip() for line in lines if line.strip().startswith("start ")),
            lines[0],
        )
        return False, time.perf_counter() - start, detail
    return True, time.perf_counter() - start, ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per model")
    parser.add_argument("--max-steps", type=int, help="override max_steps")
    parser.add_argument("--target-ratio", type=float, help="override target_ratio")
    parser.add_argument(
        "--target-loss", type=float, help="an absolute target (0.01: the old default)"
    )
    args = parser.parse_args()
    options: dict[str, Any] = {}
    if args.max_steps:
        options["max_steps"] = args.max_steps
    if args.target_ratio is not None:
        options["target_ratio"] = args.target_ratio
    if args.target_loss is not None:
        options["target_loss"] = args.target_loss
    torch.set_num_threads(1)
    run(CORRECT["MLP"], 0, {"max_steps": 2})  # warm-up: lazy imports, allocator
    print(
        f"assert_overfits_batch({', '.join(f'{k}={v}' for k, v in options.items()) or 'defaults'}), "
        f"seeds 0..{args.seeds - 1}, torch {torch.__version__}, 1 thread"
    )
    print(f"{'model':30} {'kind':8} {'passed':>7} {'max s':>7}  note")
    alarms = misses = 0
    total = 0.0
    for kind, cases in (("correct", CORRECT), ("buggy", BUGGY)):
        for name, case in cases.items():
            results = [run(case, seed, options) for seed in range(args.seeds)]
            passed = sum(ok for ok, _, _ in results)
            slowest = max(t for _, t, _ in results)
            total += sum(t for _, t, _ in results)
            failures = [detail for ok, _, detail in results if not ok]
            if kind == "correct":
                alarms += args.seeds - passed
            else:
                misses += passed
            note = failures[0] if failures else ""
            print(
                f"{name:30} {kind:8} {passed:>3}/{args.seeds:<3} {slowest:7.2f}  {note}"
            )
    print(
        f"false alarms: {alarms} of {len(CORRECT) * args.seeds} correct runs; "
        f"missed bugs: {misses} of {len(BUGGY) * args.seeds} buggy runs; total {total:.1f} s"
    )
    return 1 if alarms or misses else 0


if __name__ == "__main__":
    raise SystemExit(main())
