# ruff: noqa
# Fixture of MLQ203 unguarded-cuda-call, checked with MLQ203 alone.
# `# expect: CODE:COLUMN` marks each finding on its line; unmarked lines have none.
import sys
import time

import torch
import torch.distributed as dist
from torch.cuda import synchronize as sync

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.cuda.set_device(0)  # expect: MLQ203:1
start = time.perf_counter()
torch.cuda.synchronize()  # expect: MLQ203:1
sync()  # expect: MLQ203:1
torch.cuda.reset_peak_memory_stats()  # expect: MLQ203:1
name = torch.cuda.get_device_name(0)  # expect: MLQ203:8
begin = torch.cuda.Event(enable_timing=True)  # expect: MLQ203:9
stream = torch.cuda.Stream()  # expect: MLQ203:10
with torch.cuda.device(1):  # expect: MLQ203:6
    pass
if torch.cuda.get_device_capability()[0] >= 8:  # expect: MLQ203:4
    pass
free, total = torch.cuda.mem_get_info()  # expect: MLQ203:15

# Harmless without CUDA (they do nothing there), or not torch.cuda:
torch.cuda.empty_cache()
used = torch.cuda.max_memory_allocated() + torch.cuda.memory_allocated()
torch.cuda.manual_seed_all(0)
count = torch.cuda.device_count()
torch.backends.cudnn.benchmark = True
torch.backends.cudnn.deterministic = True
stream.synchronize()
timer.synchronize()

# Guarded: a test about the device, an early exit, a handler, device code.
if torch.cuda.is_available():
    torch.cuda.synchronize()
if device.type == "cuda":
    torch.cuda.synchronize()
    print(torch.cuda.memory_summary())
peak = torch.cuda.max_memory_reserved() if use_cuda else 0
tma = torch.cuda.is_available() and torch.cuda.get_device_capability() >= (9, 0)
for i in range(torch.cuda.device_count()):
    print(torch.cuda.get_device_properties(i))
name = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"


def benchmark(model, x):
    if not torch.cuda.is_available():
        return None
    torch.cuda.synchronize()
    return model(x)


def gpu_only(model):
    assert torch.cuda.is_available(), "this benchmark needs a GPU"
    torch.cuda.synchronize()


def sync_cuda():
    torch.cuda.synchronize()


def fallback():
    try:
        torch.cuda.synchronize()
    except (RuntimeError, AssertionError):
        pass


def timed(model, x):
    out = model(x)
    torch.cuda.synchronize()  # expect: MLQ203:5
    return out


# Multi-process GPU code needs a GPU per process by design:
def setup(rank, world_size):
    dist.init_process_group("nccl", rank=rank, world_size=world_size)
    torch.cuda.set_device(rank)
    torch.cuda.synchronize()


if ddp:
    torch.cuda.set_device(f"cuda:{ddp_local_rank}")
torch.cuda.set_device(args.local_rank)
if not ddp:
    sys.exit(0)
torch.cuda.synchronize()


# Code that needs a GPU by design: it already calls .cuda() (MLQ201 reports
# that), or it is a GPU-only kernel path.
def train(model, loader):
    for inp, target in loader:
        loss = model(inp.cuda(non_blocking=True)).sum()
        torch.cuda.synchronize()


class Attend:
    def __init__(self, flash):
        if flash:
            major, minor = torch.cuda.get_device_capability()
