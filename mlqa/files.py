"""Which files a command looks at: the one file selector every step shares.

``select(paths, config, suffixes)`` is the only way a door (a hook, ``mlqa X``,
``mlqa run``, CI) turns command-line paths into files:

* a **file** named on the command line is kept whatever its suffix (pre-commit
  already chose it), unless ``[tool.mlqa] exclude`` matches it;
* a **directory** is expanded to the files with one of ``suffixes``: inside a
  git work tree with ``git ls-files --cached --others --exclude-standard``
  (every ``.gitignore``, negations included, exactly as git reads them);
  elsewhere by walking it and reading ``.gitignore`` files with ``pathspec``
  (the gitignore engine black and others use), negations included. Virtual
  environments, caches and hidden directories are skipped. A directory that is
  itself ignored but named on the command line is still walked.

``exclude`` globs use **one dialect, gitignore's** (through ``pathspec``): a
pattern without a ``/`` matches a file or directory name at any depth
(``legacy``, ``*.pyi``); a pattern with a ``/`` is anchored at the project root
(``scripts/*.py``); ``*`` never crosses ``/``, ``**`` does
(``scripts/**/*.py``); a trailing ``/`` matches directories only; ``!pattern``
re-includes. The same matcher serves ``per-file-ignores`` and ``config-paths``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import pathspec

    from mlqa.config import Config

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".mlqa_cache",
        ".ipynb_checkpoints",
        "node_modules",
        "build",
        "dist",
        "site-packages",
    }
)

_TEST_DIRS = frozenset({"tests", "test", "testing"})


class Selection(NamedTuple):
    """The files a command looks at.

    Attributes:
        files: Existing files, without duplicates, in a stable order.
        missing: Paths named on the command line that do not exist, as given.
    """

    files: list[Path]
    missing: list[str]


def display(path: Path | str) -> str:
    """Return the path as shown to the user: relative to the cwd when inside it.

    String arithmetic on absolute paths, not ``Path.resolve()``: this runs once
    per file and per finding, and resolving symlinks costs a syscall per part.

    Args:
        path: A file path.

    Returns:
        The path to print, with forward slashes.
    """
    full = os.path.abspath(path)
    cwd = os.getcwd()
    if full.startswith(cwd + os.sep):
        return full[len(cwd) + 1 :].replace(os.sep, "/")
    return (
        full.replace(os.sep, "/")
        if os.path.isabs(path)
        else str(path).replace(os.sep, "/")
    )


def relative(path: Path, root: Path) -> str:
    """Return ``path`` relative to ``root`` in posix form, else as given.

    Args:
        path: Any path.
        root: The directory to make it relative to.

    Returns:
        The relative posix path, or ``path`` unchanged when outside ``root``.
    """
    full, base = os.path.abspath(path), os.path.abspath(root)
    if full == base:
        return "."
    if full.startswith(base.rstrip(os.sep) + os.sep):
        return full[len(base.rstrip(os.sep)) + 1 :].replace(os.sep, "/")
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


@lru_cache(maxsize=64)
def _spec(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(
        p[2:] if p.startswith("./") else p for p in patterns
    )


def matches(rel: str, patterns: Sequence[str], *, directory: bool = False) -> bool:
    """Tell whether a root-relative path matches gitignore-dialect globs.

    Args:
        rel: A posix path relative to the project root.
        patterns: Globs (see the module docstring for the dialect).
        directory: Whether ``rel`` is a directory (so ``name/`` patterns apply).

    Returns:
        True when the last pattern that matches the path (or a directory above
        it) includes it, as in a ``.gitignore``.
    """
    if not patterns:
        return False
    return bool(_spec(tuple(patterns)).match_file(rel + "/" if directory else rel))


def is_excluded(
    path: Path, root: Path, patterns: Sequence[str], *, directory: bool = False
) -> bool:
    """Tell whether ``path`` matches one of the ``exclude`` globs.

    Args:
        path: The file or directory.
        root: The project root the globs are relative to.
        patterns: Globs in the gitignore dialect.
        directory: Whether ``path`` is a directory.

    Returns:
        True when excluded.
    """
    if not patterns:
        return False
    rel = relative(path, root)
    if rel.startswith("../") or os.path.isabs(rel):
        rel = rel.rsplit("/", 1)[-1]  # outside the project: match the name only
    return matches(rel, patterns, directory=directory)


def is_test(rel: str) -> bool:
    """Tell whether a path is test code.

    Test files are ``test_*.py``, ``*_test.py`` and ``conftest.py``, and
    anything under a ``tests``, ``test``, ``testing`` or ``test_*`` directory
    (pytest's default discovery, plus the directories projects keep them in).

    Args:
        rel: A posix path (relative or absolute).

    Returns:
        True for test code.
    """
    parts = rel.replace(os.sep, "/").split("/")
    name = parts[-1]
    stem = name.rsplit(".", 1)[0]
    return (
        stem.startswith("test_")
        or stem.endswith("_test")
        or name == "conftest.py"
        or any(p in _TEST_DIRS or p.startswith("test_") for p in parts[:-1])
    )


def _git_files(directory: Path) -> list[str] | None:
    """List a directory's files as git sees them, or None outside a work tree."""
    import subprocess

    try:
        proc = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=directory,
            capture_output=True,
            check=False,
        )
    except OSError:
        return None
    if proc.returncode != 0:
        return None
    names = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
    return [name for name in names if name]


