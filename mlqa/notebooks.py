"""``mlqa strip``: strip Jupyter notebook outputs, byte-identical to nbstripout.

The stripping itself is nbstripout's own :func:`nbstripout._utils.strip_output`
(the library, not a rewrite). What differs is the path around it: nbstripout
reads and writes through nbformat, which imports jsonschema and traitlets
(about 0.2 s) and validates every notebook twice; here a notebook is read with
:func:`json.loads` into the same structure nbformat builds, normalised with
nbformat's own ``rejoin_lines``/``strip_transient``/``split_lines`` helpers and
written with exactly nbformat's JSON settings. With default options the bytes
written are the bytes ``nbstripout`` writes, and a file is rewritten exactly
when ``nbstripout`` would rewrite it (when the stripped notebook differs from
the notebook read, not when only the formatting differs).

Exit codes: 0 nothing to strip, 1 files stripped (or, with ``--verify``, files
that would be stripped), 2 usage error or an unreadable or invalid notebook.
"""

from __future__ import annotations

import argparse
import builtins
import importlib
import importlib.util
import json
import os
import stat
import sys
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlqa.diagnostics import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FINDINGS,
    FORMATS,
    Finding,
    InputError,
)
from mlqa.files import write_atomic

#: The code of the finding reported for a notebook that is (or would be) stripped.
CODE = "NB001"

#: Metadata keys nbstripout removes by default (``nbstripout._nbstripout.main``).
DEFAULT_EXTRA_KEYS = (
    "metadata.signature",
    "metadata.widgets",
    "cell.metadata.collapsed",
    "cell.metadata.ExecuteTime",
    "cell.metadata.execution",
    "cell.metadata.heading_collapsed",
    "cell.metadata.hidden",
    "cell.metadata.scrolled",
)

#: nbformat's JSON writer settings (``nbformat.v4.nbjson.JSONWriter.writes``).
_DUMP_SETTINGS: dict[str, Any] = {
    "indent": 1,
    "sort_keys": True,
    "separators": (",", ": "),
    "ensure_ascii": False,
}

_BOM = b"\xef\xbb\xbf"


class _Node(dict[str, Any]):
    """A dict with attribute access, as nbformat's ``NotebookNode``.

    nbstripout and nbformat's line helpers only need ``node.key`` reads and
    writes; building this with ``json.loads(object_hook=...)`` is what
    ``nbformat.from_dict`` does, without importing nbformat.
    """

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __delattr__(self, key: str) -> None:
        try:
            del self[key]
        except KeyError:
            raise AttributeError(key) from None


