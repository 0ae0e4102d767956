"""``mlqa init``: put mlqa's hooks, config, editor settings and CI into a repo.

Writes or merges four things, keeping everything the user already has:

* ``.pre-commit-config.yaml``: mlqa's hook repo, pinned to this version, added
  next to the user's repos (ruamel.yaml round trip: comments stay);
* ``pyproject.toml``: ``[tool.mlqa]`` plus mlqa's presets for ruff, mypy and
  pydoclint where the project configures none (appended as text, checked with
  tomllib: nothing the user wrote is touched);
* ``.vscode/settings.json`` and ``extensions.json``: merged key by key, also
  inside language blocks such as ``"[python]"``; the user's value wins where
  both set a key; comments and trailing commas stay (json-five's parse tree
  gives the offsets; new keys are spliced into the text);
* ``.github/workflows/mlqa.yml``: a caller of mlqa's reusable workflow, unless
  that file exists.

Everything is read and validated before anything is written; each file is
written atomically. It shows a unified diff and asks; ``--yes`` applies without
asking, ``--dry-run`` only prints the diff. A second run changes nothing.
"""

from __future__ import annotations

import argparse
import configparser
import difflib
import io
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlqa import __version__
from mlqa.diagnostics import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FINDINGS,
    InputError,
    read_text,
)
from mlqa.templates import read_template

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: Where mlqa's hook repository lives (what users put after ``repo:``).
REPO_URL = "https://github.com/mlqa-dev/mlqa"
#: The tag of this version, used as the pre-commit ``rev`` and the workflow ref.
REV = f"v{__version__}"
#: Hook ids that do the same job: a repo with one of a group gets no other.
ALTERNATIVE_HOOKS = ({"mlqa-types", "mlqa-types-system"},)

PRE_COMMIT = ".pre-commit-config.yaml"
PYPROJECT = "pyproject.toml"
SETTINGS = ".vscode/settings.json"
EXTENSIONS = ".vscode/extensions.json"
WORKFLOW = ".github/workflows/mlqa.yml"


@dataclass(frozen=True)
class Change:
    """The planned content of one file.

    Attributes:
        path: The file, relative to the repository root (POSIX).
        old: Its current text, or None when it does not exist.
        new: The text it will have.
        note: A short description of what changes.
    """

    path: str
    old: str | None
    new: str
    note: str

    @property
    def changed(self) -> bool:
        """Tell whether applying this change would alter the file."""
        return self.old != self.new

    def diff(self) -> str:
        """Return the change as a unified diff (``/dev/null`` for a new file)."""
        old = [] if self.old is None else self.old.splitlines(keepends=True)
        new = self.new.splitlines(keepends=True)
        lines = difflib.unified_diff(
            old,
            new,
            "/dev/null" if self.old is None else f"a/{self.path}",
            f"b/{self.path}",
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _read(root: Path, rel: str) -> str | None:
    path = root / rel
    if not path.exists():
        return None
    return read_text(path)


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


# --------------------------------------------------------------------------- YAML


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
    old = _read(root, PRE_COMMIT)
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
        sep = "" if old.endswith("\n") else _newline(old)
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
    if _newline(old) == "\r\n" and "\r\n" not in new:
        new = new.replace("\n", "\r\n")
    return Change(PRE_COMMIT, old, new, note)


# --------------------------------------------------------------------------- TOML


def _presets_dir() -> Path:
    return Path(__file__).resolve().parent / "presets"


def _toml_value(value: str) -> Any:
    lowered = value.strip().lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    try:
        return int(value)
    except ValueError:
        return value.strip()


def _ruff_preset() -> dict[str, Any]:
    lint = tomllib.loads((_presets_dir() / "ruff.toml").read_text("utf-8"))
    docs = tomllib.loads((_presets_dir() / "ruff-docstrings.toml").read_text("utf-8"))
    merged: dict[str, Any] = {k: v for k, v in lint.items() if k != "lint"}
    section = dict(lint.get("lint", {}))
    doc_lint = docs.get("lint", {})
    # `mlqa lint` selects the lint rules; `mlqa docstrings` adds `--select D` and
    # reads the D settings below, so both behave as with mlqa's own presets.
    section["ignore"] = list(section.get("ignore", [])) + [
        code
        for code in doc_lint.get("ignore", [])
        if code not in section.get("ignore", [])
    ]
    if "pydocstyle" in doc_lint:
        section["pydocstyle"] = dict(doc_lint["pydocstyle"])
    per_file = {k: list(v) for k, v in section.get("per-file-ignores", {}).items()}
    for glob, codes in doc_lint.get("per-file-ignores", {}).items():
        per_file.setdefault(glob, [])
        per_file[glob] += [c for c in codes if c not in per_file[glob]]
    if per_file:
        section["per-file-ignores"] = per_file
    merged["lint"] = section
    return merged


def _mypy_preset() -> dict[str, Any]:
    parser = configparser.ConfigParser()
    parser.read_string((_presets_dir() / "mypy.ini").read_text("utf-8"))
    return {key: _toml_value(value) for key, value in parser["mypy"].items()}


def _pydoclint_preset() -> dict[str, Any]:
    from mlqa.tools.docstrings import PYDOCLINT_PRESET

    return dict(PYDOCLINT_PRESET)


#: The tables ``mlqa init`` adds when missing: name -> (description, content).
TOOL_PRESETS: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
    "mlqa": (
        "mlqa's settings (all keys optional; see the README)",
        lambda: {"exclude": []},
    ),
    "ruff": (
        "mlqa's ruff preset: lint rules for ML code, Google docstrings",
        _ruff_preset,
    ),
    "mypy": (
        "mlqa's mypy preset: catches type errors, quiet on idiomatic torch",
        _mypy_preset,
    ),
    "pydoclint": (
        "mlqa's pydoclint preset: Google style, types in signatures",
        _pydoclint_preset,
    ),
}

