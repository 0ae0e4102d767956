"""Tests for mlqa.tools.docstrings: Google style with zero false positives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlqa.tools import docstrings

VALID = '''"""Utilities for training."""

from collections.abc import Iterator


def scale(x: float, factor: float = 2.0, *args: int, **kwargs: str) -> float:
    """Scale a number.

    Args:
        x: The number.
        factor: How much to multiply by.
        *args: Ignored extras.
        **kwargs: Ignored options.

    Returns:
        The scaled number.

    Raises:
        ValueError: If x is negative.
    """
    if x < 0:
        raise ValueError("negative")
    return x * factor


def count(n: int) -> Iterator[int]:
    """Count up.

    Args:
        n: How far.

    Yields:
        The numbers from 0 to n - 1.
    """
    yield from range(n)


class Model:
    """A model.

    Args:
        width: The width.
    """

    def __init__(self, width: int) -> None:
        self.width = width

    def forward(self, x: float) -> float:
        """Apply the model.

        Args:
            x: The input.

        Returns:
            The output.
        """
        return x * self.width
'''

BROKEN = '''"""Module."""


def scale(x: float, factor: float = 2.0) -> float:
    """Scale a number.

    Args:
        x: The number.

    Returns:
        The scaled number.
    """
    return x * factor


def swap(a: int, b: int) -> tuple[int, int]:
    """Swap.

    Args:
        b: Second.
        a: First.

    Returns:
        The pair.
    """
    return b, a


def undocumented(a):
    return a
'''


def run_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> tuple[int, list[dict[str, object]]]:
    (tmp_path / name).write_text(text)
    code = docstrings.main(["--format", "json", str(tmp_path / name)])
    return code, json.loads(capsys.readouterr().out or "[]")


def test_valid_google_docstrings_have_zero_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, items = run_json(tmp_path, capsys, "good.py", VALID)
    assert items == []
    assert code == 0


def test_signature_mismatches_and_missing_docstrings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, items = run_json(tmp_path, capsys, "bad.py", BROKEN)
    assert code == 1
    found = [(item["line"], item["code"]) for item in items]
    # factor undocumented: one finding (pydoclint alone gives DOC101 + DOC103);
    # a and b in another order: none (the guide has no order rule);
    # no docstring at all: D103
    assert sorted(found) == [(4, "DOC101"), (29, "D103")]


def test_tests_are_exempt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, items = run_json(tmp_path, capsys, "test_thing.py", BROKEN)
    assert (code, items) == (0, [])


def test_user_pydoclint_config_wins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.pydoclint]\nstyle = 'google'\narg-type-hints-in-docstring = true\n"
    )
    code, items = run_json(tmp_path, capsys, "good.py", VALID)
    assert code == 1
    assert {item["code"] for item in items} >= {
        "DOC105"
    }  # types now required in docstrings


def test_unknown_pydoclint_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.pydoclint]\nstyel = 'google'\n")
    (tmp_path / "a.py").write_text(VALID)
    assert docstrings.main([str(tmp_path / "a.py")]) == 2
    assert "[tool.pydoclint] unknown key 'styel'" in capsys.readouterr().err


def test_syntax_error_reported_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "syn.py").write_text("def f(:\n")
    assert docstrings.main([str(tmp_path / "syn.py")]) == 2
    err = capsys.readouterr().err
    assert err.count("syntax error") == 1 and "Traceback" not in err


def test_user_ruff_config_keeps_its_d_ignores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.ruff.lint]\nselect = ['E', 'F']\nignore = ['D103']\n"
        "[tool.ruff.lint.pydocstyle]\nconvention = 'google'\n"
    )
    code, items = run_json(tmp_path, capsys, "bad.py", BROKEN + "\nimport os\n")
    codes = {item["code"] for item in items}
    assert "D103" not in codes  # the project ignores it
    assert (
        "F401" not in codes and "E402" not in codes
    )  # lint's business, not docstrings'
    assert "DOC101" in codes and code == 1


PROPAGATED = '''"""Module."""

import json


def load(text: str) -> object:
    """Parse JSON.

    Args:
        text: The document.

    Returns:
        The value.

    Raises:
        ValueError: If the text is not JSON (raised by json.loads).
    """
    return json.loads(text)
'''


def test_propagated_raises_are_fine_in_the_preset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, items = run_json(tmp_path, capsys, "prop.py", PROPAGATED)
    assert (code, items) == (0, [])
    (tmp_path / "pyproject.toml").write_text("[tool.pydoclint]\nstyle = 'google'\n")
    code, items = run_json(tmp_path, capsys, "prop.py", PROPAGATED)
    assert "DOC502" in {
        item["code"] for item in items
    }  # the user's own table: pydoclint as is


# --- the Google Python Style Guide preset (docs/docstrings.md) -------------

#: The guide's own example (section 3.8.4), with a module docstring.
SAMPLE_CLASS = '''"""The guide's example."""


