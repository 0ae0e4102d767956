"""MLQ203's table against torch: what it flags raises without CUDA, what it spares does not."""

from __future__ import annotations

import operator
from pathlib import Path
from typing import Any

import pytest

from mlqa.rules.unguarded_cuda_call import RAISES_WITHOUT_CUDA

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(
    torch.cuda.is_available(), reason="checks torch's behaviour where CUDA is absent"
)

#: Arguments for the calls that need some (the rest are called with none).
ARGS: dict[str, tuple[Any, ...]] = {
    "set_device": (0,),
    "get_device_name": (0,),
    "get_device_properties": (0,),
    "get_device_capability": (0,),
    "can_device_access_peer": (0, 1),
    "set_per_process_memory_fraction": (0.5,),
    "caching_allocator_alloc": (8,),
    "set_sync_debug_mode": (0,),
    "ExternalStream": (0,),
    "device": (0,),
    "nvtx.range_push": ("step",),
    "nvtx.range": ("step",),
    "nvtx.mark": ("step",),
}

#: Calls that quietly do nothing without CUDA: never flagged.
HARMLESS = {
    "empty_cache": (),
    "memory_allocated": (),
    "max_memory_allocated": (),
    "memory_reserved": (),
    "max_memory_reserved": (),
    "memory_stats": (),
    "manual_seed": (0,),
    "manual_seed_all": (0,),
    "seed": (),
    "device_count": (),
    "is_available": (),
    "is_bf16_supported": (),
    "get_arch_list": (),
    "stream": (None,),
}


def _call(name: str, args: tuple[Any, ...], tmp_path: Path) -> None:
    import torch.cuda.memory
    import torch.cuda.nvtx

    func = operator.attrgetter(name)(torch.cuda)
    if name == "memory._dump_snapshot":
        args = (str(tmp_path / "snapshot.pickle"),)
    if name == "graph":
        args = (torch.cuda.CUDAGraph(),)
    result = func(*args)
    if hasattr(result, "__enter__"):
        with result:
            pass


@pytest.mark.parametrize("name", sorted(RAISES_WITHOUT_CUDA))
def test_flagged_calls_raise_without_cuda(name: str, tmp_path: Path) -> None:
    with pytest.raises(Exception):  # noqa: B017 - torch raises several kinds
        _call(name, ARGS.get(name, ()), tmp_path)


@pytest.mark.parametrize("name", sorted(HARMLESS))
def test_spared_calls_do_not_raise(name: str, tmp_path: Path) -> None:
    assert name not in RAISES_WITHOUT_CUDA
    _call(name, HARMLESS[name], tmp_path)


def test_cudnn_settings_do_not_raise() -> None:
    before = torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic
    try:
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.deterministic = True
    finally:
        torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = before
