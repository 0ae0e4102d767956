"""Save and restore the global state a check may touch.

Every assertion in :mod:`mlqa.testing` runs inside :func:`preserved_state`, so a
check leaves the Python, NumPy and torch random number generators, the
deterministic-algorithms flag, grad mode, the default dtype and the thread
count exactly as it found them.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: Environment variable cuBLAS reads to make its reductions deterministic.
CUBLAS_ENV = "CUBLAS_WORKSPACE_CONFIG"


@contextmanager
def preserved_state() -> Iterator[None]:
    """Restore every global torch/NumPy/Python setting a check may change.

    The CUDA generators are saved only when CUDA is already initialised, so a
    check never initialises CUDA as a side effect.

    Yields:
        Nothing; the state is restored when the block exits, even on error.
    """
    import torch

    py_state = random.getstate()
    np_random: Any = None
    np_state: Any = None
    if "numpy" in sys.modules:
        np_random = sys.modules["numpy"].random
        np_state = np_random.get_state()
    torch_state = torch.random.get_rng_state()
    cuda_ready = torch.cuda.is_initialized()  # type: ignore[no-untyped-call]
    cuda_states = torch.cuda.get_rng_state_all() if cuda_ready else None
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    cudnn_deterministic = torch.backends.cudnn.deterministic
    cudnn_benchmark = torch.backends.cudnn.benchmark
    grad_enabled = torch.is_grad_enabled()
    dtype = torch.get_default_dtype()
    threads = torch.get_num_threads()
    cublas = os.environ.get(CUBLAS_ENV)
    try:
        yield
    finally:
        random.setstate(py_state)
        if np_random is not None:
            np_random.set_state(np_state)
        torch.random.set_rng_state(torch_state)
        if cuda_states is not None:
            torch.cuda.set_rng_state_all(cuda_states)
        # each setter only when the value changed: most checks change none
        if (
            torch.are_deterministic_algorithms_enabled() != deterministic
            or torch.is_deterministic_algorithms_warn_only_enabled() != warn_only
        ):
            torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        if torch.backends.cudnn.deterministic != cudnn_deterministic:
            torch.backends.cudnn.deterministic = cudnn_deterministic
        if torch.backends.cudnn.benchmark != cudnn_benchmark:
            torch.backends.cudnn.benchmark = cudnn_benchmark
        torch.set_grad_enabled(grad_enabled)
        if torch.get_default_dtype() != dtype:
            torch.set_default_dtype(dtype)
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        if cublas is None:
            os.environ.pop(CUBLAS_ENV, None)
        else:
            os.environ[CUBLAS_ENV] = cublas


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's (when installed) and torch's global generators.

    Args:
        seed: The seed; any non-negative integer below 2**32.
    """
    import torch

    random.seed(seed)
    try:
        import numpy
    except ImportError:  # pragma: no cover - numpy is optional for torch
        pass
    else:
        numpy.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def enable_determinism() -> None:
    """Turn on deterministic algorithms (and cuDNN's) for the current process."""
    import torch

    os.environ.setdefault(CUBLAS_ENV, ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
