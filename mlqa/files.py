"""Which files a command looks at: explicit files as given, directories walked.

Directories inside a git work tree are listed with ``git ls-files`` (so
``.gitignore`` is honoured); elsewhere they are walked, skipping virtual
environments, caches and hidden directories. ``[tool.mlqa] exclude`` globs
apply to both.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

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


def relative(path: Path, root: Path) -> str:
    """Return ``path`` relative to ``root`` in posix form, else as given.

    Args:
        path: Any path.
        root: The directory to make it relative to.

    Returns:
        The relative posix path, or ``path`` unchanged when outside ``root``.
    """
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def is_excluded(path: Path, root: Path, patterns: Sequence[str]) -> bool:
    """Tell whether ``path`` matches one of the exclude globs.

    A pattern matches the path relative to ``root`` (``examples/**``), or any
    single component of it (``legacy``).

    Args:
        path: The file or directory.
        root: The project root the globs are relative to.
        patterns: Glob patterns.

    Returns:
        True when excluded.
    """
    if not patterns:
        return False
    import fnmatch

    rel = relative(path, root)
    parts = rel.split("/")
    for pattern in patterns:
        pat = pattern.rstrip("/")
        if fnmatch.fnmatchcase(rel, pat) or fnmatch.fnmatchcase(rel, pat + "/**"):
            return True
        if pat.endswith("/**") and (rel + "/").startswith(pat[:-2]):
            return True
        if "/" not in pat and any(fnmatch.fnmatchcase(part, pat) for part in parts):
            return True
    return False


def _git_files(directory: Path) -> list[Path] | None:
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
    return [directory / name for name in names if name]


def _walk(directory: Path) -> list[Path]:
    found: list[Path] = []
    for current, dirs, files in os.walk(directory):
        dirs[:] = sorted(
            d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")
        )
        found += [Path(current) / name for name in sorted(files)]
    return found


def discover(
    paths: Iterable[str | Path],
    suffixes: Sequence[str],
    root: Path,
    exclude: Sequence[str] = (),
) -> list[Path]:
    """Expand paths into the files to check.

    Explicit files are kept whatever their suffix (pre-commit already chose
    them), unless excluded; directories are expanded to files with one of
    ``suffixes``.

    Args:
        paths: Files and directories.
        suffixes: File suffixes to pick inside directories, e.g. ``(".py",)``.
        root: The project root, for exclude globs.
        exclude: ``[tool.mlqa] exclude`` globs.

    Returns:
        The files, without duplicates, in a stable order.
    """
    seen: dict[Path, None] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            listed = _git_files(path)
            candidates = _walk(path) if listed is None else sorted(listed)
            for file in candidates:
                if (
                    file.suffix in suffixes
                    and not any(
                        part in SKIP_DIRS for part in file.relative_to(path).parts
                    )
                    and file.is_file()
                    and not is_excluded(file, root, exclude)
                ):
                    seen.setdefault(file, None)
        elif not is_excluded(path, root, exclude):
            seen.setdefault(path, None)
    return list(seen)


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

    target = os.path.realpath(path)
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
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
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
