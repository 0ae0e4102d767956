"""Realistic model bugs for the mlqa.testing v2 checks, and correct models that must pass.

Each entry of ``ZOO`` is a :class:`Spec`: how to build the model and a batch,
the settings a user would declare (output shape, dtype, sequence dim, frozen
and tied parameters), and the set of v2 checks that must fail for it (empty for
a correct model). A bug is caught by its intended check (listed first); a few
bugs are also, rightly, caught by a second check (a BatchNorm stuck in training
mode mixes the batch too; a squeeze that drops a batch of one changes the
output's shape). Imports only torch, so it can be copied into pytester projects.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

BATCH = 8
FEATURES = 8
CLASSES = 10
VOCAB = 16
SEQ = 8
WIDTH = 16
IMAGE = 8


def _gen() -> torch.Generator:
    return torch.Generator().manual_seed(1234)


def vector_batch() -> tuple[torch.Tensor, torch.Tensor]:
    gen = _gen()
    inputs = torch.randn(BATCH, FEATURES, generator=gen)
    return inputs, torch.randint(0, CLASSES, (BATCH,), generator=gen)


def image_batch() -> tuple[torch.Tensor, torch.Tensor]:
    gen = _gen()
    inputs = torch.randn(BATCH, 1, IMAGE, IMAGE, generator=gen)
    return inputs, torch.randint(0, CLASSES, (BATCH,), generator=gen)


def token_batch() -> tuple[torch.Tensor, torch.Tensor]:
    gen = _gen()
    tokens = torch.randint(0, VOCAB, (BATCH, SEQ + 1), generator=gen)
    return tokens[:, :-1], tokens[:, 1:]


def series_batch() -> tuple[torch.Tensor, torch.Tensor]:
    gen = _gen()
    series = torch.randn(BATCH, SEQ, FEATURES, generator=gen)
    return series, torch.randn(BATCH, SEQ, 1, generator=gen)


def classify(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(outputs, targets)


def next_token(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(outputs.reshape(-1, VOCAB), targets.reshape(-1))


def regress(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(outputs, targets)


# -- correct models -------------------------------------------------------------------


class MLP(nn.Module):
    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.hidden = nn.Linear(FEATURES, hidden)
        self.drop = nn.Dropout(0.1)
        self.head = nn.Linear(hidden, CLASSES)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(torch.relu(self.hidden(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class CNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.Linear(4 * (IMAGE // 2) ** 2, CLASSES)

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(torch.relu(self.bn(self.conv(x))), 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pooled(x).flatten(1))


class TinyTransformer(nn.Module):
    """A one-layer causal language model; the head is tied to the embedding."""

    def __init__(self, mask_diagonal: int = 1) -> None:
        super().__init__()
        self.tok = nn.Embedding(VOCAB, WIDTH)
        self.pos = nn.Parameter(torch.randn(SEQ, WIDTH) * 0.02)
        self.norm = nn.LayerNorm(WIDTH)
        self.attn = nn.MultiheadAttention(WIDTH, 2, batch_first=True)
        self.mlp = nn.Sequential(
            nn.Linear(WIDTH, 2 * WIDTH), nn.GELU(), nn.Linear(2 * WIDTH, WIDTH)
        )
        self.head = nn.Linear(WIDTH, VOCAB, bias=False)
        self.head.weight = self.tok.weight
        mask = torch.triu(torch.ones(SEQ, SEQ, dtype=torch.bool), mask_diagonal)
        self.register_buffer("mask", mask, persistent=False)  # rebuilt identically

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        length = tokens.shape[1]
        h = self.tok(tokens) + self.pos[:length]
        x = self.norm(h)
        mask = self.mask[:length, :length]
        h = h + self.attn(x, x, x, attn_mask=mask, need_weights=False)[0]
        h = h + self.mlp(self.norm(h))
        return self.head(h)


class CausalConv(nn.Module):
    """A causal temporal convolution over (batch, time, features): pads the past only."""

    def __init__(self, left: int = 2, right: int = 0) -> None:
        super().__init__()
        self.left, self.right = left, right
        self.conv = nn.Conv1d(FEATURES, WIDTH, left + right + 1)
        self.head = nn.Linear(WIDTH, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.pad(x.transpose(1, 2), (self.left, self.right))
        return self.head(torch.relu(self.conv(h)).transpose(1, 2))


class FrozenBackbone(MLP):
    """Fine-tuning with a deliberately frozen first layer (declared frozen)."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden.requires_grad_(False)


# -- bugs ----------------------------------------------------------------------------


class LeakyMask(TinyTransformer):
    """Off-by-one causal mask: triu(diagonal=2) lets position t see t+1."""

    def __init__(self) -> None:
        super().__init__(mask_diagonal=2)


class CenteredConv(CausalConv):
    """'same' padding copied from an image model: each step sees the next one."""

    def __init__(self) -> None:
        super().__init__(left=1, right=1)


class DetachedBatchCentering(MLP):
    """Centres features with batch statistics computed without gradient tracking."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.hidden(x))
        with torch.no_grad():
            centre = h.mean(dim=0)
        return self.head(h - centre)


class FunctionalDropout(MLP):
    """F.dropout(training=True): dropout stays on in eval mode."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.hidden(x))
        return self.head(F.dropout(h, 0.1, training=True))


class NoisyTrainOverride(MLP):
    """A custom train() that never tells its children: dropout stays on after eval()."""

    def train(self, mode: bool = True) -> NoisyTrainOverride:
        self.training = mode
        return self


