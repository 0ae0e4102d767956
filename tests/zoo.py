"""A zoo of tiny buggy classifiers: each bug is caught by exactly one mlqa check.

Every model maps 8 features to 10 class logits. ``ZOO`` maps a factory name to
the one check that must fail for it (None: the correct model passes them all).
The module is also copied into pytester projects, so it imports only torch/numpy.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

FEATURES = 8
CLASSES = 10
BATCH = 8


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed small batch: 8 samples, 8 features, labels in 0..9."""
    gen = torch.Generator().manual_seed(1234)
    inputs = torch.randn(BATCH, FEATURES, generator=gen)
    targets = torch.randint(0, CLASSES, (BATCH,), generator=gen)
    return inputs, targets


def loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(outputs, targets)


class MLP(nn.Module):
    """The correct model: small last layer, so the loss at init is about log(10)."""

    def __init__(self, out_features: int = CLASSES, hidden: int = 32) -> None:
        super().__init__()
        self.hidden = nn.Linear(FEATURES, hidden)
        self.head = nn.Linear(hidden, out_features)
        with torch.no_grad():
            self.head.weight.mul_(0.1)
            self.head.bias.zero_()

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.hidden(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class DeadParameter(MLP):
    """A projection that is created but never used in forward()."""

    def __init__(self) -> None:
        super().__init__()
        self.unused_proj = nn.Linear(32, 32)


class BatchMixingNorm(MLP):
    """A hand-rolled normalisation over dim 0 (the batch) instead of the features."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)
        h = (h - h.mean(dim=0)) / (h.std(dim=0) + 1e-5)
        return self.head(h)


class SquashedLogits(MLP):
    """Logits squashed into [-0.1, 0.1]: calibrated at init, but cannot fit anything."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.1 * torch.tanh(super().forward(x))


class HotInit(MLP):
    """A last layer initialised far too large: confidently wrong at init."""

    def __init__(self) -> None:
        super().__init__()
        with torch.no_grad():
            self.head.weight.mul_(300.0)


class UnseededNoise(MLP):
    """Training-time noise from a NumPy generator nobody seeds."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)
        if self.training:
            noise = np.random.default_rng().normal(0.0, 0.01, size=tuple(h.shape))
            h = h + torch.from_numpy(noise).to(h.dtype)
        return self.head(h)


class NaNWhere(MLP):
    """The torch.where trap: the unused branch is log(0), so its gradient is NaN."""

    def __init__(self) -> None:
        super().__init__()
        self.temperature = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.temperature
        log_t = torch.where(t > 0, torch.log(t), torch.zeros_like(t))
        return super().forward(x) * torch.exp(log_t)


class WrongShape(MLP):
    """Configured with 11 classes instead of 10: the loss still runs."""

    def __init__(self) -> None:
        super().__init__(out_features=CLASSES + 1)


def make_good() -> nn.Module:
    return MLP()


def make_dead_parameter() -> nn.Module:
    return DeadParameter()


def make_batch_mixing_norm() -> nn.Module:
    return BatchMixingNorm()


def make_squashed_logits() -> nn.Module:
    return SquashedLogits()


def make_hot_init() -> nn.Module:
    return HotInit()


def make_unseeded_noise() -> nn.Module:
    return UnseededNoise()


def make_nan_where() -> nn.Module:
    return NaNWhere()


def make_wrong_shape() -> nn.Module:
    return WrongShape()


#: factory name -> the one check that must fail (None: passes every check).
ZOO: dict[str, str | None] = {
    "make_good": None,
    "make_dead_parameter": "params_update",
    "make_batch_mixing_norm": "batch_independent",
    "make_squashed_logits": "overfit",
    "make_hot_init": "loss_at_init",
    "make_unseeded_noise": "deterministic",
    "make_nan_where": "finite",
    "make_wrong_shape": "output_shape",
}
