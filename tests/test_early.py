"""Tests for mlqa.early: ruff started before mlqa knows its command line.

Each test runs the real ``mlqa lint`` in a subprocess (the early start lives
in the command-line door) with real ruff, and compares its output with what
the normal path gives: a saved command line may only ever save time.
"""

from __future__ import annotations

import marshal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlqa import __version__
from mlqa.early import SAVED
from mlqa.tools.ruff import ruff_binary

SOURCE = "import os\nimport sys\n\n\ndef f(x):\n    return x == None\n"


def lint(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlqa", "lint", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "a.py").write_text(SOURCE)
    (tmp_path / "b.py").write_text("x = 1\n")
    return tmp_path


def saved(root: Path) -> tuple[str, list[str], str]:
    data = marshal.loads((root / SAVED).read_bytes())
    assert isinstance(data, tuple)
    return data


def test_a_run_saves_its_command_and_the_next_gives_the_same_output(
    project: Path,
) -> None:
    first = lint(project, "a.py", "b.py")
    version, prefix, cwd = saved(project)
    assert (version, cwd) == (__version__, str(project))
    assert prefix[1] == "check" and prefix[-1] == "--" and "--fix" not in prefix
    assert (project / ".mlqa_cache" / ".gitignore").read_text().endswith("*\n")
    second = lint(project, "a.py", "b.py")
    assert first.returncode == second.returncode == 1
    assert second.stdout == first.stdout
    assert "F401" in first.stdout and "E711" in first.stdout


# A command that leaves a file behind if it is allowed to finish.
LEAVES_A_MARK = [
    sys.executable,
    "-c",
    "import time; time.sleep(1); open('ran', 'w').close()",
    "--",
]


OTHER_RULES = [ruff_binary(), "check", "--output-format=concise", "--force-exclude",
               "--quiet", "--config", 'lint.select = ["F401"]', "--"]  # fmt: skip


@pytest.mark.parametrize(
    "prefix",
    [
        # mlqa's own kind of command, other rules: started, then stopped, not used
        OTHER_RULES,
        # options mlqa never passes: not started
        [ruff_binary(), "check", "--isolated", "--select", "F401", "--"],
        # a program that is no ruff at all: never started
        LEAVES_A_MARK,
        # a program that does not exist: nothing starts
        ["/nonexistent/ruff", "check", "--"],
        # a fixing command, or one that writes a file: never started
        [ruff_binary(), "check", "--fix", "--"],
        [ruff_binary(), "check", "--config", 'output-file = "ran"', "--"],
    ],
    ids=["other-rules", "other-options", "other-program", "missing-program",
         "fix", "output-file"],  # fmt: skip
)
def test_a_foreign_saved_command_changes_nothing(
    project: Path, prefix: list[str]
) -> None:
    expected = lint(project, "a.py")
    (project / SAVED).write_bytes(marshal.dumps((__version__, prefix, str(project))))
    assert not (project / "ran").exists()
    got = lint(project, "a.py")
    assert (got.returncode, got.stdout, got.stderr) == (
        expected.returncode,
        expected.stdout,
        expected.stderr,
    )
    assert (project / "a.py").read_text() == SOURCE  # --fix never ran
    assert saved(project)[1] != prefix  # the real command replaced it
    if prefix is LEAVES_A_MARK:
        time.sleep(1.3)
    assert not (project / "ran").exists()  # no foreign program, no written file


@pytest.mark.parametrize(
    "content", [b"", b"\x00garbage", marshal.dumps(("0.0.0", ["ruff"], "/"))]
)
def test_an_unreadable_or_old_saved_command_is_ignored(
    project: Path, content: bytes
) -> None:
    expected = lint(project, "a.py")
    (project / SAVED).write_bytes(content)
    got = lint(project, "a.py")
    assert (got.returncode, got.stdout) == (expected.returncode, expected.stdout)


def test_excluded_files_are_left_out_as_without_it(project: Path) -> None:
    lint(project, "a.py", "b.py")  # saves the command
    with (project / "pyproject.toml").open("a") as handle:
        handle.write('\n[tool.mlqa]\nexclude = ["a.py"]\n')
    got = lint(project, "a.py", "b.py")
    assert (got.returncode, got.stdout) == (0, "")


def test_cache_off_saves_nothing(project: Path) -> None:
    with (project / "pyproject.toml").open("a") as handle:
        handle.write("\n[tool.mlqa]\ncache = false\n")
    assert lint(project, "a.py").returncode == 1
    assert not (project / SAVED).exists()


def test_a_config_error_after_an_early_start_is_one_line(project: Path) -> None:
    marshalled = marshal.dumps((__version__, OTHER_RULES, str(project)))
    (project / SAVED).parent.mkdir()
    (project / SAVED).write_bytes(marshalled)
    (project / "pyproject.toml").write_text("[tool.mlqa\n")
    got = lint(project, "a.py")
    assert got.returncode == 2
    assert "Traceback" not in got.stderr and len(got.stderr.splitlines()) == 1


def test_only_mlqa_s_own_kind_of_command_is_trusted() -> None:
    from mlqa.early import trusted

    assert trusted(OTHER_RULES)
    assert trusted([ruff_binary(), "check", "--no-cache", "--"])
    for prefix in (
        [ruff_binary(), "check"],  # no "--": the files would be options
        [ruff_binary(), "check", "--config", "--"],
        [ruff_binary(), "check", "--add-noqa", "--"],
        [ruff_binary(), "check", "--config", 'cache-dir = "/tmp/x"', "--"],
        [ruff_binary(), "format", "--"],
        ["ruff", "check", "--"],  # whichever ruff is on PATH
    ):
        assert not trusted(prefix), prefix
