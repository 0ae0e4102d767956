"""Plan ``.github/workflows/mlqa.yml``: a caller of mlqa's reusable workflow.

The caller fits the repository: its ``install`` input is ``editable`` for a
package (``[project]``, ``[tool.poetry]``, ``setup.py`` or ``setup.cfg``),
``requirements`` with the ``requirements*.txt`` files it finds otherwise, and
``none`` when there is neither (a flat folder of scripts). ``uses:`` is pinned
to the commit SHA of this version's tag when ``git ls-remote`` can resolve it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from mlqa.init.change import REPO_URL, REV, Change, read
from mlqa.templates import read_template

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

WORKFLOW = ".github/workflows/mlqa.yml"
#: The name mlqa is published under on PyPI (``mlqa`` there is another project).
DISTRIBUTION = "mlqa-toolkit"
#: Extras installed with ``install: editable``, the first the project declares.
DEV_EXTRAS = ("dev", "test", "tests")
_SHA = re.compile(r"[0-9a-f]{40}")


def template_text(text: str, marker: str) -> str:
    """Drop the lines of a template that speak to the template's reader.

    Template files start such lines with ``<marker> template:`` (e.g.
    ``# template: copy this file ...``); the files ``mlqa init`` writes keep
    only what speaks to the reader of the written file.

    Args:
        text: The template's text.
        marker: The comment marker of its format (``#`` or ``//``).

    Returns:
        The text without those lines.
    """
    prefix = f"{marker} template:"
    lines = text.splitlines(keepends=True)
    return "".join(line for line in lines if not line.lstrip().startswith(prefix))


def requirement_files(root: Path) -> list[str]:
    """Return the project's requirement files, ``requirements.txt`` first.

    Args:
        root: The repository root.

    Returns:
        ``requirements*.txt`` at the root, then ``requirements/*.txt``, as
        POSIX paths relative to the root.
    """
    top = sorted(p.name for p in root.glob("requirements*.txt") if p.is_file())
    top.sort(key=lambda name: name != "requirements.txt")
    nested = sorted(
        f"requirements/{p.name}"
        for p in (root / "requirements").glob("*.txt")
        if p.is_file()
    )
    return top + nested


def _pyproject(root: Path) -> dict[str, Any]:
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text("utf-8"))
        return data
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}  # plan_pyproject reports a malformed file


def install_inputs(root: Path) -> dict[str, str]:
    """Choose the reusable workflow's install inputs for a repository.

    Args:
        root: The repository root.

    Returns:
        ``{"install": "editable", "extras": ...}`` for a package,
        ``{"install": "requirements", "requirements": ...}`` when there are
        requirement files, else ``{"install": "none"}``.
    """
    data = _pyproject(root)
    project = data.get("project")
    tool = data.get("tool")
    poetry = isinstance(tool, dict) and "poetry" in tool
    if (
        isinstance(project, dict)
        or poetry
        or any((root / name).is_file() for name in ("setup.py", "setup.cfg"))
    ):
        declared = project.get("optional-dependencies", {}) if project else {}
        extras = [e for e in DEV_EXTRAS if isinstance(declared, dict) and e in declared]
        return {"install": "editable", "extras": extras[0] if extras else ""}
    files = requirement_files(root)
    if files:
        return {"install": "requirements", "requirements": " ".join(files)}
    return {"install": "none"}


def resolve_tag(url: str, tag: str, timeout: float = 10.0) -> str | None:
    """Resolve a tag of a remote git repository to its commit SHA.

    Args:
        url: The repository URL (anything ``git ls-remote`` accepts).
        tag: The tag, e.g. ``v0.1.0``.
        timeout: Seconds to wait for git.

    Returns:
        The 40-hex commit SHA (an annotated tag is peeled), or None when git,
        the network or the tag is missing.
    """
    refs = [f"refs/tags/{tag}", f"refs/tags/{tag}^{{}}"]
    try:
        result = subprocess.run(
            ["git", "ls-remote", "--tags", url, *refs],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    found: dict[str, str] = {}
    for line in result.stdout.splitlines():
        commit, _, ref = line.partition("\t")
        found[ref] = commit
    sha = found.get(refs[1]) or found.get(refs[0])
    return sha if sha and _SHA.fullmatch(sha) else None


def _with_block(inputs: dict[str, str]) -> str:
    mode = inputs["install"]
    notes = {
        "editable": 'pip install -e ".[extras]"',
        "requirements": "pip install -r each file below",
        "none": "no package metadata or requirements*.txt found",
    }
    lines = [f"      install: {mode}  # {notes[mode]}\n"]
    for key in ("extras", "requirements"):
        if key in inputs:
            lines.append(f"      {key}: {inputs[key]!r}\n".replace("'", '"'))
    return "".join(lines)


def plan_workflow(root: Path, repo_url: str = REPO_URL) -> Change:
    """Plan the CI caller ``.github/workflows/mlqa.yml``.

    Args:
        root: The repository root.
        repo_url: Where mlqa's repository lives (its tag is resolved there).

    Returns:
        The caller template with the install mode that fits the repository,
        pinned to this version's commit SHA when it resolves (else to the
        tag, said in the note); an existing file is kept.

    Raises:
        InputError: If the existing file cannot be read as text.
    """
    old = read(root, WORKFLOW)
    if old is not None:
        return Change(WORKFLOW, old, old, "kept (exists)")
    text = template_text(read_template("workflows", "mlqa-ci.yml"), "#")
    sha = resolve_tag(repo_url, REV)
    ref = f"{sha} # {REV}" if sha else REV
    repo = repo_url.rstrip("/").removesuffix(".git").split("github.com/")[-1]
    text = re.sub(
        r"(uses: )\S+/\.github/workflows/mlqa\.yml@\S+",
        lambda m: f"{m.group(1)}{repo}/.github/workflows/mlqa.yml@{ref}",
        text,
    )
    inputs = install_inputs(root)
    text = re.sub(
        r"^ +install: .*\n(?: +extras: .*\n)?",
        lambda _: _with_block(inputs),
        text,
        count=1,
        flags=re.M,
    )
    pin = "pinned to its commit" if sha else "pin the tag to its commit SHA by hand"
    note = f"add a CI caller of mlqa's workflow ({REV}, {pin}; install: {inputs['install']})"
    return Change(WORKFLOW, None, text, note)
