"""Tests for mlqa.tools.mypy_runtime through ``mlqa types`` and real mypy.

Each correct idiom sits beside a twin that differs in the one condition the
filter reads, and the twin keeps mypy's finding. The torch idioms (legacy
CUDA tensor types, a list of layers annotated with their class) are in
tests/test_mypy_plugin.py, which has torch's types at hand.
"""

from __future__ import annotations

from pathlib import Path

from typecheck import mlqa_types

SOURCE = '''"""Correct idioms mypy rejects, and their twins."""
import time
import types

try:
    from os.path import join
except ImportError:  # an optional dependency's fallback
    join = None

try:
    from os.path import split
except ValueError:  # twin: not an import that failed
    split = None


def kernel_template(x: int) -> int:
    LOAD_ROWS_HERE  # noqa: F821
    SORT_HERE  # noqa: E501
    return x


def reporthook(count: int) -> None:
    global start_time
    if count == 0:
        start_time = time.time()
    else:
        print(time.time() - start_time, stop_time)


def stand_in() -> None:
    stub = types.ModuleType("pkg.dep")
    stub.check = lambda: None
    types.nothere = 1


def best(scores: dict[str, float], other: list[str]) -> list[str]:
    top = max(scores, key=scores.get)
    worst = min(other, key=scores.get)
    return [top, worst, *sorted(scores, key=scores.get)]


from collections import OrderedDict, Counter


class OrderedDict(OrderedDict):  # extends the name it rebinds
    pass


class Counter(dict):  # twin: a redefinition that drops the import
    pass


def with_logging(base):  # a class factory: the base is a parameter
    class Logged(base):
        pass

    return Logged


def fixed(base):
    made = base or dict

    class Odd(made):  # twin: a local variable is no parameter
        pass
'''


def test_runtime_idioms_dropped_and_their_twins_kept(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "runtime.py").write_text(SOURCE)
    code, items, stderr = mlqa_types(tmp_path, "runtime.py")
    assert code == 1, stderr
    found = [(item["line"], item["code"]) for item in items]
    assert found == [
        (13, "mypy[assignment]"),  # None after a ValueError, not an ImportError
        (18, "mypy[name-defined]"),  # its noqa is not about F821
        (27, "mypy[name-defined]"),  # stop_time: no function makes it global
        (33, "mypy[attr-defined]"),  # types is the real module, not a stand-in
        (38, "mypy[arg-type]"),  # other is not the dict whose get is the key
        (49, "mypy[no-redef]"),  # Counter no longer is collections.Counter
        (63, "mypy[misc]"),  # made: a local variable, mypy's doubt stands
        (63, "mypy[valid-type]"),
    ]