class SampleClass:
    """Summary of class here.

    Longer class information...
    Longer class information...

    Attributes:
        likes_spam: A boolean indicating if we like SPAM or not.
        eggs: An integer count of the eggs we have laid.
    """

    def __init__(self, likes_spam: bool = False):
        """Initializes the instance based on spam preference.

        Args:
          likes_spam: Defines if instance exhibits this preference.
        """
        self.likes_spam = likes_spam
        self.eggs = 0

    @property
    def butter_sticks(self) -> int:
        """The number of butter sticks we have."""
'''

#: One valid definition per false alarm the old preset gave (issue 10).
FALSE_ALARMS = {
    "callee exception documented": '''
def load(text: str) -> object:
    """Parse JSON.

    Args:
        text: The document.

    Returns:
        The value.

    Raises:
        ValueError: If the text is not JSON.
    """
    return json.loads(text)
''',
    "argument validation not documented": '''
def root(x: float) -> float:
    """Take a square root.

    Args:
        x: A non-negative number.

    Returns:
        The root.
    """
    if x < 0:
        raise ValueError("x must be non-negative")
    return x**0.5
''',
    "NotImplementedError stub": '''
class Base:
    """A base class."""

    def step(self, x: int) -> int:
        """Take a step.

        Args:
            x: The input.

        Returns:
            The output.
        """
        raise NotImplementedError

    def reset(self, x):
        """Reset.

        Args:
            x: The input.

        Returns:
            The state.
        """
        raise NotImplementedError
''',
    "PEP 257 layout the guide does not require": '''
def one(x: int) -> int:
    """
    Return x.
    """

    return x


def two(x: int, y: int) -> int:
    """ Add two numbers.

    Args:
        x: The first.
        y: The second.
    Returns:
        The sum."""
    return x + y
''',
    "summary starting with Returns": '''
def add(a: int, b: int) -> int:
    """Returns the sum of a and b.

    Args:
        a: One number.
        b: Another.
    """
    return a + b
''',
    "contextmanager with Yields": '''
@contextlib.contextmanager
def opened(path):
    """Open a file.

    Args:
        path: Where.

    Yields:
        The open file.
    """
    with open(path) as handle:
        yield handle


@contextlib.contextmanager
def quiet(level: int) -> Iterator[None]:
    """Silence logging below a level.

    Args:
        level: The level.
    """
    yield
''',
    "types in signature and docstring": '''
def fetch(url: str, retries: Optional[int] = None) -> str:
    """Fetch a page.

    Args:
        url (str): The address.
        retries (int, optional): How often to retry.

    Returns:
        str: The page.
    """
    return url * (retries or 1)
''',
    "no annotations": '''
def fetch(url, retries=None):
    """Fetch a page.

    Args:
        url: The address, a string.
        retries: How often to retry, an int.

    Returns:
        The page.
    """
    return url * (retries or 1)
''',
    "documented attributes": '''
class Point:
    """A point.

    Attributes:
        x: The abscissa.
    """

    x: int = 0
    """The abscissa."""
    y: int = 0
''',
    "varargs without stars, class Args": '''