def _load_light(package: str, relative: str, name: str) -> types.ModuleType:
    """Load one source file of an installed package without its ``__init__``.

    ``nbstripout/__init__`` and ``nbformat/__init__`` import nbformat's
    validator, jsonschema and traitlets (0.2 s); the two files used here need
    none of it. ``from nbformat import NotebookNode`` in nbstripout's
    ``_utils.py`` gets a stand-in module through the loaded module's own
    ``__import__`` (unless nbformat is already imported, which is then used).

    Args:
        package: The top-level package, e.g. ``nbstripout``.
        relative: The file inside it, e.g. ``_utils.py``.
        name: The module name to give the loaded module.

    Returns:
        The executed module.

    Raises:
        ImportError: If the package or file cannot be found or loaded.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(package)
    location = Path(next(iter(spec.submodule_search_locations))) / relative
    file_spec = importlib.util.spec_from_file_location(name, location)
    if file_spec is None or file_spec.loader is None:
        raise ImportError(str(location))
    module = importlib.util.module_from_spec(file_spec)
    stand_in = types.ModuleType("nbformat")
    stand_in.NotebookNode = _Node  # type: ignore[attr-defined]
    real_import = builtins.__import__

    def local_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "nbformat" and "nbformat" not in sys.modules:
            return stand_in
        return real_import(name, *args, **kwargs)

    # The module's own builtins: nothing global (sys.modules) changes.
    module.__dict__["__builtins__"] = {**vars(builtins), "__import__": local_import}
    file_spec.loader.exec_module(module)
    return module


_LIBS: dict[str, types.ModuleType] = {}


def _lib(key: str) -> types.ModuleType:
    """Return nbstripout's ``_utils`` (``"strip"``) or nbformat's ``rwbase`` (``"lines"``).

    Each is a private copy of the installed file, loaded by :func:`_load_light`
    (so patching :func:`_capped_size` in does not touch a real import), falling
    back to a normal import if the packages' layout ever changes.

    Args:
        key: ``"strip"`` or ``"lines"``.

    Returns:
        The module.
    """
    if key not in _LIBS:
        package, relative, dotted = {
            "strip": ("nbstripout", "_utils.py", "nbstripout._utils"),
            "lines": ("nbformat", "v4/rwbase.py", "nbformat.v4.rwbase"),
        }[key]
        try:
            module = _load_light(package, relative, f"mlqa._light_{package}")
            module.__dict__["_mlqa_private"] = True
        except Exception:  # pragma: no cover - a layout change upstream
            module = importlib.import_module(dotted)
        _LIBS[key] = module
    return _LIBS[key]


def _capped_size(item: Any, limit: int) -> int:
    """Compute nbstripout's ``get_size``, stopping once it reaches ``limit``.

    nbstripout only asks ``get_size(output) <= max_size``, and walks every
    output in full to answer (all of a plot's JSON to compare with 0). The
    result here equals ``get_size`` below ``limit`` and is at least ``limit``
    otherwise, so with ``limit = max_size + 1`` every answer is the same.

    Args:
        item: An output or a part of one.
        limit: Where to stop counting.

    Returns:
        The size, or a number at least ``limit``.
    """
    if isinstance(item, str):
        return len(item)
    if isinstance(item, (list, dict)):
        total = 0
        for element in item.values() if isinstance(item, dict) else item:
            total += _capped_size(element, limit - total)
            if total >= limit:
                break
        return total
    return len(str(item))


def strip_output(nb: Any, **options: Any) -> Any:
    """Call nbstripout's own ``strip_output`` (see :func:`_lib`).

    Args:
        nb: The notebook, as read by :func:`read_notebook`.
        **options: The keyword arguments of ``nbstripout.strip_output``.

    Returns:
        The stripped notebook (the same object, changed in place).
    """
    module = _lib("strip")
    if module.__dict__.get("_mlqa_private"):
        limit = int(options.get("max_size", 0)) + 1

        def get_size(item: Any) -> int:
            return _capped_size(item, limit)

        module.__dict__["get_size"] = get_size
    return module.strip_output(nb, **options)


@dataclass(frozen=True)
class StripOptions:
    """What to strip; the fields mirror nbstripout's command-line flags.

    Attributes:
        keep_output: Keep outputs (``--keep-output``); None lets a notebook's
            ``metadata.keep_output`` decide, as in nbstripout.
        keep_count: Keep execution counts (``--keep-count``).
        keep_id: Keep cell ids instead of renumbering them (``--keep-id``).
        extra_keys: Metadata keys to remove, defaults included.
        drop_empty_cells: Remove cells whose source is blank.
        drop_tagged_cells: Remove cells with these tags.
        strip_init_cells: Strip outputs of cells with ``init_cell: true`` too.
        keep_output_types: Output types to keep, e.g. ``stream``.
        drop_output_types: Output types to drop even with ``--keep-output``.
        max_size: Keep outputs of at most this many characters (0: none).
    """

    keep_output: bool | None = None
    keep_count: bool = False
    keep_id: bool = False
    extra_keys: tuple[str, ...] = DEFAULT_EXTRA_KEYS
    drop_empty_cells: bool = False
    drop_tagged_cells: tuple[str, ...] = ()
    strip_init_cells: bool = False
    keep_output_types: tuple[str, ...] = ()
    drop_output_types: tuple[str, ...] = ()
    max_size: int = 0

    def as_kwargs(self) -> dict[str, Any]:
        """Return the keyword arguments of ``nbstripout.strip_output``."""
        return {
            "keep_output": self.keep_output,
            "keep_count": self.keep_count,
            "keep_id": self.keep_id,
            "extra_keys": list(self.extra_keys),
            "drop_empty_cells": self.drop_empty_cells,
            "drop_tagged_cells": list(self.drop_tagged_cells),
            "strip_init_cells": self.strip_init_cells,
            "drop_output_types": set(self.drop_output_types),
            "keep_output_types": set(self.keep_output_types),
            "max_size": self.max_size,
        }


# --------------------------------------------------------------------------- reading


def _kind(value: object) -> str:
    """Name a JSON value's type as JSON does: an object, an array, a string ..."""
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


def _check_structure(nb: Any, path: str) -> None:
    """Reject what nbformat or nbstripout would crash on, with a clear message.

    Args:
        nb: The parsed JSON value.
        path: The file, for messages.

    Raises:
        InputError: If ``nb`` is not an nbformat 4 notebook.
    """
    if not isinstance(nb, dict):
        raise InputError(
            path, f"not a notebook: the top-level JSON value is {_kind(nb)}"
        )
    major = nb.get("nbformat")
    if "nbformat" not in nb:
        raise InputError(path, "not a notebook: no 'nbformat' version key")
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
            path, f"invalid notebook: 'cells' is {_kind(nb['cells'])}, not an array"
        )
    if not isinstance(nb.get("metadata"), dict):
        raise InputError(path, "invalid notebook: no 'metadata' object")
    for index, cell in enumerate(nb["cells"]):
        where = f"invalid notebook: cell {index}"
        if not isinstance(cell, dict):
            raise InputError(path, f"{where} is {_kind(cell)}, not an object")
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


