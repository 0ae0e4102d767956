"""The copy-paste snippets for each door must match the real files.

The snippets live in the README (section ``hooks``) and in the docs pages: CI
(``docs/ci.md``, section ``ci``), editor (``docs/editor.md``), ``mlqa init``
(``docs/init.md``) and pytest (``docs/pytest-plugin.md``). A snippet that
drifts from the file it documents would break the user who copies it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import json5
import yaml

from mlqa import __version__
from mlqa import init as mlqa_init

ROOT = Path(__file__).resolve().parents[1]
REUSABLE = ROOT / ".github" / "workflows" / "mlqa.yml"


# Where each section lives: the hook snippet and table stay in the README, the
# reference for every other door is a docs page.
PAGES = {
    "hooks": "README.md",
    "ci": "docs/ci.md",
    "editor": "docs/editor.md",
    "init": "docs/init.md",
    "pytest": "docs/pytest-plugin.md",
}


def _section(name: str) -> str:
    page = PAGES[name]
    text = (ROOT / page).read_text("utf-8")
    match = re.search(
        rf"<!-- section: {name} -->\n(.*?)<!-- /section: {name} -->", text, re.S
    )
    assert match, f"{page} has no section {name!r}"
    return match.group(1)


def _blocks(name: str, *langs: str) -> list[str]:
    pattern = r"```(\w*)\n(.*?)```"
    return [
        body
        for lang, body in re.findall(pattern, _section(name), re.S)
        if lang in langs
    ]


def _inputs() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(REUSABLE.read_text("utf-8"))
    inputs: dict[str, dict[str, Any]] = data[True]["workflow_call"]["inputs"]
    return inputs


# --------------------------------------------------------------------- pre-commit


def test_pre_commit_snippet_matches_the_hooks_template_and_manifest() -> None:
    blocks = [b for b in _blocks("hooks", "yaml") if "repos:" in b]
    assert blocks, "the hooks section shows no .pre-commit-config.yaml entry"
    snippet = yaml.safe_load(blocks[0])
    template = yaml.safe_load((ROOT / "hooks" / "pre-commit-config.yaml").read_text())
    assert snippet == template
    (repo,) = snippet["repos"]
    assert repo["repo"] == mlqa_init.REPO_URL
    assert repo["rev"] == f"v{__version__}"
    manifest = {
        h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    }
    assert {h["id"] for h in repo["hooks"]} <= manifest


# --------------------------------------------------------------------- CI


def test_ci_snippet_is_a_valid_caller_of_the_real_workflow(tmp_path: Path) -> None:
    (block,) = [b for b in _blocks("ci", "yaml") if "workflow" in b or "jobs:" in b]
    caller = yaml.safe_load(block)
    template = yaml.safe_load((ROOT / "workflows" / "mlqa-ci.yml").read_text())
    assert caller["permissions"] == {} == template["permissions"]
    (job,) = caller["jobs"].values()
    (template_job,) = template["jobs"].values()
    assert job["uses"] == template_job["uses"]
    assert job["uses"] == f"mlqa-dev/mlqa/.github/workflows/mlqa.yml@v{__version__}"
    assert job["permissions"] == template_job["permissions"]
    kinds = {"boolean": bool, "number": (int, float), "string": str}
    for key, value in job["with"].items():
        assert key in _inputs(), key
        assert isinstance(value, kinds[_inputs()[key]["type"]]), key
    path = tmp_path / "caller.yml"
    path.write_text(block, "utf-8")
    bindir = Path(sys.executable).parent
    for cmd in (
        [bindir / "actionlint", path],
        [
            bindir / "check-jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            path,
        ],
    ):
        result = subprocess.run(cmd, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def _table(section: str) -> dict[str, list[str]]:
    rows = {}
    for line in _section(section).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_ci_inputs_table_lists_every_input_with_its_type_and_default() -> None:
    table = {k: v for k, v in _table("ci").items() if not k.startswith(".")}
    assert set(table) == set(_inputs())
    for name, spec in _inputs().items():
        kind, default = table[name][0], table[name][1].strip("`")
        assert kind == spec["type"], name
        expected = spec["default"]
        shown = yaml.safe_load(default)
        assert shown == expected, (name, default, expected)


def test_ci_secret_is_documented_and_optional() -> None:
    data = yaml.safe_load(REUSABLE.read_text("utf-8"))
    secrets = data[True]["workflow_call"]["secrets"]
    for name, spec in secrets.items():
        assert f"`{name}`" in _section("ci")
        assert spec["required"] is False


# --------------------------------------------------------------------- editor


def test_editor_snippets_equal_the_bundle() -> None:
    blocks = _blocks("editor", "jsonc", "json")
    assert len(blocks) == 2
    assert json5.loads(blocks[0]) == json5.loads(
        (ROOT / "vscode" / "settings.json").read_text()
    )
    assert json5.loads(blocks[1]) == json5.loads(
        (ROOT / "vscode" / "extensions.json").read_text()
    )


# --------------------------------------------------------------------- init


def test_init_commands_use_real_options() -> None:
    (block,) = _blocks("init", "bash")
    options = {
        opt for action in mlqa_init._parser()._actions for opt in action.option_strings
    }
    for line in block.splitlines():
        command = line.split("#")[0].split()
        assert command[:2] == ["mlqa", "init"], line
        assert set(command[2:]) <= options, line


def test_init_table_names_every_file_init_writes(tmp_path: Path) -> None:
    rows = _table("init")
    written = {change.path for change in mlqa_init.plan(tmp_path)}
    assert set(rows) == written


def test_init_error_example_is_what_init_prints(tmp_path: Path) -> None:
    (block,) = _blocks("init", "text")
    command, *expected = block.strip().splitlines()
    assert command == "$ mlqa init --yes"
    (tmp_path / ".vscode").mkdir()
    (tmp_path / ".vscode" / "settings.json").write_text('{\n  "a": 1,\n  "b" 2\n}\n')
    result = subprocess.run(
        [sys.executable, "-m", "mlqa", "init", "--yes"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == expected


# --------------------------------------------------------------------- pytest


def test_pytest_snippets_use_options_the_plugin_registers() -> None:
    lines = [
        line.strip()
        for block in _blocks("pytest", "bash", "console", "sh", "")
        for line in block.splitlines()
        if line.strip().startswith(("pytest", "$ pytest", "python -m pytest"))
    ]
    assert lines, "the pytest section shows no pytest command"
    help_text = subprocess.run(
        [sys.executable, "-m", "pytest", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    for line in lines:
        for option in re.findall(r"(?<!\S)(--[\w-]+)", line):
            assert option in help_text, (line, option)


# --------------------------------------------------------------------- the pages


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, - for spaces."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_readme_stays_short_and_links_every_docs_page() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert len(readme.splitlines()) <= 200
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f"(docs/{page.name})" in readme, page.name


# Written by another change; drop it from this set once docs/testing.md exists.
def test_relative_links_and_anchors_resolve() -> None:
    for page in _pages():
        text = re.sub(r"```.*?```", "", page.read_text("utf-8"), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            assert resolved.exists(), (page.name, target)
            if anchor:
                headings = re.findall(
                    r"^#+ (.*)$",
                    re.sub(r"```.*?```", "", resolved.read_text("utf-8"), flags=re.S),
                    re.M,
                )
                assert anchor in {_slug(h) for h in headings}, (page.name, target)