class Wrapper:
    """Wrap a callable.

    Args:
        fn: The callable.
        args: Bound positional arguments.
        kwargs: Bound keyword arguments.
    """

    def __init__(self, fn: Callable[..., int], *args: int, **kwargs: int) -> None:
        self.call = lambda: fn(*args, **kwargs)
''',
    "an @override documents what differs, not every argument": '''
from typing_extensions import override


class Base:
    """An optimizer."""

    def step(self, lr: float, momentum: float) -> None:
        """Take a step.

        Args:
            lr: The learning rate.
            momentum: The momentum.
        """


class Clipped(Base):
    """An optimizer that clips gradients."""

    @override
    def step(self, lr: float, momentum: float) -> None:
        """Take a step, with the gradient clipped first.

        Args:
            lr: Also scales the clipping threshold.
        """
''',
    "Return: heading, as Napoleon reads it (Lightning)": '''
def area(width: float, height: float) -> float:
    """Compute an area.

    Args:
        width: The width.
        height: The height.

    Return:
        The area.
    """
    return width * height
''',
    "one-line docstring": '''
def area(width: float, height: float) -> float:
    """Return the area of a width x height rectangle."""
    return width * height
''',
}

HEADER = '''"""Module."""

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Optional
'''


def test_the_guides_sample_class_is_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_json(tmp_path, capsys, "sample.py", SAMPLE_CLASS) == (0, [])


@pytest.mark.parametrize("case", sorted(FALSE_ALARMS))
def test_no_false_alarm(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, items = run_json(tmp_path, capsys, "ok.py", HEADER + FALSE_ALARMS[case])
    assert (code, items) == (0, [])


#: Real problems, each with the one (line, code) it must give.
PROBLEMS = {
    "missing argument": (
        '''
def scale(x: float, factor: float) -> float:
    """Scale.

    Args:
        x: The number.

    Returns:
        The product.
    """
    return x * factor
''',
        ("def scale", "DOC101"),
        "`factor`",
    ),
    "argument not in the signature": (
        '''
def scale(x: float) -> float:
    """Scale.

    Args:
        x: The number.
        factor: Gone.

    Returns:
        The product.
    """
    return x
''',
        ("def scale", "DOC102"),
        "`factor`",
    ),
    "renamed argument": (
        '''
def scale(x: float, factor: float) -> float:
    """Scale.

    Args:
        x: The number.
        scale: The factor.

    Returns:
        The product.
    """
    return x * factor
''',
        ("def scale", "DOC103"),
        "`scale` but the signature has `factor`",
    ),
    "wrong Args in an __init__ docstring": (
        SAMPLE_CLASS.replace("likes_spam: Defines", "spam: Defines")[
            len('"""The guide\'s example."""\n') :
        ],
        ("def __init__", "DOC103"),
        "`spam`",
    ),
    "wrong Args in a class docstring": (
        '''
class Model:
    """A model.

    Args:
        width: The width.
    """

    def __init__(self, depth: int) -> None:
        self.depth = depth
''',
        ("def __init__", "DOC103"),
        "`width`",
    ),
    "no Returns section": (
        '''
def area(width: float, height: float) -> float:
    """Compute an area.

    Args:
        width: The width.
        height: The height.
    """
    return width * height
''',
        ("def area", "DOC201"),
        "return",
    ),
    "no sections on a multi-line docstring": (
        '''
def area(width: float, height: float) -> float:
    """Compute an area.

    Multiplies the width by the height, both in metres.
    """
    return width * height
''',
        ("def area", "DOC101"),
        "`width`, `height`",
    ),
    "Args entry without a colon": (
        '''
def area(width: float, height: float) -> float:
    """Compute an area.

    Args:
        width: The width.
        height (metres)
            The height.

    Returns:
        The area.
    """
    return width * height
''',
        ("def area", "DOC001"),
        "`name: description`",
    ),
    "a parameter listed twice": (
        '''
def scale(x: float, factor: float) -> float:
    """Scale.

    Args:
        x: The number.
        factor: The factor.
        factor: Again.

    Returns:
        The product.
    """
    return x * factor
