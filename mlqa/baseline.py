"""Baselines: adopt mlqa on a legacy repo, fail only on new findings.

``mlqa run --baseline FILE`` writes FILE with today's findings when it does
not exist, and honours it when it does: a finding the baseline holds is
counted but does not fail the run. Entries match on the file (relative to the
project root), the code and a fingerprint of the finding's line text and
message, never on line numbers, so code added above a finding does not turn
it into a new one; a count per entry keeps duplicates honest (three ``F401``
on identical lines baseline three, not every future one). The format, a JSON
object with a version field, is documented in ``docs/run.md``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from mlqa.diagnostics import Finding, InputError
from mlqa.files import relative, write_atomic

VERSION = 1
#: Codes about a whole file, reported at 1:1: the text of line 1 says nothing
#: about them (a licence header added on top must not make them new).
FILE_CODES = frozenset({"format", "D100", "D104"})
_NUMBER_AFTER_LINE = re.compile(r"\b(line|lines) \d+", re.IGNORECASE)
_CELL = re.compile(r"^\[cell \d+, line \d+\] ")
_SPACE = re.compile(r"\s+")


class Key(NamedTuple):
    """What a baseline entry matches: file, code and content fingerprint.

    Attributes:
        path: The file, relative to the project root, with forward slashes.
        code: The finding's code.
        fingerprint: See :func:`fingerprint`.
    """

    path: str
    code: str
    fingerprint: str


class Split(NamedTuple):
    """Findings split by a baseline.

    Attributes:
        new: Findings the baseline does not hold: these fail the run.
        baselined: Findings the baseline holds.
        stale: Baseline entries no finding matched any more (fixed code).
    """

    new: list[Finding]
    baselined: list[Finding]
    stale: int


def normalise(text: str) -> str:
    """Normalise a line or message for fingerprinting.

    Whitespace runs become one space (re-indenting a block keeps its
    findings), numbers after "line" become ``N`` (mypy's "defined on
    line 12" survives a shift) and a notebook finding's ``[cell N, line M]``
    goes (a cell inserted above keeps it).

    Args:
        text: The text.

    Returns:
        The normalised text.
    """
    text = _CELL.sub("", text.strip())
    return _SPACE.sub(" ", _NUMBER_AFTER_LINE.sub(r"\1 N", text)).strip()


def fingerprint(line_text: str, message: str) -> str:
    """Fingerprint a finding by its line's text and its message.

    Args:
        line_text: The source line the finding points at ("" for whole-file
            findings and notebooks).
        message: The finding's message.

    Returns:
        16 hex digits of a SHA-256.
    """
    data = f"{normalise(line_text)}\0{normalise(message)}".encode()
    return hashlib.sha256(data).hexdigest()[:16]


class _Lines:
    """Source lines per file, read once."""

    def __init__(self) -> None:
        self._cache: dict[str, list[str]] = {}

    def get(self, path: str, line: int) -> str:
        if path not in self._cache:
            try:
                data = Path(path).read_bytes()
            except OSError:
                data = b""
            self._cache[path] = data.decode("utf-8", "replace").splitlines()
        lines = self._cache[path]
        return lines[line - 1] if 0 < line <= len(lines) else ""


def keys(findings: Iterable[Finding], root: Path) -> list[tuple[Key, Finding]]:
    """Compute the baseline key of each finding.

    Args:
        findings: Findings whose paths are as displayed (relative to the cwd
            or absolute).
        root: The project root the baseline's paths are relative to.

    Returns:
        (key, finding) pairs in the order given.
    """
    lines = _Lines()
    out = []
    for f in findings:
        # A notebook finding's line is the .ipynb line holding the cell's
        # source line (JSON-escaped): its text fingerprints as well.
        whole = f.code in FILE_CODES or f.code.startswith("NB")
        text = "" if whole else lines.get(f.path, f.line)
        key = Key(relative(Path(f.path), root), f.code, fingerprint(text, f.message))
        out.append((key, f))
    return out


def load(path: Path) -> Counter[Key]:
    """Read a baseline file.

    Args:
        path: The file.

    Returns:
        How many findings each key may absorb.

    Raises:
        InputError: If the file is unreadable, not JSON or not a version 1
            baseline.
    """
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(path, f"cannot read baseline: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        col = getattr(exc, "colno", None)
        raise InputError(path, f"invalid baseline: {exc}", line, col) from None
    if not isinstance(doc, dict) or doc.get("version") != VERSION:
        found = doc.get("version") if isinstance(doc, dict) else None
        raise InputError(
            path, f"not an mlqa baseline of version {VERSION} (version={found!r})"
        )
    budget: Counter[Key] = Counter()
    entries = doc.get("findings")
    if not isinstance(entries, list):
        raise InputError(path, "invalid baseline: 'findings' must be a list")
    for index, entry in enumerate(entries):
        try:
            key = Key(str(entry["path"]), str(entry["code"]), str(entry["fingerprint"]))
            count = int(entry.get("count", 1))
        except (TypeError, KeyError, ValueError, AttributeError):
            message = f"invalid baseline: entry {index} needs path, code, fingerprint"
            raise InputError(path, message) from None
        budget[key] += count
    return budget


def write(path: Path, findings: Sequence[Finding], root: Path) -> int:
    """Write a baseline holding every finding.

    Args:
        path: The baseline file (replaced atomically).
        findings: Today's findings.
        root: The project root paths are made relative to.

    Returns:
        How many findings it holds.
    """
    counts: Counter[Key] = Counter()
    messages: dict[Key, str] = {}
    for key, finding in keys(findings, root):
        counts[key] += 1
        messages.setdefault(key, finding.message)
    entries: list[dict[str, Any]] = [
        {
            "path": key.path,
            "code": key.code,
            "fingerprint": key.fingerprint,
            "count": counts[key],
            "message": messages[key],
        }
        for key in sorted(counts)
    ]
    doc = {"version": VERSION, "tool": "mlqa", "findings": entries}
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    write_atomic(path, text.encode("utf-8"))
    return len(findings)


def split(findings: Sequence[Finding], budget: Counter[Key], root: Path) -> Split:
    """Split findings into new ones and those the baseline holds.

    Args:
        findings: Findings, in the order to consume the counts.
        budget: The baseline, from :func:`load`; each match uses one of its
            counts, so several calls (one per step) share it.
        root: The project root.

    Returns:
        The split; ``stale`` counts the entries still unused after it.
    """
    new: list[Finding] = []
    held: list[Finding] = []
    for key, finding in keys(findings, root):
        if budget[key] > 0:
            budget[key] -= 1
            held.append(finding)
        else:
            new.append(finding)
    return Split(new, held, sum(n for n in budget.values() if n > 0))
