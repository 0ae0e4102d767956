"""Device handling done right and wrong."""

import os

import torch
from torch import nn

DEVICE = "cuda"  # expect: MLQ202
FALLBACK_DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
use_cuda = torch.cuda.is_available() and not os.environ.get("NO_CUDA")


class Runner:
    device: str = "cuda"

    def __init__(self, model: nn.Module, device: str = "cuda"):
        self.device = device
        self.model = model.to(self.device)
        self.gpu_device = "cuda:0"  # expect: MLQ202

    def run(self, batch):
        batch = batch.cuda()  # expect: MLQ201
        return self.model(batch.to(self.device))


def load(path, model):
    state = torch.load(path, map_location="cuda")  # expect: MLQ202
    safe = torch.load(path, map_location="cpu")
    model.load_state_dict(state or safe)
    model = model.to(torch.device("cuda:1"))  # expect: MLQ202
    if use_cuda:
        model = model.cuda()
    model = model.cuda() if torch.cuda.is_available() else model
    noise = torch.randn(4, 3, device="cuda")  # expect: MLQ202
    other = torch.zeros(4, device=noise.device)
    dev = torch.device("cuda" if use_cuda else "cpu")
    return model.to(dev), noise + other


def distributed(local_rank, model):
    torch.cuda.set_device(local_rank)
    device = torch.device(f"cuda:{local_rank}")  # one GPU per process: by design
    model = model.to(device)
    if torch.cuda.device_count() > 1:
        model = nn.DataParallel(model).cuda()
    else:
        model = model.cuda()
    return model


def pick_device():
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def use_accelerator_by_default(x):
    torch.set_default_device("mps")  # expect: MLQ202
    return x.to("cpu"), x.is_cuda, x.device.type == "cuda"


def autocast_step(model, x):
    with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
        return model(x)


def report():
    print("cuda available:", torch.cuda.is_available(), torch.cuda.device_count())
    print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu")


class CUDAAccelerator:
    """Device-specific code: its callers choose it, with a fallback."""

    def setup(self, model):
        return model.to(torch.device("cuda", 0))


class Batch:
    def __init__(self, tensors):
        self.tensors = tensors

    def cuda(self):
        return Batch([t.cuda() for t in self.tensors])


def try_gpu(i=0):
    if torch.cuda.device_count() >= i + 1:
        return torch.device(f"cuda:{i}")
    return torch.device("cpu")
