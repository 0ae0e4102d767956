"""The one process pool every step uses when a run is big enough to pay for it.

:func:`workers` decides how many processes (``MLQA_JOBS=N`` overrides it) and
:func:`pmap` maps a picklable function over the items, in order.

Where the system can fork, :func:`pmap` forks its workers itself: each child
maps a share of the items and sends its results back pickled through a pipe,
and this process maps the first share meanwhile. That costs a millisecond or
two per worker. ``concurrent.futures.ProcessPoolExecutor`` costs 30-45 ms
before its first item on the 2-core machines CI and laptops often are, most of
it importing ``multiprocessing`` (``hashlib``, ``hmac``, ``queue``,
``threading``), which is more than a typical ``mlqa strip`` run takes. Where
there is no fork (Windows), the executor is used with its default start
method. A worker that dies (killed, out of memory) or whose results do not come
back loses nothing: this process maps that share itself. An exception raised
by ``func`` in a worker is raised here, as in a serial run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, NoReturn, TypeVar

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


def pmap(
    func: Callable[[T], R],
    items: Sequence[T],
    processes: int,
    cost: Callable[[T], float] | None = None,
) -> list[R]:
    """Apply ``func`` to every item, in several processes when asked.

    Args:
        func: A module-level (picklable) function.
        items: Its inputs (picklable).
        processes: How many processes (from :func:`workers`); 1 or fewer runs here.
        cost: An estimate of each item's work (a file's size, say): the items
            are shared out so that each process gets about as much; without
            it, every ``processes``-th item goes to the same process.

    Returns:
        The results, in the order of ``items``.
    """
    if processes <= 1 or len(items) <= 1:
        return [func(item) for item in items]
    processes = min(processes, len(items))
    if not hasattr(os, "fork"):
        return _executor_map(func, items, processes)
    return _fork_map(func, items, _shares(items, processes, cost))


def _executor_map(
    func: Callable[[T], R], items: Sequence[T], processes: int
) -> list[R]:
    """Map in a ``ProcessPoolExecutor`` (systems without fork)."""
    from concurrent.futures import ProcessPoolExecutor

    chunk = max(1, len(items) // (processes * 4))
    try:
        with ProcessPoolExecutor(max_workers=processes) as pool:
            return list(pool.map(func, items, chunksize=chunk))
    except (OSError, RuntimeError, ImportError):  # no /dev/shm, no pool: stay here
        return [func(item) for item in items]


def _shares(
    items: Sequence[T], processes: int, cost: Callable[[T], float] | None
) -> list[list[int]]:
    """Split the items' indices into ``processes`` shares of about equal cost.

    Without costs every ``processes``-th item goes to one share. With them the
    costliest item goes first to the cheapest share so far (the classic
    longest-processing-time rule), and each share keeps its items in order.
    """
    if cost is None:
        return [list(range(k, len(items), processes)) for k in range(processes)]
    import heapq

    loads = [(0.0, k) for k in range(processes)]
    shares: list[list[int]] = [[] for _ in range(processes)]
    for index in sorted(range(len(items)), key=lambda i: -cost(items[i])):
        load, k = heapq.heappop(loads)
        shares[k].append(index)
        heapq.heappush(loads, (load + cost(items[index]), k))
    return [sorted(share) for share in shares]


def _fork_map(
    func: Callable[[T], R], items: Sequence[T], shares: list[list[int]]
) -> list[R]:
    """Map in forked children, each sending its share's results through a pipe.

    This process maps the first share, then gathers the others in order.
    """
    import pickle

    def mapped(share: int) -> list[R]:
        return [func(items[index]) for index in shares[share]]

    children: list[tuple[int, int, int]] = []  # pid, read end, share
    results: dict[int, list[R]] = {}
    _flush_std_streams()  # or a child that flushes what it prints repeats them
    try:
        for share in range(1, len(shares)):
            try:
                read_end, write_end = os.pipe()
            except OSError:  # no more pipes: this process maps the rest
                break
            try:
                pid = os.fork()
            except OSError:  # no more processes: this process maps the rest
                os.close(read_end)
                os.close(write_end)
                break
            if pid == 0:  # pragma: no cover - the child; coverage does not follow forks
                os.close(read_end)
                _child(mapped, share, write_end)
            os.close(write_end)
            children.append((pid, read_end, share))
        taken = {share for _, _, share in children}
        for share in range(len(shares)):  # this process's, and any no child took
            if share not in taken:
                results[share] = mapped(share)
        while children:
            pid, read_end, share = children[0]
            with os.fdopen(read_end, "rb", closefd=False) as pipe:
                data = pipe.read()
            _, status = os.waitpid(pid, 0)
            children.pop(0)
            os.close(read_end)
            outcome = _unpickle(pickle, data) if status == 0 else None
            if outcome is None:  # the worker died: map its share here
                results[share] = mapped(share)
            elif outcome[0]:
                results[share] = outcome[1]
            else:
                raise outcome[1]
    finally:
        for pid, read_end, _ in children:  # interrupted: stop and reap the rest
            try:
                os.close(read_end)
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except OSError:
                pass
    ordered: list[R] = [None] * len(items)  # type: ignore[list-item]
    for share, values in results.items():
        for index, value in zip(shares[share], values, strict=True):
            ordered[index] = value
    return ordered


def _unpickle(pickle: ModuleType, data: bytes) -> tuple[bool, Any] | None:
    """Read a worker's ``(ok, results or exception)``; None if it is not whole."""
    try:
        outcome = pickle.loads(data)
    except Exception:
        return None
    return outcome if isinstance(outcome, tuple) and len(outcome) == 2 else None


def _flush_std_streams() -> None:
    """Flush stdout and stderr, as a fork must (multiprocessing does the same)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # closed, or a broken pipe
            pass


def _child(
    mapped: Callable[[int], list[R]], share: int, write_end: int
) -> NoReturn:  # pragma: no cover - runs in the forked child
    """Map a share, write ``(True, results)`` or ``(False, exception)``, and exit."""
    import pickle

    code = 0
    try:
        try:
            values = mapped(share)
        except Exception as exc:
            payload = pickle.dumps((False, exc), protocol=5)
        else:
            payload = pickle.dumps((True, values), protocol=5)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(payload)
    except BaseException:  # unpicklable, interrupted, broken pipe: the parent redoes it
        code = 1
    finally:
        _flush_std_streams()  # what func printed here
        os._exit(code)  # no atexit handlers, no flushing the parent's buffers