''',
        ("def scale", "DOC103"),
        "twice",
    ),
    "an @override naming an argument it does not have": (
        '''
from typing_extensions import override


class Base:
    """An optimizer."""

    def step(self, lr: float) -> None:
        """Take a step.

        Args:
            lr: The learning rate.
        """


class Clipped(Base):
    """An optimizer that clips gradients."""

    @override
    def step(self, lr: float) -> None:  # clipped
        """Take a step, with the gradient clipped first.

        Args:
            threshold: The clipping threshold.
        """
''',
        ("# clipped", "DOC103"),
        "`threshold`",
    ),
    "no Yields section": (
        '''
def count(n: int) -> Iterator[int]:
    """Count up.

    Args:
        n: How far.
    """
    yield from range(n)
''',
        ("def count", "DOC402"),
        "Yields",
    ),
}


LAYOUT = '''
def scale(x: float, factor: float) -> float:
    """Scale a number.
    See https://example.org/scaling

    Args:
        x: The number.
        factor: The factor.

    Returns:
        The product.
    """
    return x * factor


def shift(x: float, by: float) -> float:
    """Shift a number
    See https://example.org/shifting

    Args:
        x: The number.
        by: The offset.

    Returns:
        The sum.
    """
    return x + by


def area(width: float, height: float) -> float:
    """
    Args:
        width: The width.
        height: The height.
    """
    return width * height