def _git_ignored(directory: Path) -> bool:
    import subprocess

    try:
        proc = subprocess.run(
            ["git", "check-ignore", "-q", "."], cwd=directory, capture_output=True
        )
    except OSError:
        return False
    return proc.returncode == 0


class _Ignores:
    """The ``.gitignore`` files met on a walk, applied as git applies them."""

    def __init__(self) -> None:
        self.specs: list[tuple[str, pathspec.GitIgnoreSpec]] = []

    def read(self, directory: str) -> None:
        try:
            with open(os.path.join(directory, ".gitignore"), encoding="utf-8") as f:
                lines = f.read().splitlines()
        except (OSError, UnicodeDecodeError):
            return
        import pathspec

        self.specs.append((directory, pathspec.GitIgnoreSpec.from_lines(lines)))

    def ignored(self, path: str, directory: bool) -> bool:
        decision = False
        for base, spec in self.specs:  # outer files first: deeper ones override
            if not path.startswith(base + os.sep):
                continue
            rel = path[len(base) + 1 :].replace(os.sep, "/")
            include = spec.check_file(rel + "/" if directory else rel).include
            if include is not None:
                decision = include
        return decision


def _walk(
    directory: Path, root: Path, suffixes: Sequence[str], use_gitignore: bool
) -> list[Path]:
    ignores = _Ignores()
    top = os.path.abspath(directory)
    if use_gitignore:
        # .gitignore files from the project root down to the directory walked
        base = os.path.abspath(root)
        chain = [top]
        while chain[-1].startswith(base + os.sep):
            chain.append(os.path.dirname(chain[-1]))
        for parent in reversed(chain[1:]):
            ignores.read(parent)
        if ignores.ignored(top, True):  # named, though ignored: walk it as git does
            use_gitignore, ignores = False, _Ignores()
    found: list[Path] = []
    ends = tuple(suffixes)
    for current, dirs, files in os.walk(top):
        if use_gitignore:
            ignores.read(current)
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in SKIP_DIRS
            and not d.startswith(".")
            and not os.path.exists(os.path.join(current, d, "pyvenv.cfg"))
            and not ignores.ignored(os.path.join(current, d), True)
        )
        shown = directory / os.path.relpath(current, top)
        found += [
            Path(os.path.normpath(shown / name))
            for name in sorted(files)
            if name.endswith(ends)
            and not ignores.ignored(os.path.join(current, name), False)
        ]
    return found


