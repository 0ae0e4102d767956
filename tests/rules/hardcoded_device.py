# ruff: noqa
# Fixture of MLQ202 hardcoded-device, checked with MLQ202 alone.
# `# expect: CODE:COLUMN` marks each finding on its line; unmarked lines have none.
import torch
from torch import nn

device = "cuda"  # expect: MLQ202:10
model = nn.Linear(4, 2).to("cuda:0")  # expect: MLQ202:28
state = torch.load("m.pt", map_location="cuda")  # expect: MLQ202:41
mps = torch.device("mps")  # expect: MLQ202:20
x = torch.ones(2).to(f"cuda:{rank}")  # expect: MLQ202:22


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
