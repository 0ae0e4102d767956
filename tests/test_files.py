"""Tests for mlqa.files: the one selector (git, walk, gitignore, exclude) and the writer."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlqa.config import Config
from mlqa.diagnostics import InputError
from mlqa.files import is_test, select, write_atomic


def make_tree(root: Path) -> None:
    for name in [
        "src/a.py",
        "src/b.pyi",
        "src/notes.txt",
        "examples/demo/x.py",
        ".venv/lib/site.py",
        "build/gen.py",
        "nb/n.ipynb",
        "nb/.ipynb_checkpoints/n-checkpoint.ipynb",
        "ignored/z.py",
    ]:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")
    (root / ".gitignore").write_text("ignored/\n")


def rel(paths: list[Path], root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in paths)


def git_init(root: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)


def select_rel(root: Path, exclude: list[str], suffixes=(".py", ".pyi", ".ipynb")):
    config = Config(root, settings={"exclude": exclude})
    return rel(select([root], config, suffixes).files, root)


@pytest.mark.parametrize("use_git", [False, True], ids=["walk", "git"])
def test_directories_honour_gitignore_with_and_without_git(
    tmp_path: Path, use_git: bool
) -> None:
    make_tree(tmp_path)
    if use_git:
        git_init(tmp_path)
    assert select_rel(tmp_path, ["examples/**"]) == [
        "nb/n.ipynb",
        "src/a.py",
        "src/b.pyi",
    ]


@pytest.mark.parametrize("use_git", [False, True], ids=["walk", "git"])
def test_gitignore_negation_and_nested_files_agree_with_git(
    tmp_path: Path, use_git: bool
) -> None:
    for name in ["gen/a.py", "gen/keep.py", "pkg/b.py", "pkg/local.py", "c.py"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    (tmp_path / ".gitignore").write_text("gen/*.py\n!gen/keep.py\n")
    (tmp_path / "pkg/.gitignore").write_text("local.py\n")
    if use_git:
        git_init(tmp_path)
    assert select_rel(tmp_path, []) == ["c.py", "gen/keep.py", "pkg/b.py"]


def test_named_ignored_directory_is_still_walked(tmp_path: Path) -> None:
    make_tree(tmp_path)
    git_init(tmp_path)
    config = Config(tmp_path)
    found = select([tmp_path / "ignored"], config, (".py",)).files
    assert rel(found, tmp_path) == ["ignored/z.py"]


@pytest.mark.parametrize(
    ("pattern", "excluded"),
    [
        ("scripts/*.py", ["scripts/a.py"]),  # `*` does not cross `/`
        ("scripts/**/*.py", ["scripts/a.py", "scripts/sub/train.py"]),
        ("scripts/**", ["scripts/a.py", "scripts/sub/train.py"]),
        ("sub", ["scripts/sub/train.py"]),  # no `/`: a name at any depth
        ("train.py", ["scripts/sub/train.py"]),
        ("/a.py", ["a.py"]),  # leading `/`: anchored at the root
        ("*.py", ["a.py", "scripts/a.py", "scripts/sub/train.py"]),
    ],
)
def test_exclude_uses_the_gitignore_dialect(
    tmp_path: Path, pattern: str, excluded: list[str]
) -> None:
    names = ["a.py", "scripts/a.py", "scripts/sub/train.py"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    kept = select_rel(tmp_path, [pattern], (".py",))
    assert kept == sorted(set(names) - set(excluded))
    # files named one by one (as pre-commit passes them) obey the same globs
    config = Config(tmp_path, settings={"exclude": [pattern]})
    named = select([tmp_path / n for n in names], config, (".py",)).files
    assert rel(named, tmp_path) == kept


def test_negated_exclude_re_includes(tmp_path: Path) -> None:
    for name in ["gen/a.py", "gen/keep.py"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    assert select_rel(tmp_path, ["gen/*.py", "!gen/keep.py"], (".py",)) == [
        "gen/keep.py"
    ]


def test_explicit_files_kept_unless_excluded_and_missing_reported(
    tmp_path: Path,
) -> None:
    make_tree(tmp_path)
    notes = tmp_path / "src/notes.txt"
    demo = tmp_path / "examples/demo/x.py"
    config = Config(tmp_path, settings={"exclude": ["examples/**"]})
    selection = select([notes, demo, notes, "nope.py"], config, (".py",))
    assert selection.files == [notes]
    assert selection.missing == ["nope.py"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("tests/test_model.py", True),
        ("pkg/test_model.py", True),
        ("pkg/model_test.py", True),
        ("conftest.py", True),
        ("pkg/testing/helpers.py", True),
        ("test_data/loader.py", True),
        ("pkg/testament.py", False),
        ("pkg/latest.py", False),
        ("train.py", False),
    ],
)
def test_is_test(path: str, expected: bool) -> None:
    assert is_test(path) is expected


def test_write_atomic_replaces_and_keeps_mode(tmp_path: Path) -> None:
    import os

    target = tmp_path / "a.py"
    target.write_text("old\n")
    os.chmod(target, 0o751)
    link = tmp_path / "link.py"
    link.symlink_to(target)
    write_atomic(link, b"new\n")
    assert link.is_symlink() and target.read_text() == "new\n"
    assert os.stat(target).st_mode & 0o777 == 0o751
    write_atomic(tmp_path / "fresh.txt", b"x")  # a new file is created too
    assert (tmp_path / "fresh.txt").read_bytes() == b"x"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "a.py",
        "fresh.txt",
        "link.py",
    ]


def test_write_atomic_failure_leaves_original_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    target = tmp_path / "a.py"
    target.write_text("old\n")

    def boom(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(InputError, match="cannot write file: No space left on device"):
        write_atomic(target, b"new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.py"]
    with pytest.raises(TypeError):
        write_atomic(target, 123)  # type: ignore[arg-type]
    assert [p.name for p in tmp_path.iterdir()] == ["a.py"]


def test_write_atomic_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot write file"):
        write_atomic(tmp_path / "nope" / "a.py", b"x")
