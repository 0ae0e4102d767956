"""Findings and how they are printed: text, json, github and sarif.

Every hook and command reports through this module, so one finding looks the
same whichever door it came through.
"""

from __future__ import annotations

import sys
from typing import IO, TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path


FORMATS = ("text", "json", "github", "sarif")

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


class Finding(NamedTuple):
    """One problem at one place (immutable, ordered by path, line, column).

    Attributes:
        path: The file, as given on the command line (or relative to the root).
        line: 1-based line number (1 for whole-file findings).
        column: 1-based column number.
        code: The rule or tool code, e.g. ``MLQ101``, ``E501``, ``DOC101``,
            ``mypy[assignment]``: one token, never a bare word.
        message: What is wrong, in one line.
        fixable: Whether the step's own fix (``mlqa format``, ``mlqa lint
            --fix``, ``mlqa strip``) removes it; in json output, not in the
            text, github or sarif output.
    """

    path: str
    line: int
    column: int
    code: str
    message: str
    fixable: bool = False

    def as_text(self) -> str:
        """Return the finding as ``path:line:col: CODE message``."""
        return f"{self.path}:{self.line}:{self.column}: {self.code} {self.message}"


class InputError(Exception):
    """A file or setting that cannot be read: reported as one line, exit 2.

    Args:
        path: The file at fault.
        message: What is wrong with it.
        line: 1-based line, if known.
        column: 1-based column, if known.
    """

    def __init__(
        self,
        path: str | Path,
        message: str,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.path = str(path)
        self.message = message
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


def _undecodable(
    data: bytes, exc: UnicodeDecodeError, name: str
) -> tuple[str, int, int]:
    """Describe a decoding failure: the message, and its 1-based line and column."""
    line = data.count(b"\n", 0, exc.start) + 1
    col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
    return f"not valid {name} (byte 0x{data[exc.start]:02x})", line, col


def _read_bytes(path: str | Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise InputError(path, f"cannot read file: {exc.strerror or exc}") from None


def _check_text(data: bytes, path: str | Path) -> None:
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise InputError(path, "binary file (contains NUL bytes)", line, 1)


def read_text(path: str | Path) -> str:
    """Read a UTF-8 text file, turning every failure into an InputError.

    Args:
        path: The file to read.

    Returns:
        The decoded text (a UTF-8 byte order mark is dropped).

    Raises:
        InputError: If the file is missing, unreadable, binary or not UTF-8.
    """
    data = _read_bytes(path)
    _check_text(data, path)
    try:
        return data.decode("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, *_undecodable(data, exc, "UTF-8")) from None


def decode_source(data: bytes, path: str | Path) -> str:
    """Decode Python source as Python does: UTF-8 unless a PEP 263 cookie says otherwise.

    Args:
        data: The file's bytes.
        path: The file, for messages.

    Returns:
        The source text.

    Raises:
        InputError: If the source is binary, declares an unknown encoding or
            does not decode; the message gives the line and column.
    """
    _check_text(data, path)
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    head = data.split(b"\n", 2)[:2]
    if any(b"coding" in line for line in head):  # a cookie may be there: ask tokenize
        import re
        import tokenize

        cookie = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)

        try:
            encoding, _ = tokenize.detect_encoding(iter(head).__next__)
        except SyntaxError as exc:
            if cookie.search(b"\n".join(head)):
                raise InputError(
                    path, f"bad encoding declaration: {exc.msg}", 1, 1
                ) from None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        name = "UTF-8" if encoding.startswith("utf-8") else encoding
        raise InputError(path, *_undecodable(data, exc, name)) from None


def read_source(path: str | Path) -> str:
    """Read a Python source file with :func:`decode_source`.

    Args:
        path: The file.

    Returns:
        The source text.

    Raises:
        InputError: If the file cannot be read or decoded.
    """
    return decode_source(_read_bytes(path), path)


def _escape_property(value: str) -> str:
    return (
        value.replace("%", "%25")
        .replace("\r", "%0D")
        .replace("\n", "%0A")
        .replace(":", "%3A")
        .replace(",", "%2C")
    )


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _sarif(findings: Sequence[Finding], rules: Mapping[str, str]) -> dict[str, Any]:
    from mlqa import __version__

    codes = sorted({f.code for f in findings} | set(rules))
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "mlqa",
                        "version": __version__,
                        "informationUri": "https://pypi.org/project/mlqa-toolkit/",
                        "rules": [
                            {
                                "id": code,
                                "shortDescription": {"text": rules.get(code, code)},
                            }
                            for code in codes
                        ],
                    }
                },
                "results": [
                    {
                        "ruleId": f.code,
                        "ruleIndex": codes.index(f.code),
                        "level": "error",
                        "message": {"text": f.message},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {
                                        "uri": f.path.replace("\\", "/"),
                                        "uriBaseId": "%SRCROOT%",
                                    },
                                    "region": {
                                        "startLine": f.line,
                                        "startColumn": f.column,
                                    },
                                }
                            }
                        ],
                    }
                    for f in findings
                ],
            }
        ],
    }


