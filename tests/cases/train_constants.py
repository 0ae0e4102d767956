"""A script that names its hyperparameters but still hardcodes them."""

import functools

import torch
import torch.optim as optim
from torch import nn
from torch.optim import Adam as A
from torch.optim.lr_scheduler import CosineAnnealingLR
from torch.utils.data import DataLoader
from tqdm import tqdm, trange

from .configs.experiment import WARMUP_STEPS

LEARNING_RATE = 1e-3  # expect: MLQ104
BATCH_SIZE = 64  # expect: MLQ104
NUM_EPOCHS = 20  # expect: MLQ104
WEIGHT_DECAY: float = 5e-4  # expect: MLQ104
HIDDEN = 256
IMAGE_SIZE = 224
MEAN = (0.485, 0.456, 0.406)
SEED = 1234
VERBOSE = True
LOG_EVERY = 50


def build(num_classes):
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(IMAGE_SIZE * IMAGE_SIZE * 3, HIDDEN),
        nn.ReLU(),
        nn.Linear(HIDDEN, num_classes),
    )


def main(dataset, num_classes=10):
    torch.manual_seed(SEED)
    model = build(num_classes)
    loader = DataLoader(dataset, BATCH_SIZE, shuffle=True)
    optimizer = A(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    make_sgd = functools.partial(
        optim.SGD, lr=0.01, momentum=0.9  # expect: MLQ101 MLQ101
    )
    finetune_opt = make_sgd(model[-1].parameters())
    scheduler = CosineAnnealingLR(optimizer, T_max=NUM_EPOCHS * len(loader))
    warmup = optim.lr_scheduler.LinearLR(
        optimizer, 0.1, total_iters=WARMUP_STEPS  # expect: MLQ102
    )
    accum = 4
    patience = compute_patience(dataset)
    for epoch in trange(NUM_EPOCHS, desc="epochs"):
        for step, (x, y) in enumerate(tqdm(loader)):
            loss = nn.functional.cross_entropy(model(x), y) / accum
            loss.backward()
            if (step + 1) % accum == 0:
                optimizer.step()
                optimizer.zero_grad()
            if step % LOG_EVERY == 0 and VERBOSE:
                print(epoch, step, loss.item())
        scheduler.step()
        warmup.step()
    finetune(model, finetune_opt, loader, patience)


def finetune(model, optimizer, loader, patience):
    for it in range(500):  # expect: MLQ103
        x, y = next(iter(loader))
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
    global_step = 0
    while global_step < 10_000:  # expect: MLQ103
        global_step += 1
    for i in range(len(loader)):
        print(i)
    for attempt in range(3):
        print(attempt)
    for layer_idx in range(4):
        print(layer_idx)


def compute_patience(dataset):
    return max(3, len(dataset) // 10_000)


def rescale(base_lr, batch_size):
    lr = base_lr * batch_size / 256
    return optim.SGD([], lr=lr)


def sweep(trial, model):
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    epochs = trial.suggest_int("epochs", 5, 50)
    optimizer = optim.SGD(model.parameters(), lr=lr)
    for epoch in range(epochs):
        optimizer.step()


def param_groups(model, args):
    return optim.AdamW(
        [
            {"params": model.backbone.parameters(), "lr": 1e-5},  # expect: MLQ101
            {"params": model.head.parameters()},
            dict(params=model.neck.parameters(), lr=args.neck_lr),
        ],
        lr=args.lr,
    )
