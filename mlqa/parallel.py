"""The one process pool every step uses when a run is big enough to pay for it.

:func:`workers` decides how many processes (``MLQA_JOBS=N`` overrides it) and
:func:`pmap` maps a picklable function over the items, in order.

Where the system can fork, :func:`pmap` forks its workers itself. The work is
a queue in a pipe: the numbers of the chunks of items, written before the
fork. Every process, this one included, reads the next number (a 4-byte read,
which no other reader can split) until the pipe is empty, so a slow item holds
up only the process that took it. Each child sends its results back pickled
through a pipe of its own. That costs a millisecond or two per worker;
``concurrent.futures.ProcessPoolExecutor`` costs 30-45 ms before its first
item on the 2-core machines CI and laptops often are, most of it importing
``multiprocessing`` (``hashlib``, ``hmac``, ``queue``, ``threading``): more
than a typical ``mlqa strip`` run takes. Where there is no fork (Windows), the
executor is used with its default start method.

A worker that dies (killed, out of memory) or whose results do not come back
loses nothing: this process maps the chunks it took. An exception raised by
``func`` in a worker is raised here, as in a serial run.
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
    processes = min(processes, len(items))
    if not hasattr(os, "fork"):
        return _executor_map(func, items, processes)
    return _fork_map(func, items, processes)


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


#: At most this many chunks in the queue: 4 bytes each, 8 KiB in all, less than
#: any system's pipe holds, so writing them all before the fork never blocks.
MAX_CHUNKS = 2048

#: A chunk's results: its number and one result per item.
_Done = list[tuple[int, list[Any]]]


def _take_all(func: Callable[[T], R], chunks: list[Sequence[T]], queue: int) -> _Done:
    """Map the chunks whose numbers this process reads from the queue, until it is empty."""
    done: _Done = []
    while True:
        token = os.read(queue, 4)
        if len(token) < 4:  # empty (no writer is left, so it stays empty)
            return done
        number = int.from_bytes(token, "little")
        done.append((number, [func(item) for item in chunks[number]]))


def _fork_map(func: Callable[[T], R], items: Sequence[T], processes: int) -> list[R]:
    """Map in this process and forked children that share one queue of chunks."""
    import pickle

    size = -(-len(items) // MAX_CHUNKS)  # 1 up to MAX_CHUNKS items
    chunks = [items[start : start + size] for start in range(0, len(items), size)]
    try:
        queue, feed = os.pipe()
    except OSError:  # no pipes left: stay in this process
        return [func(item) for item in items]
    try:
        tokens = memoryview(
            b"".join(n.to_bytes(4, "little") for n in range(len(chunks)))
        )
        while tokens:  # a write may be cut short by a signal
            tokens = tokens[os.write(feed, tokens) :]
    finally:
        os.close(feed)
    children: list[tuple[int, int]] = []  # pid, read end of its results pipe
    results: dict[int, list[Any]] = {}
    _flush_std_streams()  # or a child that flushes what it prints repeats them
    try:
        for _ in range(1, processes):
            try:
                read_end, write_end = os.pipe()
            except OSError:  # no more pipes: fewer workers
                break
            try:
                pid = os.fork()
            except OSError:  # no more processes: fewer workers
                os.close(read_end)
                os.close(write_end)
                break
            if pid == 0:  # pragma: no cover - the child; coverage does not follow forks
                os.close(read_end)
                _child(lambda: _take_all(func, chunks, queue), write_end)
            os.close(write_end)
            children.append((pid, read_end))
        results.update(_take_all(func, chunks, queue))
        while children:
            pid, read_end = children[0]
            with os.fdopen(read_end, "rb", closefd=False) as pipe:
                data = pipe.read()
            _, status = os.waitpid(pid, 0)
            children.pop(0)
            os.close(read_end)
            outcome = _unpickle(pickle, data) if status == 0 else None
            if outcome is not None and not outcome[0]:
                raise outcome[1]
            if outcome is not None:
                results.update(outcome[1])
    finally:
        os.close(queue)
        for pid, read_end in children:  # interrupted: stop and reap the rest
            try:
                os.close(read_end)
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except OSError:
                pass
    ordered: list[R] = []
    for number, chunk in enumerate(chunks):
        if number not in results:  # a worker died with it: map it here
            results[number] = [func(item) for item in chunk]
        ordered += results[number]
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
    work: Callable[[], _Done], write_end: int
) -> NoReturn:  # pragma: no cover - runs in the forked child
    """Do the work, write ``(True, results)`` or ``(False, exception)``, and exit."""
    import pickle

    code = 0
    try:
        try:
            done = work()
        except Exception as exc:
            payload = pickle.dumps((False, exc), protocol=5)
        else:
            payload = pickle.dumps((True, done), protocol=5)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(payload)
    except BaseException:  # unpicklable, interrupted, broken pipe: the parent redoes it
        code = 1
    finally:
        _flush_std_streams()  # what func printed here
        os._exit(code)  # no atexit handlers, no flushing the parent's buffers