def render(
    findings: Iterable[Finding],
    fmt: str = "text",
    rules: Mapping[str, str] | None = None,
) -> str:
    """Render findings in one of FORMATS.

    Args:
        findings: The findings, printed in the order given.
        fmt: ``text``, ``json``, ``github`` or ``sarif``.
        rules: Optional short descriptions by code, used by sarif.

    Returns:
        The rendered text; empty for no findings in text and github formats.

    Raises:
        ValueError: If ``fmt`` is not one of FORMATS.
    """
    items = list(findings)
    if fmt == "text":
        return "".join(f.as_text() + "\n" for f in items)
    import json  # not for text: 1.5 ms of a lint run that waits for nothing else

    if fmt == "json":
        return (
            json.dumps([f._asdict() for f in items], indent=2, ensure_ascii=False)
            + "\n"
        )
    if fmt == "github":
        return "".join(
            f"::error file={_escape_property(f.path)},line={f.line},col={f.column},"
            f"title={_escape_property(f.code)}::{_escape_data(f.code + ' ' + f.message)}\n"
            for f in items
        )
    if fmt == "sarif":
        return (
            json.dumps(_sarif(items, rules or {}), indent=2, ensure_ascii=False) + "\n"
        )
    raise ValueError(f"format={fmt!r} is not one of {', '.join(FORMATS)}")


def emit(
    findings: Iterable[Finding],
    fmt: str = "text",
    stream: IO[str] | None = None,
    rules: Mapping[str, str] | None = None,
) -> int:
    """Print findings and return the matching exit code.

    Args:
        findings: The findings to print.
        fmt: One of FORMATS.
        stream: Where to print; stdout if None.
        rules: Optional short descriptions by code, used by sarif.

    Returns:
        EXIT_FINDINGS if there were findings, else EXIT_CLEAN.
    """
    items = list(findings)
    out = stream if stream is not None else sys.stdout
    text = render(items, fmt, rules)
    if text:
        write(out, text)
        out.flush()
    return EXIT_FINDINGS if items else EXIT_CLEAN


def encodable(stream: IO[str], text: str) -> bool:
    """Tell whether a text stream's encoding can write text as it is.

    Args:
        stream: The stream (its ``encoding``, UTF-8 when it has none).
        text: The text.

    Returns:
        True when every character encodes.
    """
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def write(stream: IO[str], text: str) -> None:
    """Write text, replacing what the stream's encoding cannot encode.

    A console in cp1252 (``PYTHONIOENCODING=cp1252``, many Windows
    terminals) then shows ``?`` for a character it lacks instead of a
    ``UnicodeEncodeError`` traceback.

    Args:
        stream: Where to write.
        text: What to write.
    """
    if not encodable(stream, text):
        encoding = getattr(stream, "encoding", None) or "utf-8"
        try:
            text = text.encode(encoding, "replace").decode(encoding)
        except LookupError:  # pragma: no cover - an encoding Python lacks
            text = text.encode("ascii", "replace").decode("ascii")
    stream.write(text)


def error(message: str) -> int:
    """Print a one-line error to stderr and return EXIT_ERROR.

    Args:
        message: The message, without a trailing newline.

    Returns:
        EXIT_ERROR.
    """
    print(message, file=sys.stderr)
    return EXIT_ERROR
