"""Strip one notebook as ``nbstripout`` would, and say what went.

The stripping is nbstripout's own ``strip_output``
(:func:`mlqa.notebooks.upstream.strip_output`); reading and writing go through
:mod:`mlqa.notebooks.io`. Outputs that stripping drops are never parsed
(:mod:`mlqa.notebooks.scan`). A file is rewritten exactly when ``nbstripout``
would rewrite it: when the stripped notebook differs from the notebook read,
not when only the formatting differs.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from mlqa.diagnostics import InputError
from mlqa.files import write_atomic
from mlqa.notebooks import io, scan, upstream
from mlqa.notebooks.options import StripOptions


class Stripped(NamedTuple):
    """What stripping one notebook did.

    Attributes:
        changed: Whether the stripped notebook differs from the one read.
        output: The bytes to write (None when unchanged or not asked for).
        summary: What stripping removed, in words.
    """

    changed: bool
    output: bytes | None = None
    summary: str = ""


_CellFacts = tuple[Any, Any, Any, int, tuple[Any, ...], frozenset[str], int]
_Facts = tuple[frozenset[str], list[_CellFacts]]


def _facts(nb: Any, elided: dict[int, int] | None = None) -> _Facts:
    """Record the values stripping changes, to tell cheaply that it changed them.

    Per cell: id, execution count, prompt number, number of outputs, the
    outputs' execution counts, the metadata keys and the number of keys; plus
    the notebook's metadata keys. Different facts before and after stripping
    prove the notebook changed; equal facts prove it did not when no extra
    key reaches deeper than these (:func:`_facts_decide`).

    Args:
        nb: The notebook.
        elided: Cells whose outputs were elided, with their output counts.

    Returns:
        The notebook's metadata keys and each cell's facts.
    """
    cells = []
    for index, cell in enumerate(nb["cells"]):
        outputs = cell.get("outputs")
        counts: tuple[Any, ...]
        if elided and index in elided:
            count, counts = elided[index], ("elided",)
        elif isinstance(outputs, list):
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
                len(cell),
            )
        )
    return frozenset(nb["metadata"]), cells


@lru_cache(maxsize=8)
def _facts_decide(extra_keys: tuple[str, ...]) -> bool:
    """Tell whether equal facts prove that stripping changed nothing.

    nbstripout changes what :func:`_facts` records (ids, counts, outputs,
    cells, the keys of cells and of cell and notebook metadata) and removes
    the extra keys; a key nested deeper (``metadata.foo.bar``,
    ``cell.attachments.x``) can change what the facts do not see.

    Args:
        extra_keys: The metadata keys removed.

    Returns:
        True when every extra key is one the facts see.
    """
    for key in extra_keys:
        space, _, rest = key.partition(".")
        if space == "cell" and rest.startswith("metadata."):
            rest = rest[len("metadata.") :]
        if "." in rest:
            return False
    return True


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _summary(before: _Facts, after: _Facts) -> str:
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


def _read_elided(
    data: bytes, path: str, options: StripOptions
) -> tuple[Any, dict[int, int]] | None:
    """Parse a notebook without the outputs stripping drops, when that is safe.

    Args:
        data: The notebook's bytes (no byte order mark).
        path: The file, for messages.
        options: What to strip.

    Returns:
        The notebook (outputs of elided cells empty) and the elided cells'
        output counts; None when the whole notebook must be parsed.

    Raises:
        InputError: If the file is not UTF-8 (checked without decoding when
            it is ASCII).
    """
    if options.max_size or options.keep_output_types or options.keep_output:
        return None  # some outputs may stay: they must be parsed
    if b"\x00" in data:
        return None  # binary: the full read says so
    elided = scan.elide_outputs(data)
    if elided is None:
        return None
    if not (data.isascii() or scan.is_utf8(data, elided.spans)):
        io.decode(data, path)  # the file must be UTF-8: raise where it is not
    try:
        nb = io.parse_json(io.decode(elided.data, path), path)
        counts = scan.restore(nb, elided.counts)
        if counts is None:
            return None
        io.check_structure(nb, path)
        nb = io.as_nodes(nb)
        cells = nb["cells"]
        for index in counts:
            if upstream.keeps_output(
                nb, cells[index], options.keep_output, options.strip_init_cells
            ):
                return None
    except Exception:  # the full parse reports it, as nbstripout would
        return None
    return nb, counts


def strip_text(
    text: str, path: str, options: StripOptions, output: bool = True
) -> Stripped:
    """Strip one notebook's text as ``nbstripout`` would (see :func:`strip_data`).

    Args:
        text: The notebook text.
        path: The file, for messages.
        options: What to strip.
        output: Produce the new bytes.

    Returns:
        Whether it changed and, if so, the new bytes.
    """
    return strip_data(text.encode("utf-8", "surrogatepass"), path, options, output)


def strip_data(
    data: bytes, path: str, options: StripOptions, output: bool = True
) -> Stripped:
    """Strip one notebook's bytes as ``nbstripout`` would.

    Rather than keep a deep copy to compare, this records a few facts before
    stripping: when they differ afterwards the notebook certainly changed;
    when the bytes to write equal the bytes read it certainly did not; only
    otherwise (a file already stripped but not in nbformat's layout, or a
    nested metadata key removed) are both versions parsed again and compared.

    Args:
        data: The notebook's bytes.
        path: The file, for messages.
        options: What to strip.
        output: Produce the new bytes; without, a change the facts already
            prove is reported without serialising (``--verify``).

    Returns:
        Whether it changed and, if so, the new bytes.

    Raises:
        InputError: If the bytes are not an nbformat 4 notebook in UTF-8, or
            nbstripout rejects its metadata.
    """
    data = io.without_bom(data, path)
    light = _read_elided(data, path, options)
    text = ""
    if light is None:
        text = io.decode(data, path)
        nb, elided = io.load(text, path, False), None
    else:
        nb, elided = light
    upstream.strip_transient(nb)
    io.normalise_ids(nb)
    before = _facts(nb, elided)
    try:
        after = upstream.strip_output(nb, **options.as_kwargs())
    except upstream.metadata_error() as exc:
        raise InputError(path, f"invalid notebook metadata: {exc}") from None
    # nbformat joins multi-line values while reading; nothing nbstripout decides
    # depends on it (sizes are sums of lengths, blank sources are blank either
    # way), so it is done after stripping, on what is left.
    upstream.rejoin_lines(after)
    facts = _facts(after)
    changed = facts != before
    summary = _summary(before, facts) if changed else ""
    if changed and not output:
        return Stripped(changed=True, summary=summary)
    if not changed and _facts_decide(options.extra_keys):
        return Stripped(changed=False)
    out = io.dumps(after)
    if not changed:
        text = text or io.decode(data, path)
        if out == text:
            return Stripped(changed=False)
        original = io.parse(text, path)
        for cell, fact in zip(original["cells"], before[1], strict=True):
            if fact[0] is not None:  # ids as nbformat's reader normalised them
                cell["id"] = fact[0]
        if original == io.parse(out, path):
            return Stripped(changed=False)
        summary = _summary(before, facts)
    try:
        data = out.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(path, f"cannot encode as UTF-8: {exc.reason}") from None
    return Stripped(changed=True, output=data, summary=summary)


def strip_file(
    path: str | Path, options: StripOptions, verify: bool = False
) -> Stripped:
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
    data = io.read_bytes(path)
    try:
        result = strip_data(data, name, options, output=not verify)
    except InputError:
        raise
    except Exception as exc:  # nbstripout/nbformat on a notebook they do not expect
        raise InputError(name, f"cannot strip: {type(exc).__name__}: {exc}") from None
    if result.changed and not verify and result.output is not None:
        write_atomic(path, result.output)
    return result