#: Files other than pyproject.toml that configure a tool (then no preset is added).
TOOL_FILES = {
    "ruff": ("ruff.toml", ".ruff.toml"),
    "mypy": ("mypy.ini", ".mypy.ini"),
    "pydoclint": (),
    "mlqa": (),
}


def _configured_elsewhere(root: Path, tool: str) -> bool:
    if any((root / name).is_file() for name in TOOL_FILES[tool]):
        return True
    setup_cfg = root / "setup.cfg"
    if tool == "mypy" and setup_cfg.is_file():
        return re.search(r"(?m)^\[mypy\]", read_text(setup_cfg)) is not None
    return False


def _multiline(value: Any) -> Any:
    import tomlkit

    if isinstance(value, list) and len(value) > 4:
        array = tomlkit.array()
        array.extend(value)
        return array.multiline(True)
    if isinstance(value, dict):
        return {k: _multiline(v) for k, v in value.items()}
    return value


def _tool_block(
    name: str, description: str, content: Mapping[str, Any], nl: str
) -> str:
    import tomlkit

    body = tomlkit.dumps({"tool": {name: _multiline(dict(content))}})
    body = body.replace(f"[tool.{name}]\n", f"[tool.{name}]\n# {description}\n", 1)
    return body.replace("\n", nl)


