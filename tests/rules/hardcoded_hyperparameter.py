# ruff: noqa
# Fixture of MLQ101 hardcoded-hyperparameter, checked with MLQ101 alone selected.
# `# expect: CODE:COLUMN` marks each finding on its line; unmarked lines have none.
import argparse
import functools
from dataclasses import dataclass

import matplotlib.pyplot as plt
import torch
from sklearn.linear_model import Ridge
from torch import nn, optim
from torch.optim.lr_scheduler import StepLR

model = nn.Linear(4, 2)
params = model.parameters()
opt = optim.Adam(params, lr=1e-3, betas=(0.9, 0.999))  # expect: MLQ101:29, MLQ101:41
loader = torch.utils.data.DataLoader(model, batch_size=64)  # expect: MLQ101:56
sched = StepLR(opt, step_size=30, gamma=0.1)  # expect: MLQ101:31, MLQ101:41
make = functools.partial(optim.SGD, lr=-0.1)  # expect: MLQ101:40
groups = optim.SGD(
    [
        {"params": params, "lr": 1e-2},  # expect: MLQ101:34
        dict(params=params, lr=2e-2),  # expect: MLQ101:32
    ],
    lr=0.1,  # expect: MLQ101:8
)
ridge = Ridge(alpha=0.5)  # expect: MLQ101:21
run = train(batch_size=2**10)  # expect: MLQ101:24

# Not hyperparameters here, or not literals, or where settings belong:
plt.plot([1, 2], alpha=0.5)
norm = nn.BatchNorm2d(8, momentum=0.01, eps=1e-5)
drop = nn.Dropout(p=0.0)
parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=1e-3)
args = parser.parse_args()
optimizer = optim.Adam(params, lr=args.lr)
settings = dict(lr=0.1, batch_size=32)
flags = train(lr=True, batch_size=None, epochs="3")
quiet = optim.SGD(params, lr=0.5)  # noqa: MLQ101


@dataclass
class TrainConfig:
    lr: float = 1e-3
    optimizer = optim.SGD(params, lr=0.1)


class Trainer:
    def fit(self, lr=1e-3):
        return self._run(batch_size=1)