'''


def test_one_layout_fault_one_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, items = run_json(tmp_path, capsys, "layout.py", HEADER + LAYOUT)
    docstring = {  # the line of each docstring's opening quotes
        name: line_of(HEADER + LAYOUT, f"def {name}") + 1
        for name in ("scale", "shift", "area")
    }
    assert code == 1
    assert sorted((item["line"], item["code"]) for item in items) == sorted(
        [
            # a punctuated summary line run into the text: the blank line only
            (docstring["scale"], "D205"),
            # an unpunctuated one: both faults
            (docstring["shift"], "D205"),
            (docstring["shift"], "D415"),
            # no summary at all: D205 says it; Args is not reported unreadable
            (docstring["area"], "D205"),
        ]
    )


def line_of(text: str, marker: str) -> int:
    """Return the 1-based line of the first line containing marker."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if marker in line)


@pytest.mark.parametrize("case", sorted(PROBLEMS))
def test_each_problem_is_reported_once(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, (marker, expected), words = PROBLEMS[case]
    code, items = run_json(tmp_path, capsys, "bad.py", HEADER + text)
    assert [(item["line"], item["code"]) for item in items] == [
        (line_of(HEADER + text, marker), expected)
    ]
    assert words in str(items[0]["message"]) and "--" not in str(items[0]["message"])
    assert code == 1


def test_d417_and_pydoclint_give_one_finding_with_the_projects_ruff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.ruff.lint]\nselect = ['D']\n[tool.ruff.lint.pydocstyle]\n"
        "convention = 'google'\n"
    )
    text = PROBLEMS["missing argument"][0]
    code, items = run_json(tmp_path, capsys, "bad.py", HEADER + text)
    line = line_of(HEADER + text, "def scale")
    assert [(item["line"], item["code"]) for item in items] == [(line, "DOC101")]


def test_projects_ruff_without_d_rules_gets_the_guides_codes_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    layout = FALSE_ALARMS["PEP 257 layout the guide does not require"]
    assert run_json(tmp_path, capsys, "ok.py", HEADER + layout) == (0, [])
    (tmp_path / "pyproject.toml").write_text("[tool.ruff.lint]\nselect = ['D']\n")
    code, items = run_json(tmp_path, capsys, "ok.py", HEADER + layout)
    assert "D202" in {item["code"] for item in items}  # the project's own choice
    (tmp_path / "pyproject.toml").write_text(
        "[tool.ruff.lint]\nextend-select = ['D202']\n"
    )
    code, items = run_json(
        tmp_path, capsys, "ok.py", HEADER + layout + BROKEN[len('"""Module."""') :]
    )
    codes = [item["code"] for item in items]
    assert "D202" in codes and "D103" in codes  # the guide's codes, plus D202
    assert "D200" not in codes


NOQA_CASES = [
    ("def scale(x: float, factor: float) -> float:  # noqa: DOC101", True),
    ("def scale(x: float, factor: float) -> float:  # noqa: DOC103", True),
    ("def scale(x: float, factor: float) -> float:  # noqa", True),
    ("def scale(x: float, factor: float) -> float:  # noqa: DOC201", False),
    ("def scale(x: float, factor: float) -> float:  # a comment", False),
]


@pytest.mark.parametrize(("line", "hidden"), NOQA_CASES)
def test_noqa_on_the_def_line(
    line: str, hidden: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = PROBLEMS["missing argument"][0].replace(
        "def scale(x: float, factor: float) -> float:", line
    )
    code, items = run_json(tmp_path, capsys, "n.py", HEADER + text)
    assert (items == []) is hidden and code == (0 if hidden else 1)


def test_noqa_on_a_multiline_signature_or_the_docstring_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = PROBLEMS["missing argument"][0]
    split = text.replace(
        "def scale(x: float, factor: float) -> float:",
        "def scale(\n    x: float,  # noqa: DOC101\n    factor: float,\n) -> float:",
    )
    assert run_json(tmp_path, capsys, "a.py", HEADER + split) == (0, [])
    closing = text.replace(
        '        The product.\n    """', '        The product.\n    """  # noqa: DOC1'
    )
    assert run_json(tmp_path, capsys, "b.py", HEADER + closing) == (0, [])


def test_init_table_equal_to_the_preset_keeps_the_refinements(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import tomlkit

    table = tomlkit.document()
    table["tool"] = {"pydoclint": docstrings.PYDOCLINT_PRESET}
    (tmp_path / "pyproject.toml").write_text(tomlkit.dumps(table))
    code, items = run_json(
        tmp_path, capsys, "ok.py", HEADER + FALSE_ALARMS["no annotations"]
    )
    assert (code, items) == (0, [])


def test_own_table_messages_name_only_the_options_it_sets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.pydoclint]\nstyle = 'google'\narg-type-hints-in-docstring = false\n"
    )
    code, items = run_json(
        tmp_path, capsys, "t.py", HEADER + FALSE_ALARMS["no annotations"]
    )
    messages = {str(item["code"]): str(item["message"]) for item in items}
    assert "DOC106" in messages  # pydoclint's default asks for annotations
    assert all("--" not in m and "arg-type-hints" not in m for m in messages.values())
    code, items = run_json(
        tmp_path,
        capsys,
        "u.py",
        HEADER + FALSE_ALARMS["types in signature and docstring"],
    )
    doc111 = [str(i["message"]) for i in items if i["code"] == "DOC111"]
    assert (
        doc111 and "[tool.pydoclint] arg-type-hints-in-docstring = false" in doc111[0]
    )


def test_pydoclint_private_checker_contract(tmp_path: Path) -> None:
    """Pin what mlqa uses of pydoclint.main._checkFile and its Violation."""
    import inspect

    from pydoclint.main import _checkFile

    params = set(inspect.signature(_checkFile).parameters)
    assert {"style", "allowInitDocstring", "skipCheckingRaises"} <= params
    source = tmp_path / "c.py"
    source.write_text(HEADER + PROBLEMS["renamed argument"][0])
    violations = _checkFile(source, style="google", argTypeHintsInDocstring=False)
    by_code = {v.fullErrorCode: v for v in violations}
    line = line_of(HEADER + PROBLEMS["renamed argument"][0], "def scale")
    assert by_code["DOC103"].line == line and by_code["DOC103"].code == 103
    message = str(by_code["DOC103"].msg)
    assert (
        "in the function signature but not in the docstring: [factor: float]" in message
    )
    assert "in the docstring but not in the function signature: [scale: ]" in message
    broken = tmp_path / "s.py"
    broken.write_text("def f(:\n")
    assert [v.code for v in _checkFile(broken, style="google")] == [2]
