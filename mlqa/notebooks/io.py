"""The one notebook reader and writer: bytes in, nbformat-identical bytes out.

Reading is :func:`read_bytes` (a regular file, or a one-line error) ->
:func:`decode` (UTF-8 through :func:`mlqa.diagnostics.decode_source`) ->
:func:`parse_json` (one-line errors with line and column) -> :func:`load`
(an nbformat 4 notebook, structure checked) -> :func:`normalise` (what
``nbformat.read`` does: lines joined, transient keys dropped). Writing is
:func:`dumps`: the exact text ``nbformat.write`` produces. ``mlqa strip`` and
the code-cell reader (:mod:`mlqa.notebooks.cells`) share these.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from mlqa.diagnostics import InputError, decode_source
from mlqa.notebooks import upstream
from mlqa.notebooks.encode import encode

_BOM = b"\xef\xbb\xbf"


def read_bytes(path: str | Path) -> bytes:
    """Read a file, turning every failure into an InputError.

    Args:
        path: The file.

    Returns:
        Its bytes.

    Raises:
        InputError: If it is a directory, not a regular file, missing or unreadable.
    """
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise InputError(path, "is a directory, not a notebook")
        if not stat.S_ISREG(mode):  # a FIFO or device would block or never end
            raise InputError(path, "not a regular file")
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise InputError(path, f"cannot read file: {exc.strerror or exc}") from None


def without_bom(data: bytes, path: str) -> bytes:
    """Drop a UTF-8 byte order mark; reject an empty file.

    Args:
        data: The file's bytes.
        path: The file, for messages.

    Returns:
        The bytes after the mark.

    Raises:
        InputError: If nothing but whitespace is left.
    """
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    if not data or data.isspace():
        raise InputError(path, "not a notebook: the file is empty")
    return data


def decode(data: bytes, path: str) -> str:
    """Decode a notebook's bytes (UTF-8; a byte order mark is dropped).

    Args:
        data: The file's bytes.
        path: The file, for messages.

    Returns:
        The text.

    Raises:
        InputError: On an empty file or bytes that are not UTF-8 text.
    """
    return decode_source(without_bom(data, path), path)


def parse_json(text: str, path: str | Path, what: str = "JSON") -> Any:
    """Parse JSON text; a syntax error is a one-line error with its position.

    Args:
        text: The text.
        path: The file, for messages.
        what: What the text is, for messages (``invalid {what}: ...``).

    Returns:
        The value, as plain dicts and lists.

    Raises:
        InputError: On invalid JSON.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            path, f"invalid {what}: {exc.msg}", exc.lineno, exc.colno
        ) from None
    except RecursionError:
        raise InputError(path, f"invalid {what}: nested too deeply") from None


def kind(value: object) -> str:
    """Name a JSON value's type as JSON does: an object, an array, a string ...

    Args:
        value: A parsed JSON value.

    Returns:
        The name with its article.
    """
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def _check_top(nb: Any, path: str) -> None:
    if not isinstance(nb, dict):
        raise InputError(
            path, f"not a notebook: the top-level JSON value is {kind(nb)}"
        )
    if "nbformat" not in nb:
        raise InputError(path, "not a notebook: no 'nbformat' version key")
    major = nb["nbformat"]
    if type(major) is not int or major != 4:
        raise InputError(
            path,
            f"unsupported nbformat version {major!r}: only nbformat 4 notebooks are handled",
        )
    minor = nb.get("nbformat_minor", 0)
    if type(minor) is not int:
        raise InputError(
            path, f"invalid notebook: nbformat_minor must be an integer, got {minor!r}"
        )
    if "cells" not in nb:
        raise InputError(path, "invalid notebook: no 'cells' list")
    if not isinstance(nb["cells"], list):
        raise InputError(
            path, f"invalid notebook: 'cells' is {kind(nb['cells'])}, not an array"
        )
    if not isinstance(nb.get("metadata"), dict):
        raise InputError(path, "invalid notebook: no 'metadata' object")


def check_structure(nb: Any, path: str) -> None:
    """Reject what nbformat or nbstripout would crash on, with a clear message.

    Args:
        nb: The parsed JSON value.
        path: The file, for messages.

    Raises:
        InputError: If ``nb`` is not an nbformat 4 notebook.
    """
    _check_top(nb, path)
    for index, cell in enumerate(nb["cells"]):
        where = f"invalid notebook: cell {index}"
        if not isinstance(cell, dict):
            raise InputError(path, f"{where} is {kind(cell)}, not an object")
        if not isinstance(cell.get("cell_type"), str):
            raise InputError(path, f"{where} has no 'cell_type' string")
        if not isinstance(cell.get("metadata"), dict):
            raise InputError(path, f"{where} has no 'metadata' object")
        if "id" in cell and not isinstance(cell["id"], str):
            raise InputError(path, f"{where}: 'id' must be a string")
        source = cell.get("source", "")
        if not isinstance(source, str) and not (
            isinstance(source, list) and all(isinstance(line, str) for line in source)
        ):
            raise InputError(
                path, f"{where}: 'source' must be a string or an array of strings"
            )
        if cell["cell_type"] == "code":
            outputs = cell.get("outputs")
            if not isinstance(outputs, list):
                raise InputError(
                    path, f"{where} is a code cell without an 'outputs' array"
                )
            for number, output in enumerate(outputs):
                if not isinstance(output, dict) or not isinstance(
                    output.get("output_type"), str
                ):
                    raise InputError(
                        path,
                        f"{where}: output {number} is not an object with an 'output_type'",
                    )