def plan_pyproject(root: Path) -> Change:
    """Plan the ``pyproject.toml`` change.

    Args:
        root: The repository root.

    Returns:
        The change: ``[tool.mlqa]`` and mlqa's presets appended for each tool the
        project configures nowhere; the user's text is kept byte for byte.

    Raises:
        InputError: If the file is not valid TOML, its ``[tool.mlqa]`` is invalid,
            or a table cannot be added.
    """
    from mlqa.config import parse_pyproject, validate

    path = root / PYPROJECT
    old = _read(root, PYPROJECT)
    data: dict[str, Any] = {}
    text = old or ""
    if old is not None:
        data, text = parse_pyproject(path)
        tool = data.get("tool", {})
        if not isinstance(tool, dict):
            raise InputError(path, "[tool] must be a table")
        if "mlqa" in tool:
            if not isinstance(tool["mlqa"], dict):
                raise InputError(path, "tool.mlqa must be a table")
            validate(tool["mlqa"], path, text)
    tool = data.get("tool", {})
    nl = _newline(text)
    blocks, added = [], []
    for name, (description, make) in TOOL_PRESETS.items():
        if name in tool or _configured_elsewhere(root, name):
            continue
        content = make()
        project = data.get("project")
        if isinstance(project, dict) and "requires-python" in project:
            # ruff reads the target version from requires-python: do not pin another.
            content.pop("target-version", None)
        blocks.append(_tool_block(name, description, content, nl))
        added.append(name)
    if not blocks:
        return Change(
            PYPROJECT, old, text if old is not None else "", "tool tables already there"
        )
    new = text
    if new and not new.endswith(("\n", "\r")):
        new += nl
    if new.strip():
        new += nl
    new += nl.join(blocks)
    try:
        parsed = tomllib.loads(new)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"cannot add [tool.{added[0]}] here: {exc}") from None
    if {k: v for k, v in parsed.items() if k != "tool"} != {
        k: v for k, v in data.items() if k != "tool"
    }:  # pragma: no cover - appending tables cannot change other keys
        raise InputError(path, "adding mlqa's tables would change other settings")
    note = "add " + ", ".join(f"[tool.{name}]" for name in added)
    return Change(PYPROJECT, old, new, note)


# --------------------------------------------------------------------------- JSONC

Edit = tuple[int, int, str]


def _json_error(path: str, text: str, exc: Exception) -> InputError:
    message = str(exc)
    primary = re.search(r"The primary error was: \s*\n\s*(.+)", message)
    if primary:
        message = primary.group(1)
    message = message.splitlines()[0].strip()
    where = re.search(r"\s*at: line (\d+) column (\d+).*$", message)
    line = getattr(exc, "lineno", None) or None
    if where:
        line = int(where.group(1))
        message = message[: where.start()]
    return InputError(path, f"invalid JSON: {message}", line)


def _strip_comments(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = len(text) if j == -1 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = len(text) if j == -1 else j + 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _start(node: Any) -> int:
    return int(node._tok.index)


def _end(node: Any) -> int:
    end_tok = node._end_tok or node._tok
    return int(end_tok.end)


def _key_name(key: Any) -> str:
    return str(getattr(key, "characters", None) or getattr(key, "name", ""))


def _line_indent(text: str, offset: int) -> str:
    start = text.rfind("\n", 0, offset) + 1
    line = text[start:offset]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _first_on_line(text: str, offset: int) -> bool:
    start = text.rfind("\n", 0, offset) + 1
    return not text[start:offset].strip()


def _after_newline(text: str, start: int, end: int) -> int | None:
    """Return the offset after the first line break in a gap, outside block comments."""
    i = start
    while i < end:
        if text.startswith("//", i):
            j = text.find("\n", i, end)
            return None if j == -1 else j + 1
        if text.startswith("/*", i):
            j = text.find("*/", i + 2, end)
            if j == -1:
                return None
            i = j + 2
            continue
        if text[i] == "\n":
            return i + 1
        i += 1
    return None


def _render(value: Any, indent: str | None, unit: str, nl: str) -> str:
    if indent is None:
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, indent=unit, ensure_ascii=False).replace("\n", nl + indent)


