"""Latency and memory of a model's forward pass (a typical benchmark script)."""

import argparse
import time

import torch
from torch import nn


def build(width: int) -> nn.Module:
    return nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width))


def measure(model: nn.Module, x: torch.Tensor, repeats: int) -> float:
    model(x)  # warm-up
    torch.cuda.synchronize()  # expect: MLQ203
    start = time.perf_counter()
    for _ in range(repeats):
        model(x)
    torch.cuda.synchronize()  # expect: MLQ203
    return (time.perf_counter() - start) / repeats


def measure_events(model: nn.Module, x: torch.Tensor) -> float:
    if x.device.type != "cuda":
        return float("nan")
    begin = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    begin.record()
    model(x)
    end.record()
    torch.cuda.synchronize()
    return begin.elapsed_time(end)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cudnn.benchmark = True
    torch.cuda.reset_peak_memory_stats()  # expect: MLQ203
    model = build(args.width).to(device).eval()
    x = torch.randn(8, args.width, device=device)
    with torch.no_grad():
        seconds = measure(model, x, args.repeats)
        if device.type == "cuda":
            print(torch.cuda.get_device_name(), measure_events(model, x))
    print(f"{seconds * 1e3:.2f} ms, peak {torch.cuda.max_memory_allocated()} bytes")
    torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
