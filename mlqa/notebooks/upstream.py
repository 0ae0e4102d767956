"""The one place mlqa uses nbstripout's and nbformat's internals.

Stripping is nbstripout's own ``strip_output`` (``nbstripout/_utils.py``) and
the line handling is nbformat's own ``rejoin_lines``/``split_lines``/
``strip_transient`` (``nbformat/v4/rwbase.py``): the library code, not a
rewrite. Importing either package the normal way costs about 0.2 s
(``nbstripout/__init__`` and ``nbformat/__init__`` import nbformat's validator,
jsonschema and traitlets), so each file is loaded on its own, as a private
copy, by :func:`_load_light`. ``DEFAULT_EXTRA_KEYS`` copies the default list in
``nbstripout._nbstripout.main``. ``tests/test_notebooks_upstream.py`` pins
every one of these contracts against the installed packages.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

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


class Node(dict[str, Any]):
    """A dict with attribute access, as nbformat's ``NotebookNode``.

    nbstripout and nbformat's line helpers only need ``node.key`` reads and
    writes; building this with ``json.loads(object_hook=Node)`` is what
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

    ``from nbformat import NotebookNode`` in nbstripout's ``_utils.py`` gets a
    stand-in module through the loaded module's own ``__import__`` (unless
    nbformat is already imported, which is then used).

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
    stand_in.NotebookNode = Node  # type: ignore[attr-defined]
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

#: key -> (package, file, the module's normal dotted name).
_SOURCES = {
    "strip": ("nbstripout", "_utils.py", "nbstripout._utils"),
    "lines": ("nbformat", "v4/rwbase.py", "nbformat.v4.rwbase"),
}


def lib(key: str) -> types.ModuleType:
    """Return nbstripout's ``_utils`` (``"strip"``) or nbformat's ``rwbase`` (``"lines"``).

    Each is a private copy of the installed file loaded by :func:`_load_light`
    (so patching :func:`capped_size` in does not touch a real import), falling
    back to a normal import if the packages' layout ever changes.

    Args:
        key: ``"strip"`` or ``"lines"``.

    Returns:
        The module.
    """
    if key not in _LIBS:
        package, relative, dotted = _SOURCES[key]
        try:
            module = _load_light(package, relative, f"mlqa._light_{package}")
            module.__dict__["_mlqa_private"] = True
        except Exception:  # pragma: no cover - a layout change upstream
            module = importlib.import_module(dotted)
        _LIBS[key] = module
    return _LIBS[key]


def capped_size(item: Any, limit: int) -> int:
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
            total += capped_size(element, limit - total)
            if total >= limit:
                break
        return total
    return len(str(item))


def metadata_error() -> type[Exception]:
    """Return nbstripout's ``MetadataError`` class.

    Returns:
        The exception class ``strip_output`` raises on contradictory metadata.
    """
    error: type[Exception] = lib("strip").MetadataError
    return error


def _cell_keys_present(cells: list[Any], keys: list[str]) -> list[str]:
    """Keep the ``cell.`` extra keys that ``pop_recursive`` could find in a cell.

    ``pop_recursive(cell, "metadata.x")`` pops a literal ``"metadata.x"`` key,
    else recurses into ``cell["metadata"]`` with ``"x"``; a key whose literal
    form is in no cell and whose tail, or the tail's first part, is in no
    cell's metadata pops nothing anywhere. nbstripout tries every key on every
    cell; passing only these gives the same notebook with fewer calls.
    """
    cell_keys: set[str] = set()
    metadata_keys: set[str] = set()
    for cell in cells:
        cell_keys.update(cell)
        metadata = cell.get("metadata")
        if isinstance(metadata, dict):
            metadata_keys.update(metadata)
    kept = []
    for key in keys:
        space, _, field = key.partition(".")
        tail = field[len("metadata.") :] if field.startswith("metadata.") else None
        if (
            space != "cell"
            or tail is None
            or field in cell_keys
            or tail in metadata_keys
            or tail.split(".", 1)[0] in metadata_keys
        ):
            kept.append(key)
    return kept


def strip_output(nb: Any, **options: Any) -> Any:
    """Call nbstripout's own ``strip_output`` (see :func:`lib`).

    Args:
        nb: The notebook (dicts; the notebook, its metadata, cells and cell
            metadata with attribute access).
        **options: The keyword arguments of ``nbstripout.strip_output``.

    Returns:
        The stripped notebook (the same object, changed in place).
    """
    if options.get("extra_keys"):
        cells = nb.get("cells")
        if isinstance(cells, list):
            options["extra_keys"] = _cell_keys_present(cells, options["extra_keys"])
    module = lib("strip")
    if module.__dict__.get("_mlqa_private"):
        limit = int(options.get("max_size", 0)) + 1

        def get_size(item: Any) -> int:
            return capped_size(item, limit)

        module.__dict__["get_size"] = get_size
    return module.strip_output(nb, **options)


def rejoin_lines(nb: Any) -> None:
    """Join multi-line values as nbformat's reader does (``rwbase.rejoin_lines``).

    Args:
        nb: The notebook, changed in place.
    """
    lib("lines").rejoin_lines(nb)


def split_lines(nb: Any) -> None:
    """Split multi-line values as nbformat's writer does (``rwbase.split_lines``).

    Args:
        nb: The notebook, changed in place.
    """
    lib("lines").split_lines(nb)


def strip_transient(nb: Any) -> None:
    """Drop transient metadata as nbformat does on read and write.

    Args:
        nb: The notebook, changed in place.
    """
    lib("lines").strip_transient(nb)


def keeps_output(nb: Any, cell: Any, keep_output: bool | None, init: bool) -> bool:
    """Tell whether nbstripout keeps a cell's outputs (``determine_keep_output``).

    Args:
        nb: The notebook (its ``metadata.keep_output`` is the default when
            ``keep_output`` is None, as in ``strip_output``).
        cell: The cell, a node.
        keep_output: The ``keep_output`` option.
        init: The ``strip_init_cells`` option.

    Returns:
        Whether the cell's metadata or tags keep its outputs.

    Raises:
        Exception: Whatever nbstripout raises on contradictory metadata.
    """
    if keep_output is None and "keep_output" in nb["metadata"]:
        keep_output = bool(nb["metadata"]["keep_output"])
    return bool(lib("strip").determine_keep_output(cell, keep_output, init))