def _insert(
    text: str,
    node: Any,
    members: Sequence[tuple[Any, Any]],
    entries: Sequence[tuple[str | None, Any]],
    unit: str,
    nl: str,
) -> list[Edit]:
    """Plan the edits that add entries to a JSON object or array.

    Args:
        text: The whole document.
        node: The JSONObject or JSONArray node.
        members: (first node, last node) of each existing member.
        entries: (key or None for arrays, value) to add, in order.
        unit: One level of indentation.
        nl: The newline to use.

    Returns:
        Non-overlapping edits (start, end, replacement).
    """
    open_end, close_start = _end_open(node), _start_close(node)
    close_indent = _line_indent(text, _start(node))
    has_tc = node.trailing_comma is not None

    def render(indent: str | None) -> list[str]:
        out = []
        for key, value in entries:
            rendered = _render(value, indent, unit, nl)
            out.append(rendered if key is None else f"{json.dumps(key)}: {rendered}")
        return out

    if not members:
        indent = close_indent + unit
        body = [indent + e for e in render(indent)]
        gap = text[open_end:close_start]
        point = _after_newline(text, open_end, close_start)
        if not gap.strip() or point is None:
            tail = nl + close_indent
            if gap.strip():  # a comment on the bracket's line stays before the entries
                return [(open_end, open_end, nl + ("," + nl).join(body) + tail)]
            return [(open_end, close_start, nl + ("," + nl).join(body) + tail)]
        return [(point, point, ("," + nl).join(body) + nl)]
    first, last = members[0][0], members[-1][1]
    last_end = _end(last)
    anchor = _end(node.trailing_comma) if has_tc else last_end
    comma = "," if has_tc else ""
    if "\n" not in text[open_end:close_start]:
        inline = ", ".join(render(None))
        if has_tc:
            return [(anchor, anchor, " " + inline + ",")]
        return [(last_end, last_end, ", " + inline)]
    indent = (
        _line_indent(text, _start(first))
        if _first_on_line(text, _start(first))
        else close_indent + unit
    )
    block = ("," + nl).join(indent + e for e in render(indent)) + comma
    point = _after_newline(text, anchor, close_start)
    if point is not None:
        edits: list[Edit] = [(point, point, block + nl)]
    elif not text[anchor:close_start].strip():
        edits = [(anchor, close_start, nl + block + nl + close_indent)]
    else:
        edits = [(anchor, anchor, nl + block + nl + close_indent)]
    if not has_tc:
        # The separating comma goes right after the last value (before any
        # comment on its line); fold it into an edit that starts there.
        if edits[0][0] == last_end:
            start, end, replacement = edits[0]
            edits = [(start, end, "," + replacement)]
        else:
            edits.append((last_end, last_end, ","))
    return edits


def _end_open(node: Any) -> int:
    return int(node._tok.end)


def _start_close(node: Any) -> int:
    return int(node._end_tok.index)


def _merge_object(
    text: str, node: Any, template: Mapping[str, Any], unit: str, nl: str
) -> tuple[list[Edit], list[str]]:
    from json5 import model

    existing: dict[str, Any] = {}
    for key, value in zip(node.keys, node.values, strict=True):
        existing[_key_name(key)] = value
    edits: list[Edit] = []
    added: list[str] = []
    missing: list[tuple[str | None, Any]] = []
    for key, value in template.items():
        if key not in existing:
            missing.append((key, value))
            added.append(key)
        elif isinstance(value, dict) and isinstance(existing[key], model.JSONObject):
            sub_edits, sub_added = _merge_object(text, existing[key], value, unit, nl)
            edits += sub_edits
            added += [f"{key} > {name}" for name in sub_added]
    if missing:
        members = list(zip(node.keys, node.values, strict=True))
        edits += _insert(text, node, members, missing, unit, nl)
    return edits, added


def _apply(text: str, edits: Sequence[Edit]) -> str:
    for start, end, replacement in sorted(
        edits, key=lambda e: (e[0], e[1]), reverse=True
    ):
        text = text[:start] + replacement + text[end:]
    return text


def _indent_unit(text: str) -> str:
    match = re.search(r"(?m)^([ \t]+)[\"'/\w\[]", text)
    if match is None:
        return "    "
    return "\t" if match.group(1).startswith("\t") else match.group(1)


def _parse_jsonc(path: str, text: str) -> Any:
    """Parse a JSONC text into json-five's model; None for a file with no value."""
    from json5 import JSON5DecodeError, model
    from json5.loader import ModelLoader, loads

    if not _strip_comments(text).strip():
        return None
    try:
        doc = loads(text, loader=ModelLoader())
    except (JSON5DecodeError, ValueError, AssertionError) as exc:
        raise _json_error(path, text, exc) from None
    if not isinstance(doc.value, model.JSONObject):
        line = doc.value.lineno if doc.value.lineno else 1
        raise InputError(path, "expected a JSON object at the top level", line)
    return doc.value


