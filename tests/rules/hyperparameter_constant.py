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
TWICE = 3  # expect: MLQ104:1
TWICE = 4  # expect: MLQ104:1
BATCH_SIZE = 256 if torch.cuda.is_available() else 64  # expect: MLQ104:1
NUM_BATCHES = int(1e5)  # expect: MLQ104:1
lambda_gp = 10.0  # expect: MLQ104:1
DECORR_LOSS_WEIGHT = 1e-1  # expect: MLQ104:1
GRADIENT_ACCUMULATE_EVERY = 4  # expect: MLQ104:1
NOT_USED = 0.5
WIDTH = 128
LR = 0.01  # expect: MLQ104:1
DROPOUT = 0.0
COUNTED = 0
COUNTED += 1
VAL_BATCH_SIZE = 16
SINGLE_BATCH_SIZE = 1

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
for _ in range(COUNTED):
    loss = model(torch.randn(BATCH_SIZE, WIDTH)).sum() + lambda_gp * DECORR_LOSS_WEIGHT
    loss.backward()


def loader(dataset):
    batch = 32  # expect: MLQ104:5
    return DataLoader(dataset, batch_size=batch)


def shadowed(LR):
    return optim.SGD(model.parameters(), lr=LR)


class Block(nn.Module):
    dropout = 0.1  # a model's architecture, not a run setting

    def __init__(self):
        super().__init__()
        dropout = 0.5  # inside a model class: its architecture


if __name__ == "__main__":
    batch_size = 8  # a smoke test: no optimizer, no loop
    print(model(torch.randn(batch_size, WIDTH)).shape)
