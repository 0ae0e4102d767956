"""Plan ``.pre-commit-config.yaml``: mlqa's hook repo next to the user's.

A round trip through ruamel.yaml keeps the user's comments, quotes and key
order; the indentation style is the one that writes the user's file back byte
for byte. An mlqa repo already there keeps its ``rev`` and gains only the hooks
it lacks.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from mlqa.diagnostics import InputError
from mlqa.init.change import REPO_URL, REV, Change, newline, read
from mlqa.templates import read_template

#: Hook ids that do the same job: a repo with one of a group gets no other.
ALTERNATIVE_HOOKS = ({"mlqa-types", "mlqa-types-system"},)

PRE_COMMIT = ".pre-commit-config.yaml"


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def _yaml_dump(yaml: Any, data: Any) -> str:
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


def _yaml_problem(exc: Exception) -> tuple[str, int | None]:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    line = mark.line + 1 if mark is not None else None
    return f"invalid YAML: {problem}", line


def _hook_ids() -> list[str]:
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(read_template("hooks", "pre-commit-config.yaml"))
    return [str(hook["id"]) for hook in data["repos"][0]["hooks"]]


def _preset_pre_commit() -> str:
    """Return the hooks template with this version's repo and rev."""
    text = read_template("hooks", "pre-commit-config.yaml")
    text = re.sub(
        r"(?m)^(\s*- repo: ).*$", lambda m: m.group(1) + REPO_URL, text, count=1
    )
    return re.sub(r"(?m)^(\s*rev: ).*$", lambda m: m.group(1) + REV, text, count=1)


def _same_repo(url: object) -> bool:
    if not isinstance(url, str):
        return False
    norm = url.strip().rstrip("/")
    norm = norm[:-4] if norm.endswith(".git") else norm
    return norm.lower() == REPO_URL.lower()


def _yaml_styles(text: str) -> list[tuple[int, int, int]]:
    """Guess ruamel's (mapping, sequence, offset) indents for a file, best first.

    The first ``- `` under ``repos:`` tells the sequence layout (``  - repo:`` is
    offset 2, sequence 4; ``-   repo:`` is offset 0, sequence 4); common layouts
    follow. The caller keeps the first guess that writes the file back unchanged.
    """
    dash = re.search(
        r"(?m)^repos:[ \t]*(?:#.*)?\r?\n(?:[ \t]*(?:#.*)?\r?\n)*( *)-( +)", text
    )
    guesses: list[tuple[int, int, int]] = []
    if dash:
        offset = len(dash.group(1))
        sequence = offset + 1 + len(dash.group(2))
        guesses += [(2, sequence, offset), (4, sequence, offset)]
    guesses += [(2, 4, 2), (4, 4, 0), (2, 2, 0), (4, 6, 4)]
    return list(dict.fromkeys(guesses))


def plan_pre_commit(root: Path) -> Change:
    """Plan the ``.pre-commit-config.yaml`` change.

    Args:
        root: The repository root.

    Returns:
        The change: the preset for a new file; else the user's file with mlqa's
        repo appended, or with mlqa's missing hooks added to an existing mlqa repo
        (its ``rev`` is left alone: the user's pin wins).

    Raises:
        InputError: If the file is not valid YAML or has no ``repos`` list.
    """
    old = read(root, PRE_COMMIT)
    preset = _preset_pre_commit()
    if old is None or not old.strip():
        return Change(PRE_COMMIT, old, preset, f"add mlqa's hooks ({REV})")
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import YAMLError

    path = str(root / PRE_COMMIT)
    yaml = _yaml()
    try:
        data = yaml.load(old)
    except YAMLError as exc:
        raise InputError(path, *_yaml_problem(exc)) from None
    if data is None:  # only comments: keep them, add the preset after
        sep = "" if old.endswith("\n") else newline(old)
        return Change(PRE_COMMIT, old, old + sep + preset, f"add mlqa's hooks ({REV})")
    if not isinstance(data, dict) or not isinstance(data.get("repos"), list):
        raise InputError(path, "expected a mapping with a 'repos' list", 1)
    repos = data["repos"]
    for index, repo in enumerate(repos):
        if not isinstance(repo, dict) or not isinstance(repo.get("hooks", []), list):
            line = repos.lc.item(index)[0] + 1
            raise InputError(
                path,
                "each entry of 'repos' must be a mapping with a 'hooks' list",
                line,
            )
    wanted = _hook_ids()
    ours = [repo for repo in repos if _same_repo(repo.get("repo"))]
    if ours:
        hooks = ours[0].setdefault("hooks", [])
        have = {
            str(h.get("id"))
            for repo in ours
            for h in repo.get("hooks", [])
            if isinstance(h, dict)
        }
        missing = [
            hook
            for hook in wanted
            if hook not in have
            and not any(hook in g and have & g for g in ALTERNATIVE_HOOKS)
        ]
        for hook in missing:
            hooks.append(CommentedMap(id=hook))
        note = (
            f"add hooks {', '.join(missing)}"
            if missing
            else "mlqa's hooks already there"
        )
        if not missing:
            return Change(PRE_COMMIT, old, old, note)
    else:
        preset_data = yaml.load(preset)
        repos.append(preset_data["repos"][0])
        note = f"add mlqa's hook repo ({REV}) after your {len(repos) - 1} repo(s)"
    styles = _yaml_styles(old)
    chosen = styles[0]
    for style in styles:
        yaml.indent(mapping=style[0], sequence=style[1], offset=style[2])
        if _yaml_dump(yaml, yaml.load(old)) == old:
            chosen = style  # this style writes the user's file back byte for byte
            break
    yaml.indent(mapping=chosen[0], sequence=chosen[1], offset=chosen[2])
    new = _yaml_dump(yaml, data)
    if newline(old) == "\r\n" and "\r\n" not in new:
        new = new.replace("\n", "\r\n")
    return Change(PRE_COMMIT, old, new, note)
