"""Plan ``.github/workflows/mlqa.yml``: a caller of mlqa's reusable workflow."""

from __future__ import annotations

import re
from pathlib import Path

from mlqa.init.change import REPO_URL, REV, Change, read
from mlqa.templates import read_template

WORKFLOW = ".github/workflows/mlqa.yml"


def plan_workflow(root: Path) -> Change:
    """Plan the CI caller ``.github/workflows/mlqa.yml``.

    Args:
        root: The repository root.

    Returns:
        The caller template pinned to this version; an existing file is kept.

    Raises:
        InputError: If the existing file cannot be read as text.
    """
    old = read(root, WORKFLOW)
    if old is not None:
        return Change(WORKFLOW, old, old, "kept (exists)")
    text = read_template("workflows", "mlqa-ci.yml")
    text = re.sub(
        r"(uses: )\S+/\.github/workflows/mlqa\.yml@\S+",
        lambda m: f"{m.group(1)}{REPO_URL.split('github.com/')[1]}/.github/workflows/mlqa.yml@{REV}",
        text,
    )
    return Change(WORKFLOW, None, text, f"add a CI caller of mlqa's workflow ({REV})")
