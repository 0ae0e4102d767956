"""Experiment config: the place hyperparameters belong."""

import torch

WARMUP_STEPS = 500
LEARNING_RATE = 3e-4
BATCH_SIZE = 128
EPOCHS = 30


def optimizer(model):
    return torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.05)


def schedule(optimizer):
    return torch.optim.lr_scheduler.StepLR(optimizer, 30, 0.1)
