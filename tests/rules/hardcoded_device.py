# ruff: noqa
# Fixture of MLQ202 hardcoded-device, checked with MLQ202 alone.
# `# expect: CODE:COLUMN` marks each finding on its line; unmarked lines have none.
import torch
from torch import nn

device = "cuda"  # expect: MLQ202:10
model = nn.Linear(4, 2).to("cuda:0")  # expect: MLQ202:28
state = torch.load("m.pt", map_location="cuda")  # expect: MLQ202:41
mps = torch.device("mps")  # expect: MLQ202:20
x = torch.ones(2).to(f"cuda:{gpu}")  # expect: MLQ202:22


class Runner:
    def __init__(self):
        self.device = "gpu"  # expect: MLQ202:23


# A CPU fallback in sight, a config field, or not a device:
fallback = torch.device("cuda" if torch.cuda.is_available() else "cpu")
cpu = x.to("cpu")
name = "cuda"
if torch.cuda.is_available():
    device = "cuda"


def run(device="cuda"):
    return x.to(device)


class Settings:
    device = "cuda"


def early_exit(model):
    if not torch.cuda.is_available():
        return model
    return model.to("cuda")  # after an early return: GPU-only by design


def unguarded_after(model):
    print("no device test before this")
    return model.to("cuda")  # expect: MLQ202:21


if ddp:
    device = f"cuda:{ddp_local_rank}"  # a DDP branch: one GPU per process
else:
    device = "cpu"
per_rank = torch.device("cuda", local_rank)

import lightning as L
import xgboost as xgb

booster = xgb.XGBClassifier(device="cuda")  # xgboost falls back to the CPU
fabric = L.Fabric(accelerator="cuda", devices=4)  # multi-GPU by design
single = L.Fabric(accelerator="cuda", devices=1)  # expect: MLQ202:31

if __name__ == "__main__":
    # A smoke test (no optimizer, no loop) is not a run.
    print(model(torch.randn(2, 4, device="cuda")))
