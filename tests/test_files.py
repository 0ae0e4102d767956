"""Tests for mlqa.files: discovery with git, without git, and exclude globs."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mlqa.files import discover, is_excluded


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
