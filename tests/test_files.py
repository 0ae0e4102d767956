"""Tests for mlqa.files: discovery with git, without git, and exclude globs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlqa.diagnostics import InputError
from mlqa.files import discover, is_excluded, write_atomic


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


def test_walk_without_git(tmp_path: Path) -> None:
    make_tree(tmp_path)
    found = discover([tmp_path], (".py", ".pyi", ".ipynb"), tmp_path, ["examples/**"])
    assert rel(found, tmp_path) == [
        "ignored/z.py",
        "nb/n.ipynb",
        "src/a.py",
        "src/b.pyi",
    ]


def test_git_honours_gitignore(tmp_path: Path) -> None:
    make_tree(tmp_path)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    found = discover([tmp_path], (".py",), tmp_path)
    assert rel(found, tmp_path) == ["examples/demo/x.py", "src/a.py"]


def test_explicit_files_kept_unless_excluded(tmp_path: Path) -> None:
    make_tree(tmp_path)
    notes = tmp_path / "src/notes.txt"
    demo = tmp_path / "examples/demo/x.py"
    assert discover([notes, demo, notes], (".py",), tmp_path, ["examples/**"]) == [
        notes
    ]


def test_is_excluded_patterns(tmp_path: Path) -> None:
    assert is_excluded(tmp_path / "a/b/c.py", tmp_path, ["a/**"])
    assert is_excluded(tmp_path / "a/b/c.py", tmp_path, ["b"])
    assert is_excluded(tmp_path / "a/b/c.py", tmp_path, ["*.py"])
    assert not is_excluded(tmp_path / "a/b/c.py", tmp_path, ["c"])
    assert not is_excluded(tmp_path / "a/b/c.py", tmp_path, [])


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