class BatchNormStuckInTraining(CNN):
    """forward() calls self.bn.train() (a leftover of a warm-up hack)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.bn.train()
        return super().forward(x)


class Bf16Linear(nn.Linear):
    """A 'fast' linear layer that computes in bfloat16 and casts back."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.linear(x.bfloat16(), self.weight.bfloat16(), self.bias.bfloat16())
        return out.float()


class Bf16Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(Bf16Linear(FEATURES, 32), nn.ReLU(), nn.Linear(32, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class DoubleModel(MLP):
    """Built in float64 (a set_default_dtype left over): consistent, wrong output dtype."""

    def __init__(self) -> None:
        super().__init__()
        self.double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.to(self.hidden.weight.dtype))


class SqueezedPool(CNN):
    """Global pooling then squeeze(): a batch of one loses its batch dimension."""

    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Linear(4, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = F.adaptive_avg_pool2d(self.pooled(x), 1).squeeze()
        return self.head(pooled)


class FrozenByMistake(MLP):
    """A freeze loop copied from a fine-tuning script freezes the first layer."""

    def __init__(self) -> None:
        super().__init__()
        for param in self.hidden.parameters():
            param.requires_grad = False


class ForgotToFreeze(MLP):
    """The backbone is declared frozen but nothing freezes it."""


class StdNormalised(MLP):
    """Per-sample standardisation without eps: 0/0 on a constant or all-zero input."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - x.mean(dim=1, keepdim=True)) / x.std(dim=1, keepdim=True)
        return super().forward(x)


class NaiveSoftmax(MLP):
    """A hand-written softmax without max-subtraction: exp overflows on large inputs."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = torch.exp(super().forward(x))
        return torch.log(e / e.sum(dim=1, keepdim=True))


class PlainListBlocks(MLP):
    """Blocks kept in a Python list: not registered, so not saved."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks = [nn.Linear(32, 32) for _ in range(2)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)
        for block in self.blocks:
            h = torch.relu(block(h))
        return self.head(h)


class RandomFeatures(MLP):
    """A random projection registered as a non-persistent buffer: not saved."""

    def __init__(self) -> None:
        super().__init__()
        proj = torch.randn(FEATURES, FEATURES) / math.sqrt(FEATURES)
        self.register_buffer("proj", proj, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x @ self.proj)


class TensorAttribute(MLP):
    """A learned-looking scale kept as a plain tensor attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = torch.rand(32) + 0.5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x) * self.scale)


class SharedBlocks(MLP):
    """nn.ModuleList([block] * 3): three slots, one set of weights."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(32, 32)] * 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)
        for block in self.blocks:
            h = torch.relu(block(h))
        return self.head(h)


@dataclass(frozen=True)
class Spec:
    """One zoo entry: the model, its batch, what a user declares, and what must fail."""

    factory: Callable[[], nn.Module]
    batch: Callable[[], tuple[torch.Tensor, torch.Tensor]]
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    shape: tuple[int | str, ...]
    catches: tuple[str, ...] = ()
    causal: bool = False
    frozen: tuple[str, ...] = ()
    tied: tuple[tuple[str, str], ...] = ()


def _vector(factory: Callable[[], nn.Module], *catches: str, **kw: object) -> Spec:
    return Spec(factory, vector_batch, classify, ("B", CLASSES), catches, **kw)  # type: ignore[arg-type]


def _image(factory: Callable[[], nn.Module], *catches: str) -> Spec:
    return Spec(factory, image_batch, classify, ("B", CLASSES), catches)


def _tokens(factory: Callable[[], nn.Module], *catches: str) -> Spec:
    tied = (("tok.weight", "head.weight"),)
    shape = ("B", SEQ, VOCAB)
    return Spec(factory, token_batch, next_token, shape, catches, True, (), tied)


def _series(factory: Callable[[], nn.Module], *catches: str) -> Spec:
    return Spec(factory, series_batch, regress, ("B", SEQ, 1), catches, True)


#: name -> spec; ``catches`` lists the checks that must fail, the intended one first.
ZOO: dict[str, Spec] = {
    # correct models: pass every check
    "mlp": _vector(MLP),
    "cnn_batchnorm": _image(CNN),
    "tiny_transformer": _tokens(TinyTransformer),
    "causal_conv": _series(CausalConv),
    "frozen_backbone": _vector(FrozenBackbone, frozen=("hidden",)),
    # bugs
    "leaky_mask": _tokens(LeakyMask, "causal"),
    "centered_conv": _series(CenteredConv, "causal"),
    "detached_batch_centering": _vector(DetachedBatchCentering, "batch_independent"),
    "functional_dropout": _vector(FunctionalDropout, "eval_mode"),
    "noisy_train_override": _vector(NoisyTrainOverride, "eval_mode"),
    "batchnorm_stuck_in_training": _image(
        BatchNormStuckInTraining, "eval_mode", "batch_independent"
    ),
    "bf16_linear": _vector(Bf16Net, "dtype_consistent"),
    "double_model": _vector(DoubleModel, "output_shape"),
    "squeezed_pool": _image(SqueezedPool, "output_shape", "batch_independent"),
    "frozen_by_mistake": _vector(FrozenByMistake, "params_update"),
    "forgot_to_freeze": _vector(ForgotToFreeze, "params_update", frozen=("hidden",)),
    "std_normalised": _vector(StdNormalised, "finite"),
    "naive_softmax": _vector(NaiveSoftmax, "finite"),
    "plain_list_blocks": _vector(PlainListBlocks, "checkpoint_roundtrip"),
    "random_features": _vector(RandomFeatures, "checkpoint_roundtrip"),
    "tensor_attribute": _vector(TensorAttribute, "checkpoint_roundtrip"),
    "shared_blocks": _vector(SharedBlocks, "shared_params"),
}