def _expand(directory: Path, suffixes: Sequence[str], root: Path) -> list[Path]:
    listed = _git_files(directory)
    if listed is None:  # not a git work tree: read the .gitignore files ourselves
        return _walk(directory, root, suffixes, use_gitignore=True)
    if not listed and _git_ignored(directory):  # named, though git ignores it
        return _walk(directory, root, suffixes, use_gitignore=False)
    found = []
    for name in sorted(listed):
        if name.endswith(tuple(suffixes)) and SKIP_DIRS.isdisjoint(name.split("/")):
            path = directory / name
            if path.is_file():  # a tracked file may be deleted in the work tree
                found.append(path)
    return found


def select(
    paths: Iterable[str | Path], config: Config, suffixes: Sequence[str]
) -> Selection:
    """Turn command-line paths into the files to check (see the module docstring).

    Args:
        paths: Files and directories, as given.
        config: The project config (its root and ``exclude`` globs).
        suffixes: File suffixes to pick inside directories, e.g. ``(".py",)``.

    Returns:
        The files, and the paths that do not exist.
    """
    exclude = list(config.get("exclude"))
    seen: dict[Path, None] = {}
    missing: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            if exclude and is_excluded(path, config.root, exclude, directory=True):
                continue
            for file in _expand(path, suffixes, config.root):
                if not (exclude and is_excluded(file, config.root, exclude)):
                    seen.setdefault(file, None)
        elif not path.exists():
            missing.append(str(raw))
        elif not (exclude and is_excluded(path, config.root, exclude)):
            seen.setdefault(path, None)
    return Selection(list(seen), missing)


def discover(
    paths: Iterable[str | Path],
    suffixes: Sequence[str],
    root: Path,
    exclude: Sequence[str] = (),
) -> list[Path]:
    """Expand paths into files: :func:`select` for callers without a Config.

    Args:
        paths: Files and directories.
        suffixes: File suffixes to pick inside directories.
        root: The project root, for exclude globs.
        exclude: Gitignore-dialect globs.

    Returns:
        The existing files selected.
    """
    from mlqa.config import Config

    return select(
        paths, Config(root, settings={"exclude": list(exclude)}), suffixes
    ).files


def write_atomic(path: str | Path, data: bytes) -> None:
    """Replace (or create) a file's content atomically, keeping its permission bits.

    The bytes go to a temporary file in the same directory, which then replaces
    the original with ``os.replace``; through a symlink, the link's target is
    replaced and the link stays. On failure the original is untouched and no
    temporary file is left behind.

    Args:
        path: The file to write.
        data: Its new content.

    Raises:
        InputError: If the file cannot be written.
    """
    import contextlib
    import stat

    from mlqa.diagnostics import InputError

    target = os.fspath(path)
    if os.path.islink(target):  # one lstat; realpath costs one per path part
        target = os.path.realpath(target)
    directory, name = os.path.split(target)
    temp = os.path.join(directory, f".{name}.{os.getpid()}.mlqa-tmp")
    try:
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
            if not os.access(target, os.W_OK):
                raise InputError(path, "cannot write file: permission denied")
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(temp, flags, 0o600)
        except FileExistsError:  # left by a killed run with the same pid
            import tempfile

            fd, temp = tempfile.mkstemp(
                prefix=f".{name}.", suffix=".mlqa-tmp", dir=directory
            )
    except OSError as exc:
        raise InputError(path, f"cannot write file: {exc.strerror or exc}") from None
    done = False
    try:
        try:
            fchmod = getattr(os, "fchmod", None)  # not on Windows before 3.13
            with os.fdopen(fd, "wb") as handle:
                if fchmod is not None:
                    fchmod(handle.fileno(), mode)
                handle.write(data)
            if fchmod is None:
                os.chmod(temp, mode)
            os.replace(temp, target)
            done = True
        except OSError as exc:
            message = f"cannot write file: {exc.strerror or exc}"
            raise InputError(path, message) from None
    finally:
        if not done:
            with contextlib.suppress(OSError):
                os.unlink(temp)


def read_lines(path: str) -> list[str]:
    """A file's lines (none when it cannot be read).

    Args:
        path: The file.

    Returns:
        Its lines, undecodable bytes replaced.
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read().splitlines()
    except OSError:
        return []
