"""What ``mlqa init`` plans for one file, and the helpers every planner shares."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from mlqa import __version__
from mlqa.diagnostics import read_text

#: Where mlqa's hook repository lives (what users put after ``repo:``).
REPO_URL = "https://github.com/mlqa-dev/mlqa"
#: The tag of this version, used as the pre-commit ``rev`` and the workflow ref.
REV = f"v{__version__}"


@dataclass(frozen=True)
class Change:
    """The planned content of one file.

    Attributes:
        path: The file, relative to the repository root (POSIX).
        old: Its current text, or None when it does not exist.
        new: The text it will have.
        note: A short description of what changes.
    """

    path: str
    old: str | None
    new: str
    note: str

    @property
    def changed(self) -> bool:
        """Tell whether applying this change would alter the file."""
        return self.old != self.new

    def diff(self) -> str:
        """Return the change as a unified diff (``/dev/null`` for a new file)."""
        old = [] if self.old is None else self.old.splitlines(keepends=True)
        new = self.new.splitlines(keepends=True)
        lines = difflib.unified_diff(
            old,
            new,
            "/dev/null" if self.old is None else f"a/{self.path}",
            f"b/{self.path}",
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def read(root: Path, rel: str) -> str | None:
    """Read a file of the repository.

    Args:
        root: The repository root.
        rel: The file, relative to the root.

    Returns:
        Its text, or None when it does not exist.

    Raises:
        InputError: If it exists but cannot be read as UTF-8 text.
    """
    path = root / rel
    if not path.exists():
        return None
    return read_text(path)


def newline(text: str) -> str:
    """Return the line break a text uses: CRLF if it has any, else LF.

    Args:
        text: The text.

    Returns:
        The line break to write new lines with.
    """
    return "\r\n" if "\r\n" in text else "\n"
