"""The one process pool every step uses when a run is big enough to pay for it.

Starting worker processes costs tens of milliseconds each; on the 2-core
machines CI and laptops often are, a pool only pays for hundreds of files.
:func:`workers` decides (``MLQA_JOBS=N`` overrides it) and :func:`pmap` maps a
picklable function over the items, in order, falling back to this process when
no pool can be started (no ``/dev/shm``, no fork).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: At most this many workers: past it, start-up and pickling cost more than they save.
MAX_WORKERS = 8


def workers(items: int, *, min_items: int, min_cpus: int = 2, jobs: int = 0) -> int:
    """Decide how many processes to use for a number of items.

    Args:
        items: How many items there are to process.
        min_items: Below this many items, stay in this process.
        min_cpus: Below this many CPUs, stay in this process.
        jobs: An explicit request (``--jobs``): a positive number is used as
            given (capped by the items); 0 means decide.

    Returns:
        The number of processes; 1 means this process alone.
    """
    if jobs > 0:
        return max(1, min(jobs, items))
    setting = os.environ.get("MLQA_JOBS", "")
    if setting.isdigit() and int(setting) > 0:
        return max(1, min(int(setting), items))
    cpus = os.cpu_count() or 1
    if items < min_items or cpus < min_cpus:
        return 1
    return max(1, min(cpus, MAX_WORKERS, items))


def pmap(func: Callable[[T], R], items: Sequence[T], processes: int) -> list[R]:
    """Apply ``func`` to every item, in several processes when asked.

    Args:
        func: A module-level (picklable) function.
        items: Its inputs (picklable).
        processes: How many processes (from :func:`workers`); 1 or fewer runs here.

    Returns:
        The results, in the order of ``items``.
    """
    if processes <= 1 or len(items) <= 1:
        return [func(item) for item in items]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    chunk = max(1, len(items) // (processes * 4))
    try:
        with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
            return list(pool.map(func, items, chunksize=chunk))
    except (OSError, RuntimeError, ImportError):  # no /dev/shm, no fork: stay here
        return [func(item) for item in items]
