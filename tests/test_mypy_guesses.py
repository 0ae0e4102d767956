"""Tests for mlqa.tools.mypy_guesses through ``mlqa types`` and real mypy.

Each case is code a training script really contains; the clean ones must
give no finding, and the same lines with a type the user wrote must keep
mypy's findings (so a filter that dropped everything would fail).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typecheck import mlqa_types

CLEAN = '''"""Placeholders and unpacking of untyped values: correct code."""
from fractions import Fraction


class AverageMeter:
    def __init__(self):
        self.reset()

    def reset(self):
        self.val = 0
        self.avg = 0
        self.sum = 0
        self.count = 0

    def update(self, val, n=1):
        self.sum += val * n
        self.count += n
        self.avg = self.sum / self.count


def best_of(accuracies: list[float]) -> float:
    best_acc1 = 0
    for acc1 in accuracies:
        best_acc1 = max(acc1, best_acc1)
    return best_acc1


def discounted(rewards: list[float], gamma: float) -> tuple[float, ...]:
    R = 0.0
    returns = []
    for r in rewards[::-1]:
        R = r + gamma * R
        returns.insert(0, R)
    returns = tuple(returns)
    print(returns.count(0.0))
    return returns


class Masks:  # a value in one branch, None in the other: Optional
    def __init__(self, use: bool) -> None:
        if use:
            self.masks = [1]
            self.q = self.k = [2]
        else:
            self.masks = None
            self.q = self.k = None


class Decoder:  # whisper's beam search: set in reset(), used in update()
    def __init__(self, n: int) -> None:
        self.n = n
        self.finished = None

    def reset(self) -> None:
        self.finished = [{} for _ in range(self.n)]

    def update(self) -> int:
        return len(self.finished)


def center(rank: int, rows: list[float]) -> float:  # dino's rank-0 features
    queries = []
    for r in rows:
        queries.insert(0, r)
    if rank == 0:
        queries = sum(queries)
    if rank == 0:
        queries -= 1.0
        return abs(queries)
    return 0.0


def mean(parts: list[Fraction]) -> Fraction:  # ``correct = 0.0; correct += t``
    total = 0
    for part in parts:
        total += part
    return (total / len(parts)).limit_denominator()


CONFIG = {"vocab_size": 100, "emb_dim": 8, "drop_rate": 0.1, "rope": {"factor": 8.0}}


def width(n: int) -> int:
    return n


def build() -> int:  # LLMs-from-scratch's GPT_CONFIG: each key has its own type
    print(CONFIG["rope"]["factor"], sum(CONFIG.values()))
    return width(CONFIG["emb_dim"]) + width(CONFIG["vocab_size"])


def decode(tokens: list[int], sum_logprobs: list[float]) -> list[str]:
    # whisper's decoding: each stage re-annotates the names it changes
    tokens: list[str] = [str(t) for t in tokens]
    sum_logprobs: float = sum(sum_logprobs)
    return [t * int(sum_logprobs) for t in tokens]


def dropout_seq(seq, mask):
    b, n, *_, device = *seq.shape, seq.device
    print(b + n, device, mask)
    return b * n


def finalize(scores: list[float]) -> list[str]:
    # whisper's too: a name unpacked from a call, then annotated anew
    tokens, total = scores, sum(scores)
    tokens: list[str] = [str(t) for t in tokens]
    return [t * int(total) for t in tokens]
'''

WRONG = '''"""The same shapes with types the user wrote: mypy's findings stay."""


class Meter:
    def reset(self) -> None:
        self.avg: int = 0

    def update(self, total: float, count: int) -> None:
        self.avg = total / count


def best_of(accuracies: list[float]) -> float:
    best: int = 0
    for acc in accuracies:
        best = max(acc, best)
    return best


def names(items: list[str]) -> None:
    found: list[str] = []
    found = tuple(items)
    print(found)


class Declared:
    def __init__(self) -> None:
        self.finished: None = None

    def reset(self) -> None:
        self.finished = [{}]


def center(rank: int, rows: list[float]) -> float:
    queries: list[float] = []
    if rank == 0:
        queries = sum(rows)
    return abs(queries)


def shape(seq: tuple[int, int]) -> int:
    b, n, device = *seq, 1, 2
    return b + n + device


def declared(parts):
    from fractions import Fraction

    total: int | Fraction = 0
    for part in parts:
        total += part
    return (total / len(parts)).limit_denominator()