def _decode(data: bytes, path: str) -> str:
    """Decode a notebook's bytes as nbstripout's reader would (UTF-8).

    Args:
        data: The file's bytes.
        path: The file, for messages.

    Returns:
        The text, without a UTF-8 byte order mark.

    Raises:
        InputError: On an empty file or bytes that are not UTF-8.
    """
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    if not data or data.isspace():
        raise InputError(path, "not a notebook: the file is empty")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            path, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", line, column
        ) from None


def _load(text: str, path: str, nodes_everywhere: bool = True) -> Any:
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
    try:
        if nodes_everywhere:
            nb = json.loads(text, object_hook=_Node)
        else:
            nb = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            path, f"invalid JSON: {exc.msg}", exc.lineno, exc.colno
        ) from None
    except RecursionError:
        raise InputError(path, "invalid JSON: nested too deeply") from None
    _check_structure(nb, path)
    if nodes_everywhere:
        return nb
    nb = _Node(nb)
    nb["metadata"] = _Node(nb["metadata"])
    cells = nb["cells"]
    for index, cell in enumerate(cells):
        cell = cells[index] = _Node(cell)
        cell["metadata"] = _Node(cell["metadata"])
        outputs = cell.get("outputs")
        if outputs:
            cell["outputs"] = [_Node(output) for output in outputs]
    return nb


def _parse(text: str, path: str) -> Any:
    """Parse a notebook as ``nbformat.read`` does (joined lines, no transient keys).

    Args:
        text: The notebook text.
        path: The file, for messages.

    An :class:`InputError` from :func:`_load` passes through.

    Returns:
        The notebook as nbformat's reader returns it: multi-line values joined,
        transient metadata removed.
    """
    nb = _load(text, path)
    lines = _lib("lines")
    lines.rejoin_lines(nb)
    lines.strip_transient(nb)
    return nb


