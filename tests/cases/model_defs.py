"""Models and config classes: where numbers are architecture or belong to config."""

from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple

import attr
import click
import hydra
import torch
import torch.nn.functional as F
import typer
from omegaconf import DictConfig, OmegaConf
from pydantic import BaseModel, Field
from torch import nn
from torchvision import transforms

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class TrainConfig:
    lr: float = 1e-3
    batch_size: int = 64
    epochs: int = 90
    betas: tuple = (0.9, 0.999)
    milestones: list = field(default_factory=lambda: [30, 60])
    optimizer: object = partial(torch.optim.Adam, lr=1e-3)


class Hparams(NamedTuple):
    lr: float = 3e-4
    weight_decay: float = 0.05


class OptimSettings(BaseModel):
    lr: float = Field(1e-3, gt=0)
    momentum: float = Field(default=0.9)


@attr.s
class Schedule:
    warmup_steps = attr.ib(default=1000)
    max_steps = attr.ib(default=100_000)


class ConvBlock(nn.Module):
    def __init__(
        self, in_ch: int, out_ch: int, dropout: float = 0.1, momentum: float = 0.1
    ):
        super().__init__()
        self.conv = nn.Conv2d(
            in_ch, out_ch, kernel_size=3, stride=1, padding=1, bias=False
        )
        self.bn = nn.BatchNorm2d(out_ch, eps=1e-5, momentum=momentum)
        self.drop = nn.Dropout2d(dropout)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        x = x.view(x.size(0), -1)[:, :128]
        x = torch.clamp(x, min=-1.0, max=1.0)
        return self.drop(self.pool(x.reshape(-1, 1, 8, 16)))


class Transformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed = nn.Embedding(cfg.vocab_size, 512)
        self.layers = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(
                512, 8, 2048, dropout=cfg.dropout, batch_first=True
            ),
            6,
        )
        self.norm = nn.LayerNorm(512, eps=1e-6)
        self.proj = nn.Linear(512, cfg.vocab_size)
        self.scale = 512**-0.5

    def forward(self, tokens):
        h = self.embed(tokens) * self.scale
        h = F.layer_norm(h, h.shape[-1:], eps=1e-5)
        h = torch.add(h, h, alpha=0.5)
        return self.proj(self.norm(self.layers(h)))


def transforms_for(size=224):
    return transforms.Compose(
        [
            transforms.Resize(256),
            transforms.CenterCrop(size),
            transforms.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4),
            transforms.ToTensor(),
            transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )


def make_optimizer(model, lr=1e-3, momentum=0.9, betas=(0.9, 0.999)):
    return torch.optim.Adam(model.parameters(), lr=lr, betas=betas)


@click.command()
@click.option("--lr", default=1e-3, type=float)
@click.option("--epochs", default=10)
def cli(lr, epochs):
    return lr, epochs


def typer_main(
    lr: float = typer.Option(1e-3), batch_size: int = typer.Option(32, "--bs")
):
    return lr, batch_size


@hydra.main(config_path="conf", config_name="train", version_base=None)
def hydra_main(cfg: DictConfig):
    model = Transformer(cfg.model)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=cfg.optim.lr, weight_decay=cfg.optim.wd
    )
    loader = torch.utils.data.DataLoader(cfg.data, batch_size=cfg["batch_size"])
    defaults = OmegaConf.create({"lr": 1e-3, "epochs": 10})
    hp = dict(lr=1e-3, batch_size=32, epochs=10)
    merged = OmegaConf.merge(defaults, cfg)
    for epoch in range(merged.epochs):
        optimizer.step()
    return loader, hp


def shapes(batch, x):
    idx = torch.arange(0, 10)
    first, last = batch[0], batch[-1]
    w = x.new_zeros(3, 224, 224)
    for i in range(len(batch)):
        w[i % 3] += 1
    for step_dim in range(3):
        w = w.sum(dim=step_dim, keepdim=True)
    return idx, first, last, w


class EfficientBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, momentum=0.01, eps=1e-3)
        self.attn_dropout = nn.Dropout(0.0)
        self.proj = nn.MultiheadAttention(channels, 8, dropout=0.0)

    def forward(self, x, running_mean, running_var):
        x = F.batch_norm(x, running_mean, running_var, momentum=0.0, eps=1e-5)
        return self.proj(self.attn_dropout(self.bn(x)))


class VideoPredictor:
    def _run_single_frame(self, frame, batch_size):
        return frame[:batch_size]

    def predict(self, frames, quantizer, qtensor, meta):
        quantizer.cuda(qtensor, meta=meta, device=frames.device)
        return [self._run_single_frame(f, batch_size=1) for f in frames]
