"""Where mlqa's templates live: a checkout's top level or an installed wheel.

The templates (``hooks/``, ``workflows/``, ``vscode/``) sit at the top of the
repository; the wheel ships them as ``mlqa/_templates/<kind>/`` (see the hatch
``force-include`` table in pyproject.toml). :func:`template` finds a file in
whichever layout is present, so ``mlqa init`` works the same from both.
"""

from __future__ import annotations

from pathlib import Path

from mlqa.diagnostics import read_text

#: The template folders, as named in the repository and in the wheel.
KINDS = ("hooks", "workflows", "vscode")

_PACKAGE = Path(__file__).resolve().parent


def template_dir(kind: str) -> Path:
    """Return the folder holding one kind of template.

    Args:
        kind: One of KINDS.

    Returns:
        ``mlqa/_templates/<kind>`` in an installed wheel, else ``<checkout>/<kind>``.

    Raises:
        ValueError: If ``kind`` is not one of KINDS.
    """
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r} is not one of {', '.join(KINDS)}")
    installed = _PACKAGE / "_templates" / kind
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / kind


def template(kind: str, name: str) -> Path:
    """Return the path of one template file.

    Args:
        kind: One of KINDS.
        name: The file name inside that folder.

    Returns:
        The path (it may not exist; :func:`read_template` reports that).
    """
    return template_dir(kind) / name


def read_template(kind: str, name: str) -> str:
    """Read one template file.

    Args:
        kind: One of KINDS.
        name: The file name inside that folder.

    Returns:
        Its text; a missing template (a broken installation) is an InputError
        from :func:`mlqa.diagnostics.read_text`.
    """
    return read_text(template(kind, name))