def _normalize_ids(nb: Any) -> None:
    """Give cells missing or duplicate ids new ones, as ``nbformat.validate`` does.

    nbformat does this for nbformat 4.5 and later while reading. The new ids are
    random 8 hex digits (as ``uuid4().hex[:8]`` in nbformat's ``generate_corpus_id``)
    and are then renumbered by stripping unless ``keep_id`` is set.

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


def read_notebook(path: str | Path) -> Any:
    """Read a notebook as nbformat's reader returns it, without nbformat.

    A file that cannot be read or is not an nbformat 4 notebook raises
    :class:`~mlqa.diagnostics.InputError` with a one-line message.

    Args:
        path: The ``.ipynb`` file.

    Returns:
        The notebook: dicts with attribute access, sources joined into strings.
    """
    text = _decode(_read_bytes(path), str(path))
    return _parse(text, str(path))


# --------------------------------------------------------------------------- writing


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
    lines = _lib("lines")
    lines.split_lines(nb)
    lines.strip_transient(nb)
    return encode(nb) + "\n"


def encode(value: Any) -> str:
    """Encode JSON exactly as ``json.dumps(value, **nbformat's settings)`` does.

    nbformat's settings (``indent=1``) keep :mod:`json` on its pure-Python
    encoder, a generator per container; this recursive version gives the same
    text in about half the time. Anything but JSON types (dict with str keys,
    list, str, int, float, bool, None) goes to :func:`json.dumps` itself.

    Args:
        value: The JSON value.

    Returns:
        The text, without a trailing newline.
    """
    parts: list[str] = []
    try:
        _encode_into(value, parts, "\n")
    except _NotPlainJSON:
        return json.dumps(value, **_DUMP_SETTINGS)
    return "".join(parts)


class _NotPlainJSON(Exception):
    """A value :func:`encode` leaves to :func:`json.dumps`."""


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)


_INFINITY = float("inf")


def _encode_into(value: Any, parts: list[str], newline: str) -> None:
    """Append ``value``'s JSON to ``parts``; ``newline`` is a newline + indent."""
    kind = type(value)
    if kind is str:
        parts.append(_encode_str(value))
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif kind is int:
        parts.append(int.__repr__(value))
    elif kind is float:
        parts.append(_float(value))
    elif isinstance(value, dict):
        if not value:
            parts.append("{}")
            return
        inner = newline + " "
        separator = "," + inner
        parts.append("{")
        first = True
        for key, item in sorted(value.items()):
            if type(key) is not str:
                raise _NotPlainJSON
            parts.append(inner if first else separator)
            first = False
            kind = type(item)
            if kind is str:
                parts.append(f"{_encode_str(key)}: {_encode_str(item)}")
            elif item is None:
                parts.append(f"{_encode_str(key)}: null")
            elif kind is int:
                parts.append(f"{_encode_str(key)}: {int.__repr__(item)}")
            elif not item and (kind is dict or kind is _Node):
                parts.append(f"{_encode_str(key)}: {{}}")
            elif not item and kind is list:
                parts.append(f"{_encode_str(key)}: []")
            else:
                parts.append(_encode_str(key))
                parts.append(": ")
                _encode_into(item, parts, inner)
        parts.append(newline)
        parts.append("}")
    elif kind is list:
        if not value:
            parts.append("[]")
            return
        inner = newline + " "
        if all(type(item) is str for item in value):
            parts.append("[" + inner)
            parts.append(("," + inner).join(map(_encode_str, value)))
            parts.append(newline + "]")
            return
        separator = "," + inner
        parts.append("[")
        first = True
        for item in value:
            parts.append(inner if first else separator)
            first = False
            _encode_into(item, parts, inner)
        parts.append(newline)
        parts.append("]")
    else:
        raise _NotPlainJSON


def _encode_str_loader() -> Any:
    from json.encoder import encode_basestring

    return encode_basestring


#: json's own string encoder for ``ensure_ascii=False`` (its C version when built).
_encode_str = _encode_str_loader()


def _read_bytes(path: str | Path) -> bytes:
    """Read a file, turning every failure into an InputError.

    Args:
        path: The file.

    Returns:
        Its bytes.

    Raises:
        InputError: If it is a directory, missing or unreadable.
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


# --------------------------------------------------------------------------- stripping


@dataclass
class Result:
    """What stripping one notebook did.

    Attributes:
        changed: Whether the stripped notebook differs from the one read.
        output: The bytes to write (None when unchanged).
        summary: What stripping removed, in words.
    """

    changed: bool
    output: bytes | None = None
    summary: str = ""


_CellFacts = tuple[Any, Any, Any, int, tuple[Any, ...], frozenset[str]]


def _facts(nb: Any) -> tuple[frozenset[str], list[_CellFacts]]:
    """Record the values stripping changes, to tell cheaply that it changed them.

    Per cell: id, execution count, prompt number, number of outputs, the
    outputs' execution counts and the metadata keys; plus the notebook's
    metadata keys. Different facts before and after stripping prove the
    notebook changed; equal facts prove nothing (see :func:`strip_text`).

    Args:
        nb: The notebook.

    Returns:
        The notebook's metadata keys and each cell's facts.
    """
    cells = []
    for cell in nb["cells"]:
        outputs = cell.get("outputs")
        if isinstance(outputs, list):
            count = len(outputs)
            counts = tuple(
                o.get("execution_count") for o in outputs if isinstance(o, dict)
            )
        else:
            count, counts = -1, ()
        cells.append(
            (
                cell.get("id"),
                cell.get("execution_count"),
                cell.get("prompt_number"),
                count,
                counts,
                frozenset(cell["metadata"]),
            )
        )
    return frozenset(nb["metadata"]), cells


def _summary(before: tuple[frozenset[str], list[_CellFacts]], after: Any) -> str:
    """Describe what stripping changed, e.g. ``3 outputs, 2 execution counts``.

    Args:
        before: The facts of the notebook as read (:func:`_facts`).
        after: The facts of the stripped notebook.

    Returns:
        A short description.
    """
    meta_before, cells_before = before
    meta_after, cells_after = after
    parts: list[str] = []
    if len(cells_after) != len(cells_before):
        parts.append(_plural(len(cells_before) - len(cells_after), "cell"))
    outputs = sum(max(c[3], 0) for c in cells_before) - sum(
        max(c[3], 0) for c in cells_after
    )
    if outputs:
        parts.append(_plural(outputs, "output"))
    counts = sum(c[1] is not None for c in cells_before) - sum(
        c[1] is not None for c in cells_after
    )
    if counts > 0:
        parts.append(_plural(counts, "execution count"))
    if len(cells_after) == len(cells_before):
        if [c[0] for c in cells_before] != [c[0] for c in cells_after]:
            parts.append("cell ids")
        if any(a[5] != b[5] for a, b in zip(cells_after, cells_before, strict=True)):
            parts.append("cell metadata")
    dropped = sorted(meta_before - meta_after)
    if dropped:
        parts.append(f"metadata {', '.join(dropped)}")
    return ", ".join(parts) or "metadata"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def strip_text(
    text: str, path: str, options: StripOptions, output: bool = True
) -> Result:
    """Strip one notebook's text as ``nbstripout`` would.

    nbstripout rewrites a file when the stripped notebook differs from the
    notebook read (not when only the formatting differs). Rather than keep a
    deep copy to compare, this records a few facts before stripping: when they
    differ afterwards the notebook certainly changed; when the bytes to write
    equal the bytes read it certainly did not; only otherwise (a file already
    stripped but not in nbformat's layout, or a nested metadata key removed)
    are both versions parsed again and compared in full.

    Args:
        text: The notebook text.
        path: The file, for messages.
        options: What to strip.
        output: Produce the new bytes; without, a change the facts already
            prove is reported without serialising (``--verify``).

    Returns:
        Whether it changed and, if so, the new bytes.

    Raises:
        InputError: If the text is not an nbformat 4 notebook, or nbstripout
            rejects its metadata.
    """
    lines = _lib("lines")
    nb = _load(text, path, nodes_everywhere=False)
    lines.strip_transient(nb)
    _normalize_ids(nb)
    before = _facts(nb)
    try:
        after = strip_output(nb, **options.as_kwargs())
    except _lib("strip").MetadataError as exc:
        raise InputError(path, f"invalid notebook metadata: {exc}") from None
    # nbformat joins multi-line values while reading; nothing nbstripout decides
    # depends on it (sizes are sums of lengths, blank sources are blank either
    # way), so it is done after stripping, on what is left.
    lines.rejoin_lines(after)
    facts = _facts(after)
    changed = facts != before
    summary = _summary(before, facts) if changed else ""
    if changed and not output:
        return Result(changed=True, summary=summary)
    try:
        out = dumps(after)
    except UnicodeEncodeError as exc:  # pragma: no cover - dumps does not encode
        raise InputError(path, f"cannot encode: {exc.reason}") from None
    if not changed:
        if out == text:
            return Result(changed=False)
        original = _parse(text, path)
        for cell, fact in zip(original["cells"], before[1], strict=True):
            if fact[0] is not None:  # ids as nbformat's reader normalised them
                cell["id"] = fact[0]
        if original == _parse(out, path):
            return Result(changed=False)
        summary = _summary(before, facts)
    try:
        data = out.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(path, f"cannot encode as UTF-8: {exc.reason}") from None
    return Result(changed=True, output=data, summary=summary)


def strip_file(path: str | Path, options: StripOptions, verify: bool = False) -> Result:
    """Strip one notebook file in place (atomically), unless ``verify``.

    Args:
        path: The notebook.
        options: What to strip.
        verify: Only tell whether it would change; write nothing.

    Returns:
        What stripping did (or would do).

    Raises:
        InputError: If the file cannot be read, is not a notebook, or cannot be
            written. The file is then unchanged.
    """
    name = str(path)
    text = _decode(_read_bytes(path), name)
    try:
        result = strip_text(text, name, options, output=not verify)
    except InputError:
        raise
    except Exception as exc:  # nbstripout/nbformat on a notebook they do not expect
        raise InputError(name, f"cannot strip: {type(exc).__name__}: {exc}") from None
    if result.changed and not verify and result.output is not None:
        write_atomic(path, result.output)
    return result


# --------------------------------------------------------------------------- options


def parse_size(value: str | int, what: str = "max-size") -> int:
    """Parse a size such as ``500``, ``10K``, ``2M`` or ``1G``, as nbstripout does.

    Args:
        value: The size, an integer or a number with a K/M/G suffix (powers of 10).
        what: The option's name, for the message.

    Returns:
        The size in characters.

    Raises:
        ValueError: With a one-line message if the size is not understood.
    """
    if isinstance(value, bool):
        raise ValueError(f"{what}={value!r} is not a size (e.g. 500, 10K, 2M)")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{what}={value!r} must not be negative")
        return value
    text = str(value).strip().upper()
    factor = {"K": 10**3, "M": 10**6, "G": 10**9}.get(text[-1:], 1)
    digits = text[:-1] if factor != 1 else text
    if not digits.isdigit():
        raise ValueError(f"{what}={value!r} is not a size (e.g. 500, 10K, 2M)")
    return int(digits) * factor


_BOOL_KEYS = (
    "keep-output",
    "keep-count",
    "keep-id",
    "drop-empty-cells",
    "strip-init-cells",
)
_LIST_KEYS = (
    "extra-keys",
    "keep-metadata-keys",
    "drop-tagged-cells",
    "keep-output-types",
    "drop-output-types",
)
#: The keys ``[tool.mlqa.notebooks]`` accepts.
CONFIG_KEYS = (*_BOOL_KEYS, *_LIST_KEYS, "max-size")


def _words(value: object) -> list[str] | None:
    """Return a list of words from a list of strings or a space-separated string."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [word for item in value for word in item.split()]
    return None


def _config_settings(
    table: Mapping[str, Any], pyproject: Path | None
) -> dict[str, Any]:
    """Validate ``[tool.mlqa.notebooks]``.

    Args:
        table: The table.
        pyproject: Its file, for messages.

    Returns:
        The settings with list values normalised to lists of words.

    Raises:
        InputError: On an unknown key or a badly typed value, naming the key.
    """
    from mlqa.config import line_of

    where = pyproject or "pyproject.toml"
    try:
        text = pyproject.read_text(encoding="utf-8") if pyproject else ""
    except OSError:  # pragma: no cover
        text = ""
    table_name = "tool.mlqa.notebooks"

    settings: dict[str, Any] = {}
    for key, value in table.items():
        problem = None
        if key in _BOOL_KEYS:
            if not isinstance(value, bool):
                problem = f"{key} must be true or false, got {value!r}"
            settings[key] = value
        elif key in _LIST_KEYS:
            settings[key] = _words(value)
            if settings[key] is None:
                problem = f"{key} must be a list of strings, got {value!r}"
        elif key == "max-size":
            try:
                settings[key] = parse_size(value)
            except ValueError as exc:
                problem = str(exc)
        else:
            problem = f"unknown key {key!r} (known: {', '.join(CONFIG_KEYS)})"
        if problem:
            raise InputError(
                where, f"[{table_name}] {problem}", line_of(text, key, table_name)
            )
    return settings


def _check_extra_keys(keys: Sequence[str]) -> str | None:
    for key in keys:
        if "." not in key or key.split(".")[0] not in ("cell", "metadata"):
            return (
                f"invalid metadata key {key!r}: it must start with 'metadata.' "
                "(notebook) or 'cell.' (each cell), e.g. metadata.foo cell.metadata.bar"
            )
    return None


def build_options(
    args: argparse.Namespace, settings: Mapping[str, Any]
) -> StripOptions:
    """Merge command-line flags over ``[tool.mlqa.notebooks]`` settings.

    Boolean flags override the config (``--no-keep-output`` turns a configured
    ``keep-output = true`` off); list flags add to the configured lists, as
    nbstripout adds its flags to its git-config keys.

    Args:
        args: The parsed command line.
        settings: Validated settings from :func:`_config_settings`.

    Returns:
        The options.

    Raises:
        ValueError: With a one-line message on an invalid key or size.
    """

    def flag(name: str) -> bool:
        value = getattr(args, name.replace("-", "_"))
        return bool(settings.get(name, False) if value is None else value)

    def words(name: str) -> list[str]:
        extra = [
            word
            for item in getattr(args, name.replace("-", "_")) or []
            for word in item.split()
        ]
        return [*settings.get(name, []), *extra]

    keep_metadata = words("keep-metadata-keys")
    extra = [*DEFAULT_EXTRA_KEYS, *words("extra-keys")]
    for keys in (extra, keep_metadata):
        problem = _check_extra_keys(keys)
        if problem:
            raise ValueError(problem)
    max_size = settings.get("max-size", 0)
    if args.max_size is not None:
        max_size = parse_size(args.max_size, "--max-size")
    return StripOptions(
        keep_output=True if flag("keep-output") else None,
        keep_count=flag("keep-count"),
        keep_id=flag("keep-id"),
        extra_keys=tuple(key for key in extra if key not in keep_metadata),
        drop_empty_cells=flag("drop-empty-cells"),
        drop_tagged_cells=tuple(words("drop-tagged-cells")),
        strip_init_cells=flag("strip-init-cells"),
        keep_output_types=tuple(words("keep-output-types")),
        drop_output_types=tuple(words("drop-output-types")),
        max_size=max_size,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlqa strip",
        description=(
            "Strip outputs, execution counts and volatile metadata from Jupyter "
            "notebooks, byte-identical to nbstripout. Exit 0: nothing to strip; "
            "1: notebooks stripped (or would be, with --verify); 2: usage error "
            "or invalid notebook."
        ),
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="notebooks or directories"
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="change nothing; exit 1 if any notebook would be stripped",
    )
    bool_flag = argparse.BooleanOptionalAction
    parser.add_argument("--keep-output", action=bool_flag, help="do not strip outputs")
    parser.add_argument(
        "--keep-count", action=bool_flag, help="do not strip execution counts"
    )
    parser.add_argument(
        "--keep-id", action=bool_flag, help="keep cell ids (default: renumber)"
    )
    parser.add_argument(
        "--extra-keys",
        action="append",
        metavar="KEYS",
        help="space-separated metadata keys to strip too, e.g. 'metadata.foo cell.metadata.bar'",
    )
    parser.add_argument(
        "--keep-metadata-keys",
        action="append",
        metavar="KEYS",
        help="space-separated metadata keys NOT to strip (even default ones)",
    )
    parser.add_argument(
        "--drop-empty-cells", action=bool_flag, help="remove blank cells"
    )
    parser.add_argument(
        "--drop-tagged-cells",
        action="append",
        metavar="TAGS",
        help="remove cells with these tags",
    )
    parser.add_argument(
        "--strip-init-cells",
        action=bool_flag,
        help="strip cells with init_cell: true too",
    )
    parser.add_argument(
        "--keep-output-type",
        dest="keep_output_types",
        action="append",
        metavar="TYPE",
        help="output types to keep, e.g. stream or stream:stderr",
    )
    parser.add_argument(
        "--drop-output-type",
        dest="drop_output_types",
        action="append",
        metavar="TYPE",
        help="output types to drop even with --keep-output",
    )
    parser.add_argument(
        "--max-size",
        metavar="SIZE",
        help="keep outputs up to SIZE characters (e.g. 10K)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="strip in N forked processes (0: one per CPU; default 1)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="how to print stripped notebooks",
    )
    return parser


# --------------------------------------------------------------------------- files


#: One file's outcome: ("changed", summary), ("clean", "") or ("error", message).
_Outcome = tuple[str, str]


def _outcome(path: Path, options: StripOptions, verify: bool) -> _Outcome:
    try:
        result = strip_file(path, options, verify=verify)
    except InputError as exc:
        return "error", str(exc)
    return ("changed", result.summary) if result.changed else ("clean", "")


def _jobs(requested: int, files: int) -> int:
    """Decide how many processes strip ``files`` notebooks (0: one per CPU)."""
    if not hasattr(os, "fork") or files < 2:
        return 1
    if requested > 0:
        return min(requested, files)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, files))