def count(n: int) -> int:
    return n


SIZES = {"a": 1.5, "b": 2.5}  # every value a float: a dict[str, float] indeed
print(count(SIZES["a"]))


def once(tokens: list[int]) -> list[str]:
    return tokens  # annotated once: the mismatch is reported
'''


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    """Run ``mlqa types`` once over both files."""
    root = tmp_path_factory.mktemp("guesses")
    # the untyped bodies here test the other filters, not mypy_untyped's
    (root / "pyproject.toml").write_text(
        "[project]\nname = 'p'\n[tool.mlqa]\nreport-untyped-guesses = true\n"
    )
    (root / "clean.py").write_text(CLEAN)
    (root / "wrong.py").write_text(WRONG)
    code, items, stderr = mlqa_types(root, "clean.py", "wrong.py")
    assert code in (0, 1), stderr
    return items


def test_placeholders_and_untyped_unpacking_check_clean(
    findings: list[dict[str, object]],
) -> None:
    assert [f for f in findings if f["path"] == "clean.py"] == []


def test_types_the_user_wrote_keep_their_findings(
    findings: list[dict[str, object]],
) -> None:
    got = [(f["line"], f["code"]) for f in findings if f["path"] == "wrong.py"]
    assert got == [
        (9, "mypy[assignment]"),  # self.avg: int, given a float
        (15, "mypy[assignment]"),  # best: int, given a float
        (21, "mypy[assignment]"),  # found: list[str] = [] is a declaration
        (30, "mypy[assignment]"),  # so is self.finished: None = None
        (36, "mypy[assignment]"),  # queries: list[float] is a declaration,
        (37, "mypy[arg-type]"),  # so its uses are checked against it
        (41, "mypy[misc]"),  # a typed tuple of the wrong length, and then
        (42, "mypy[has-type]"),  # each name it binds: only ``*untyped`` is
        (42, "mypy[has-type]"),  # forgiven
        (42, "mypy[has-type]"),
        (51, "mypy[union-attr]"),  # total: int | Fraction is a declaration
        (59, "mypy[arg-type]"),  # a homogeneous dict's value is checked
        (63, "mypy[return-value]"),
    ]


def test_an_unreadable_file_keeps_the_findings(tmp_path: Path) -> None:
    from mlqa.diagnostics import Finding
    from mlqa.tools.mypy_guesses import drop_guesses

    gone = str(tmp_path / "gone.py")
    message = (
        'Incompatible types in assignment (expression has type "float", '
        'variable has type "int")'
    )
    kept = [
        Finding(gone, 3, 5, "assignment", message),
        # one of each kind the other filters read the source for
        Finding(gone, 4, 1, "name-defined", 'Name "start_time" is not defined'),
        Finding(gone, 5, 1, "attr-defined", 'Module has no attribute "check"'),
        Finding(
            gone, 6, 1, "no-redef", 'Name "D" already defined (possibly by an import)'
        ),
        Finding(gone, 7, 1, "misc", 'Invalid base class "optim"'),
        Finding(
            gone,
            8,
            9,
            "arg-type",
            'Argument "key" to "max" has incompatible type overloaded function; '
            'expected "Callable[[str], Any]"',
        ),
        Finding(
            gone,
            9,
            1,
            "assignment",
            'Incompatible types in assignment (expression has type "None", '
            "variable has type overloaded function)",
        ),
        Finding(
            gone,
            10,
            1,
            "union-attr",
            'Item "str" of "str | Any" has no attribute "cfg"',
        ),
    ]
    assert drop_guesses(kept, optional_uses=True) == kept


OPTIONAL = """def shout(name: str | None, default: int = None) -> str:
    return name.upper() + str(default)
"""


@pytest.mark.parametrize("report", [False, True])
def test_optional_uses_reported_only_when_asked(tmp_path: Path, report: bool) -> None:
    setting = "\n[tool.mlqa]\nreport-optional-uses = true\n" if report else ""
    (tmp_path / "pyproject.toml").write_text(f"[project]\nname = 'p'\n{setting}")
    (tmp_path / "optional.py").write_text(OPTIONAL)
    _, items, stderr = mlqa_types(tmp_path, "optional.py")
    codes = [item["code"] for item in items]
    # the None default of an int parameter is where None comes from: always
    # reported; name.upper() on a str | None only when asked
    expected = ["mypy[assignment]"] + (["mypy[union-attr]"] if report else [])
    assert codes == expected, stderr