def load(text: str, path: str, nodes_everywhere: bool = True) -> Any:
    """Parse notebook JSON and check that it is an nbformat 4 notebook.

    Args:
        text: The notebook text.
        path: The file, for messages.
        nodes_everywhere: Give every object attribute access, as nbformat does;
            otherwise only the notebook, its metadata, cells, cell metadata and
            outputs, which is all nbstripout and nbformat's line helpers use
            (and saves building a node for every object inside outputs).

    Returns:
        The parsed notebook, before nbformat's read normalisation.

    Raises:
        InputError: On invalid JSON or a value that is not an nbformat 4 notebook.
    """
    if nodes_everywhere:
        try:
            nb = json.loads(text, object_hook=upstream.Node)
        except (json.JSONDecodeError, RecursionError):
            parse_json(text, path)  # raises the one-line error
            raise  # pragma: no cover - parse_json raised
    else:
        nb = parse_json(text, path)
    check_structure(nb, path)
    if nodes_everywhere:
        return nb
    return as_nodes(nb)


def as_nodes(nb: Any) -> Any:
    """Give attribute access to the parts nbstripout and nbformat's helpers use.

    Args:
        nb: A notebook of plain dicts (structure already checked).

    Returns:
        The notebook, its metadata, cells, cell metadata and outputs as nodes.
    """
    Node = upstream.Node
    nb = Node(nb)
    nb["metadata"] = Node(nb["metadata"])
    cells = nb["cells"]
    for index, cell in enumerate(cells):
        cell = cells[index] = Node(cell)
        cell["metadata"] = Node(cell["metadata"])
        outputs = cell.get("outputs")
        if outputs:
            cell["outputs"] = [Node(output) for output in outputs]
    return nb


def normalise_ids(nb: Any) -> None:
    """Give cells missing or duplicate ids new ones, as ``nbformat.validate`` does.

    nbformat does this for nbformat 4.5 and later while reading. The new ids are
    random 8 hex digits (as ``uuid4().hex[:8]`` in nbformat's ``generate_corpus_id``).

    Args:
        nb: The notebook, changed in place.
    """
    if (nb["nbformat"], nb.get("nbformat_minor", 0)) < (4, 5):
        return
    cells = nb["cells"]
    if all("id" in cell for cell in cells) and len(
        {cell["id"] for cell in cells}
    ) == len(cells):
        return
    for cell in cells:
        if "id" not in cell:
            cell["id"] = os.urandom(4).hex()
    seen = set()
    for cell in cells:
        cell_id = cell["id"]
        if cell_id in seen:
            cell["id"] = os.urandom(4).hex()
        seen.add(cell_id)


def parse(text: str, path: str) -> Any:
    """Parse a notebook as ``nbformat.read`` does (joined lines, no transient keys).

    Args:
        text: The notebook text.
        path: The file, for messages.

    Returns:
        The notebook: dicts with attribute access, multi-line values joined.

    Raises:
        InputError: On invalid JSON or a value that is not an nbformat 4 notebook.
    """
    nb = load(text, path)
    upstream.rejoin_lines(nb)
    upstream.strip_transient(nb)
    return nb


def read_notebook(path: str | Path) -> Any:
    """Read a notebook file as nbformat's reader returns it, without nbformat.

    Args:
        path: The ``.ipynb`` file.

    Returns:
        The notebook: dicts with attribute access, sources joined into strings.

    Raises:
        InputError: If the file cannot be read or is not an nbformat 4 notebook.
    """
    return parse(decode(read_bytes(path), str(path)), str(path))


def dumps(nb: Any) -> str:
    """Serialise a notebook exactly as ``nbformat.write`` does.

    The notebook is changed in place (multi-line values split into lists of
    lines); nbformat works on a deep copy instead, which costs more than the
    rest of the write.

    Args:
        nb: The notebook, as read by :func:`read_notebook`.

    Returns:
        The JSON text, ending in a newline.
    """
    upstream.split_lines(nb)
    upstream.strip_transient(nb)
    return encode(nb) + "\n"