def strip_paths(
    paths: Sequence[Path], options: StripOptions, verify: bool = False, jobs: int = 1
) -> list[_Outcome]:
    """Strip many notebooks, in ``jobs`` forked processes when it pays.

    Work is shared by file size; each worker returns its outcomes through a
    pipe and the results come back in the order of ``paths``.

    Args:
        paths: The notebooks.
        options: What to strip.
        verify: Only tell what would change.
        jobs: Processes to use (1: this one only).

    Returns:
        One outcome per path, in order.
    """
    import gc

    # Notebooks parse into acyclic trees that reference counting frees; the
    # cyclic collector would only re-walk them (about 8% of the time).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _strip_paths(paths, options, verify, jobs)
    finally:
        if was_enabled:
            gc.enable()


def _strip_paths(
    paths: Sequence[Path], options: StripOptions, verify: bool, jobs: int
) -> list[_Outcome]:
    if jobs <= 1 or len(paths) < 2:
        return [_outcome(path, options, verify) for path in paths]
    _lib("strip"), _lib("lines")  # load before forking, never in a child
    sizes = []
    for path in paths:
        try:
            sizes.append(os.stat(path).st_size)
        except OSError:
            sizes.append(0)
    buckets: list[list[int]] = [[] for _ in range(jobs)]
    loads = [0] * jobs
    for index in sorted(range(len(paths)), key=lambda i: -sizes[i]):
        lightest = loads.index(min(loads))
        buckets[lightest].append(index)
        loads[lightest] += sizes[index] + 4096
    sys.stdout.flush()
    sys.stderr.flush()
    children = []
    for bucket in buckets[1:]:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, reported via the pipe
            status = 0
            try:
                os.close(read_end)
                results = [[i, *_outcome(paths[i], options, verify)] for i in bucket]
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(json.dumps(results).encode("utf-8"))
            except BaseException:
                status = 70
            os._exit(status)
        os.close(write_end)
        children.append((pid, read_end))
    outcomes: list[_Outcome | None] = [None] * len(paths)
    for index in buckets[0]:
        outcomes[index] = _outcome(paths[index], options, verify)
    for pid, read_end in children:
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        try:
            for index, kind, text in json.loads(data) if status == 0 else ():
                outcomes[index] = (kind, text)
        except ValueError:  # pragma: no cover
            pass
    return [
        outcome or ("error", f"{path}: not stripped: a worker process failed")
        for outcome, path in zip(outcomes, paths, strict=True)
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mlqa strip``.

    Args:
        argv: The arguments after ``strip``; ``sys.argv[1:]`` if None.

    Returns:
        0 nothing to strip, 1 notebooks stripped (with ``--verify``: would be
        stripped), 2 usage error or an unreadable or invalid notebook.
    """
    from mlqa import config as mlqa_config
    from mlqa.diagnostics import emit

    parser = _parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:
        return EXIT_CLEAN if exc.code == 0 else EXIT_ERROR
    if not args.paths:
        parser.print_usage(sys.stderr)
        print("mlqa strip: error: no notebook or directory given", file=sys.stderr)
        return EXIT_ERROR
    try:
        start = os.path.commonpath([os.path.abspath(p) for p in args.paths])
        cfg = mlqa_config.load(start)
        table = cfg.get("notebooks")
        settings = _config_settings(table, cfg.pyproject)
        options = build_options(args, settings)
    except InputError as exc:
        print(exc, file=sys.stderr)
        return EXIT_ERROR
    except ValueError as exc:
        print(f"mlqa strip: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    from mlqa.files import discover

    files = discover(args.paths, (".ipynb",), cfg.root, list(cfg.get("exclude")))
    verb = "would strip" if args.verify else "stripped"
    findings = []
    errors = 0
    outcomes = strip_paths(files, options, args.verify, _jobs(args.jobs, len(files)))
    for path, (kind, text) in zip(files, outcomes, strict=True):
        if kind == "error":
            print(text, file=sys.stderr)
            errors += 1
        elif kind == "changed":
            findings.append(Finding(str(path), 1, 1, CODE, f"{verb} {text}"))
    code = emit(findings, args.format)
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if code else EXIT_CLEAN