def merge_jsonc(
    path: str, old: str | None, template: Mapping[str, Any]
) -> tuple[str, list[str]]:
    """Merge a template object into a JSONC document, keeping the user's text.

    Text that is not valid JSONC, or not an object, raises
    :class:`~mlqa.diagnostics.InputError` naming the line.

    Args:
        path: The file, for messages.
        old: The current text, or None when the file does not exist.
        template: The settings to add where missing (objects merged key by key).

    Returns:
        The new text and the keys added (nested ones as ``outer > inner``).
    """
    if old is None:
        return json.dumps(template, indent=4, ensure_ascii=False) + "\n", list(template)
    node = _parse_jsonc(path, old)
    nl = _newline(old)
    if node is None:
        body = json.dumps(template, indent=4, ensure_ascii=False).replace("\n", nl)
        sep = "" if not old or old.endswith("\n") else nl
        return old + sep + body + nl, list(template)
    edits, added = _merge_object(old, node, template, _indent_unit(old), nl)
    return _apply(old, edits), added


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
    from json5 import model

    if old is None:
        return json.dumps({"recommendations": list(wanted)}, indent=4) + "\n", list(
            wanted
        )
    node = _parse_jsonc(path, old)
    if node is None:
        return merge_jsonc(path, old, {"recommendations": list(wanted)})
    fields = {_key_name(k): v for k, v in zip(node.keys, node.values, strict=True)}
    for name in ("recommendations", "unwantedRecommendations"):
        if name in fields and not isinstance(fields[name], model.JSONArray):
            raise InputError(path, f"{name!r} must be a list", fields[name].lineno)
    unwanted = {
        str(getattr(v, "characters", "")).lower()
        for v in getattr(fields.get("unwantedRecommendations"), "values", [])
    }
    array = fields.get("recommendations")
    if array is None:
        keep = [w for w in wanted if w.lower() not in unwanted]
        return merge_jsonc(path, old, {"recommendations": keep})
    have = {str(getattr(v, "characters", "")).lower() for v in array.values}
    missing = [w for w in wanted if w.lower() not in have | unwanted]
    if not missing:
        return old, []
    members = [(v, v) for v in array.values]
    edits = _insert(
        old,
        array,
        members,
        [(None, w) for w in missing],
        _indent_unit(old),
        _newline(old),
    )
    return _apply(old, edits), missing


def _load_template_json(name: str) -> Any:
    from json5 import loads

    return loads(read_template("vscode", name))


def plan_vscode(root: Path) -> list[Change]:
    """Plan the ``.vscode/settings.json`` and ``extensions.json`` changes.

    Args:
        root: The repository root.

    Returns:
        The two changes.
    """
    settings_old = _read(root, SETTINGS)
    settings_new, added = merge_jsonc(
        str(root / SETTINGS), settings_old, _load_template_json("settings.json")
    )
    if settings_old is None:
        settings_new = read_template("vscode", "settings.json")
    changes = [
        Change(SETTINGS, settings_old, settings_new, _added_note("settings", added))
    ]
    wanted = _load_template_json("extensions.json")["recommendations"]
    ext_old = _read(root, EXTENSIONS)
    ext_new, added = merge_extensions(str(root / EXTENSIONS), ext_old, wanted)
    if ext_old is None:
        ext_new = read_template("vscode", "extensions.json")
    changes.append(
        Change(EXTENSIONS, ext_old, ext_new, _added_note("recommendations", added))
    )
    return changes


def _added_note(what: str, added: Sequence[str]) -> str:
    if not added:
        return f"{what} already there"
    shown = ", ".join(added[:4]) + (
        f" and {len(added) - 4} more" if len(added) > 4 else ""
    )
    return f"add {what}: {shown}"


# --------------------------------------------------------------------------- CI


def plan_workflow(root: Path) -> Change:
    """Plan the CI caller ``.github/workflows/mlqa.yml``.

    Args:
        root: The repository root.

    Returns:
        The caller template pinned to this version; an existing file is kept.
    """
    old = _read(root, WORKFLOW)
    if old is not None:
        return Change(WORKFLOW, old, old, "kept (exists)")
    text = read_template("workflows", "mlqa-ci.yml")
    text = re.sub(
        r"(uses: )\S+/\.github/workflows/mlqa\.yml@\S+",
        lambda m: f"{m.group(1)}{REPO_URL.split('github.com/')[1]}/.github/workflows/mlqa.yml@{REV}",
        text,
    )
    return Change(WORKFLOW, None, text, f"add a CI caller of mlqa's workflow ({REV})")


