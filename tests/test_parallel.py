"""The process pool: results in order, work really shared, nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlqa.parallel import pmap

PARENT = os.getpid()


def square(item: int) -> int:
    return item * item


def where(item: int) -> tuple[int, int]:
    return item, os.getpid()


@pytest.mark.parametrize("processes", [2, 3, 8])
def test_results_come_back_in_order_from_several_processes(processes: int) -> None:
    items = list(range(50))
    results = pmap(where, items, processes)
    assert [item for item, _ in results] == items
    assert len({pid for _, pid in results}) <= processes


def test_more_processes_than_items() -> None:
    assert pmap(square, [3, 4], 5) == [9, 16]


#: Where the items of the sharing test leave their marks (set before the fork).
MARKS: list[Path] = []


def waits_for_the_others(item: int) -> tuple[int, int, bool]:
    """Item 0 waits until every other item is done; the others mark themselves."""
    marks = MARKS[0]
    if item:
        (marks / str(item)).touch()
        return item, os.getpid(), True
    deadline = time.monotonic() + 30
    while len(list(marks.iterdir())) < 99 and time.monotonic() < deadline:
        time.sleep(0.01)
    return item, os.getpid(), len(list(marks.iterdir())) == 99


def test_a_slow_item_holds_up_only_its_own_process(tmp_path: Path) -> None:
    # Item 0 cannot finish before the 99 others: with a fixed share each,
    # its process would wait 30 s for the items it was given, and say so.
    MARKS[:] = [tmp_path]
    results = pmap(waits_for_the_others, list(range(100)), 2)
    assert [item for item, _, _ in results] == list(range(100))
    assert all(ok for _, _, ok in results)
    slow = results[0][1]
    assert all(pid != slow for _, pid, _ in results[1:])


def test_many_items_in_chunks() -> None:
    items = list(range(10_000))  # more than one item per chunk
    assert pmap(square, items, 2) == [i * i for i in items]


def fails_on_seven(item: int) -> int:
    if item == 7:
        raise ValueError(f"bad item {item}")
    return item


def test_an_error_in_a_worker_is_raised_here() -> None:
    # Item 7 is in the second share of two: a forked worker raises it.
    with pytest.raises(ValueError, match="bad item 7"):
        pmap(fails_on_seven, list(range(20)), 2)


def dies_in_a_worker(item: int) -> tuple[int, int]:
    if os.getpid() != PARENT:
        os.kill(os.getpid(), signal.SIGKILL)
    return item, os.getpid()


def test_a_worker_that_dies_loses_nothing() -> None:
    results = pmap(dies_in_a_worker, list(range(10)), 2)
    assert results == [(item, PARENT) for item in range(10)]


def unpicklable(item: int) -> object:
    return lambda: item


def test_results_that_cannot_be_sent_back_are_made_here() -> None:
    results = pmap(unpicklable, list(range(6)), 2)
    assert [f() for f in results] == list(range(6))  # type: ignore[operator]


def test_one_process_stays_here() -> None:
    assert {pid for _, pid in pmap(where, list(range(5)), 1)} == {os.getpid()}


def test_what_workers_print_is_printed_once() -> None:
    # stdout to a pipe is block-buffered: "before" is still in the buffer when
    # the worker is forked, and what the worker prints is only in its own.
    script = (
        "from mlqa.parallel import pmap\n"
        "def prints(item):\n"
        "    print(f'item {item}')\n"
        "    return item\n"
        "if __name__ == '__main__':\n"
        "    print('before')\n"
        "    assert pmap(prints, list(range(4)), 2) == [0, 1, 2, 3]\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    lines = proc.stdout.splitlines()
    assert lines[0] == "before"
    assert sorted(lines[1:]) == [f"item {i}" for i in range(4)]


def refuse(*args: object) -> int:
    raise OSError(11, "Resource temporarily unavailable")


@pytest.mark.parametrize("call", ["fork", "pipe"])
def test_no_process_or_pipe_left_means_the_work_is_done_here(
    monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    # As when the system is out of processes or file descriptors.
    monkeypatch.setattr(os, call, refuse)
    assert pmap(where, list(range(40)), 2) == [(item, PARENT) for item in range(40)]
