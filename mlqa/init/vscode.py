"""Plan ``.vscode/settings.json`` and ``.vscode/extensions.json``.

Both are merged into the user's files through :mod:`mlqa.init.jsonc_edit`,
keeping comments, trailing commas and every value the user set.

``python.testing.pytestArgs: ["--mlqa"]`` is written only when the project
declares mlqa-toolkit as a dependency: in an interpreter without mlqa, pytest
rejects ``--mlqa`` and VS Code's test discovery fails. Otherwise the written
file has plain pytest arguments and says how to switch the plugin on.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlqa.diagnostics import InputError
from mlqa.init.change import Change, newline, read
from mlqa.init.jsonc import loads, position
from mlqa.init.jsonc_edit import apply, indent_unit, insert, merge_jsonc, parse_object
from mlqa.init.workflow import DISTRIBUTION, requirement_files, template_text
from mlqa.templates import read_template

SETTINGS = ".vscode/settings.json"
EXTENSIONS = ".vscode/extensions.json"
PYTEST_ARGS = "python.testing.pytestArgs"
#: The distribution's name in any PEP 503 spelling, as a requirement names it.
_REQUIREMENT = re.compile(
    r"(?<![\w.-])" + r"[-_.]+".join(DISTRIBUTION.split("-")) + r"(?![\w-])", re.I
)
#: The template's comment and ``--mlqa`` setting, replaced when mlqa is not declared.
_PLUGIN_ARGS = re.compile(
    r'^( *)// `--mlqa` .*\n(?:\1// .*\n)*\1"python\.testing\.pytestArgs": \[[^\]]*\]',
    re.M,
)
_PLAIN_ARGS = """\
{0}// Add "--mlqa" to run mlqa's model checks once mlqa-toolkit is installed in
{0}// the interpreter VS Code uses (e.g. from your dev dependencies); without it,
{0}// pytest stops test discovery with "unrecognized arguments: --mlqa".
{0}"python.testing.pytestArgs": []"""
_DEPENDENCY_FILES = ("pyproject.toml", "setup.cfg", "setup.py", "environment.yml")


def declares_mlqa(root: Path) -> bool:
    """Tell whether the project lists mlqa-toolkit among its dependencies.

    Args:
        root: The repository root.

    Returns:
        True when pyproject.toml, setup.cfg, setup.py, environment.yml or a
        requirements file names mlqa-toolkit (any PEP 503 spelling).
    """
    for name in (*_DEPENDENCY_FILES, *requirement_files(root)):
        path = root / name
        try:
            text = path.read_text("utf-8", errors="replace")
        except OSError:
            continue
        if _REQUIREMENT.search(text):
            return True
    return False


def git_ignored(root: Path, rel: str) -> bool:
    """Tell whether git ignores a path of the repository.

    Args:
        root: The repository root.
        rel: The path, relative to the root.

    Returns:
        True when ``git check-ignore`` says so; False outside a git repository
        or without git.
    """
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "check-ignore", "-q", "--", rel],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def merge_extensions(
    path: str, old: str | None, wanted: Sequence[str]
) -> tuple[str, list[str]]:
    """Add recommended extensions to an ``extensions.json``, keeping the user's text.

    Args:
        path: The file, for messages.
        old: The current text, or None when the file does not exist.
        wanted: Extension ids to recommend; ones the user lists as unwanted are skipped.

    Returns:
        The new text and the ids added.

    Raises:
        InputError: If the text is not valid JSONC or its lists are not lists.
    """
    if old is None:
        return json.dumps({"recommendations": list(wanted)}, indent=4) + "\n", list(
            wanted
        )
    node = parse_object(path, old)
    if node is None:
        return merge_jsonc(path, old, {"recommendations": list(wanted)})
    fields = node.fields()
    for name in ("recommendations", "unwantedRecommendations"):
        if name in fields and not fields[name].is_array:
            line, column = position(old, fields[name].start)
            raise InputError(path, f"{name!r} must be a list", line, column)

    def ids(name: str) -> set[str]:
        items = fields[name].items if name in fields else ()
        return {item.value.lower() for item in items if isinstance(item.value, str)}

    unwanted = ids("unwantedRecommendations")
    if "recommendations" not in fields:
        keep = [w for w in wanted if w.lower() not in unwanted]
        return merge_jsonc(path, old, {"recommendations": keep})
    missing = [w for w in wanted if w.lower() not in ids("recommendations") | unwanted]
    if not missing:
        return old, []
    entries = [(None, w) for w in missing]
    edits = insert(
        old, fields["recommendations"], entries, indent_unit(old), newline(old)
    )
    return apply(old, edits), missing


def _template(name: str) -> Any:
    return loads(read_template("vscode", name), name)


def _added_note(what: str, added: Sequence[str]) -> str:
    if not added:
        return f"{what} already there"
    shown = ", ".join(added[:4]) + (
        f" and {len(added) - 4} more" if len(added) > 4 else ""
    )
    return f"add {what}: {shown}"


def plan_vscode(root: Path) -> list[Change]:
    """Plan the ``.vscode/settings.json`` and ``extensions.json`` changes.

    Args:
        root: The repository root.

    Returns:
        The two changes.

    Raises:
        InputError: If either file is not valid JSONC or has the wrong shape.
    """
    plugin = declares_mlqa(root)
    wanted_settings = _template("settings.json")
    if not plugin:
        del wanted_settings[PYTEST_ARGS]
    settings_old = read(root, SETTINGS)
    settings_new, added = merge_jsonc(
        str(root / SETTINGS), settings_old, wanted_settings
    )
    if settings_old is None:
        settings_new = template_text(read_template("vscode", "settings.json"), "//")
        if not plugin:
            settings_new = _PLUGIN_ARGS.sub(
                lambda m: _PLAIN_ARGS.format(m.group(1)), settings_new
            )
    note = _added_note("settings", added)
    if not plugin and settings_old is None:
        note += "; pytest without --mlqa (mlqa-toolkit is not a dependency)"
    wanted = _template("extensions.json")["recommendations"]
    ext_old = read(root, EXTENSIONS)
    ext_new, added_ext = merge_extensions(str(root / EXTENSIONS), ext_old, wanted)
    if ext_old is None:
        ext_new = template_text(read_template("vscode", "extensions.json"), "//")
    ext_note = _added_note("recommendations", added_ext)
    if git_ignored(root, ".vscode/settings.json"):
        shared = "; git ignores .vscode/: not committed unless you `git add -f` it"
        note, ext_note = note + shared, ext_note + shared
    return [
        Change(SETTINGS, settings_old, settings_new, note),
        Change(EXTENSIONS, ext_old, ext_new, ext_note),
    ]