# --------------------------------------------------------------------------- main


def plan(root: Path) -> list[Change]:
    """Plan every change ``mlqa init`` makes, validating all inputs first.

    A malformed file raises :class:`~mlqa.diagnostics.InputError` from its
    planner, before anything has been written.

    Args:
        root: The repository root.

    Returns:
        One change per file, in the order they are shown.
    """
    return [
        plan_pre_commit(root),
        plan_pyproject(root),
        *plan_vscode(root),
        plan_workflow(root),
    ]


def write_atomic(path: Path, text: str) -> None:
    """Write a text file atomically (see :func:`mlqa.files.write_atomic`).

    Args:
        path: The destination; missing parent folders are created.
        text: The content (written as UTF-8, newlines as given).
    """
    from mlqa import files

    path.parent.mkdir(parents=True, exist_ok=True)
    files.write_atomic(path, text.encode("utf-8"))


def _blocked(root: Path, changes: Sequence[Change]) -> Path | None:
    """Return a path that must be a folder but is a file, if any (checked before writing)."""
    for change in changes:
        for parent in (root / change.path).parents:
            if parent == root or root not in parent.parents:
                break
            if parent.exists() and not parent.is_dir():
                return parent
    return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlqa init",
        description="Write or merge mlqa's pre-commit hooks, [tool.mlqa] and presets, "
        "VS Code settings and a CI workflow into a repository.",
    )
    parser.add_argument(
        "path", nargs="?", default=".", help="the repository root (default: .)"
    )
    parser.add_argument("--yes", "-y", action="store_true", help="apply without asking")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the changes as a diff, write nothing",
    )
    return parser


def _ask(prompt: str) -> bool:
    print(prompt, end="", flush=True)
    answer = sys.stdin.readline()
    return answer.strip().lower() in {"y", "yes"}


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mlqa init``.

    Args:
        argv: The arguments after ``init``; ``sys.argv[2:]`` if None.

    Returns:
        0 when applied or nothing to do, 1 when the user declined, 2 on a usage
        error or a malformed file (then nothing is written).
    """
    parser = _parser()
    try:
        args = parser.parse_args(sys.argv[2:] if argv is None else list(argv))
    except SystemExit as exc:
        return EXIT_ERROR if exc.code else EXIT_CLEAN
    root = Path(args.path)
    if not root.is_dir():
        print(f"mlqa init: {args.path}: not a directory", file=sys.stderr)
        return EXIT_ERROR
    try:
        changes = plan(root)
    except InputError as exc:
        print(f"{exc}", file=sys.stderr)
        print("mlqa init: nothing written", file=sys.stderr)
        return EXIT_ERROR
    pending = [c for c in changes if c.changed]
    blocked = _blocked(root, pending)
    if blocked is not None:
        print(f"{blocked}: exists and is not a directory", file=sys.stderr)
        print("mlqa init: nothing written", file=sys.stderr)
        return EXIT_ERROR
    for change in changes:
        mark = "~" if change.old is not None else "+"
        mark = mark if change.changed else "="
        print(f"{mark} {change.path}: {change.note}")
    if not pending:
        print("mlqa init: nothing to change")
        return EXIT_CLEAN
    print()
    sys.stdout.write("".join(change.diff() for change in pending))
    if args.dry_run:
        print(
            f"mlqa init: dry run, {len(pending)} file(s) would change; nothing written"
        )
        return EXIT_CLEAN
    if not args.yes:
        if not sys.stdin.isatty():
            print(
                "mlqa init: not applying: stdin is not a terminal; "
                "run again with --yes to apply or --dry-run to only show the diff",
                file=sys.stderr,
            )
            return EXIT_ERROR
        if not _ask(f"Apply these changes to {len(pending)} file(s)? [y/N] "):
            print("mlqa init: nothing written")
            return EXIT_FINDINGS
    try:
        for change in pending:
            write_atomic(root / change.path, change.new)
    except OSError as exc:
        print(f"mlqa init: cannot write: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(f"mlqa init: wrote {len(pending)} file(s)")
    return EXIT_CLEAN
