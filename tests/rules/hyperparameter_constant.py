# ruff: noqa
# Fixture of MLQ104 hyperparameter-constant, checked with MLQ104 alone.
# `# expect: CODE:COLUMN` marks each finding on its line; unmarked lines have none.
import torch
from torch import nn, optim
from torch.utils.data import DataLoader

LEARNING_RATE = 1e-3  # expect: MLQ104:1
EPOCHS = 10  # expect: MLQ104:1
SGD_LR = 0.1  # expect: MLQ104:1
MOMENTUM: float = 0.9  # expect: MLQ104:1
MAX_STEPS = 1000  # expect: MLQ104:1
TWICE = 3
TWICE = 4
NOT_USED = 0.5
WIDTH = 128
LR = 0.01

model = nn.Linear(WIDTH, 10)
adam = optim.Adam(model.parameters(), lr=LEARNING_RATE)
sgd = optim.SGD(model.parameters(), SGD_LR, MOMENTUM)
for epoch in range(EPOCHS + 1):
    pass
step = 0
while step < MAX_STEPS:
    step += 1
for epoch in range(TWICE):
    pass


def loader(dataset):
    batch = 32  # expect: MLQ104:5
    return DataLoader(dataset, batch_size=batch)


def shadowed(LR):
    return optim.SGD(model.parameters(), lr=LR)
