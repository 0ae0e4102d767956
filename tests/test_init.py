"""Tests for ``mlqa init``: what it writes, what it keeps, and when it refuses."""

from __future__ import annotations

import difflib
import json
import os
import pty
import re
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import json5
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlqa import __version__, config
from mlqa import init as mlqa_init

ROOT = Path(__file__).resolve().parents[1]
#: What `mlqa init` needs at run time besides mlqa itself.
INIT_DEPS = ["tomlkit", "ruamel.yaml"]
FILES = [
    ".pre-commit-config.yaml",
    "pyproject.toml",
    ".vscode/settings.json",
    ".vscode/extensions.json",
    ".github/workflows/mlqa.yml",
]


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


def _init(root: Path, *args: str) -> int:
    return mlqa_init.main([str(root), *args])


def _template_settings() -> dict[str, Any]:
    data: dict[str, Any] = json5.loads((ROOT / "vscode" / "settings.json").read_text())
    # "--mlqa" only where the project depends on mlqa-toolkit (none of these do):
    # without mlqa in the editor's interpreter, it breaks test discovery.
    del data["python.testing.pytestArgs"]
    return data


def _deep_merge(user: dict[str, Any], template: dict[str, Any]) -> dict[str, Any]:
    out = dict(user)
    for key, value in template.items():
        if key not in out:
            out[key] = value
        elif isinstance(value, dict) and isinstance(out[key], dict):
            out[key] = _deep_merge(out[key], value)
    return out


def _validate_with_real_tools(root: Path) -> None:
    """pre-commit and the workflow schema accept what init wrote."""
    bindir = Path(sys.executable).parent
    for cmd in (
        [bindir / "pre-commit", "validate-config", ".pre-commit-config.yaml"],
        [
            bindir / "check-jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            ".github/workflows/mlqa.yml",
        ],
    ):
        if (root / cmd[-1]).exists():
            result = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
            assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------- fresh repo


def test_fresh_repo_gets_every_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _init(tmp_path, "--yes") == 0
    out = capsys.readouterr().out
    assert "wrote 5 file(s)" in out
    for name in FILES:
        assert (tmp_path / name).is_file(), name

    pre_commit = yaml.safe_load((tmp_path / ".pre-commit-config.yaml").read_text())
    (repo,) = pre_commit["repos"]
    assert repo["repo"] == mlqa_init.REPO_URL
    assert repo["rev"] == f"v{__version__}"
    manifest = {
        h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    }
    ids = [h["id"] for h in repo["hooks"]]
    assert set(ids) <= manifest
    assert {
        "mlqa-format",
        "mlqa-lint",
        "mlqa-docstrings",
        "mlqa-strip",
        "mlqa-check",
    } <= set(ids)
    assert len({"mlqa-types", "mlqa-types-system"} & set(ids)) == 1

    loaded = config.load(tmp_path)  # the written [tool.mlqa] is valid
    assert loaded.pyproject == tmp_path / "pyproject.toml"
    assert {"ruff", "mypy", "pydoclint"} <= loaded.tool_tables

    _validate_with_real_tools(tmp_path)

    settings_text = (tmp_path / ".vscode/settings.json").read_text()
    plain = {**_template_settings(), "python.testing.pytestArgs": []}
    assert json5.loads(settings_text) == plain
    assert "template:" not in settings_text
    workflow = (tmp_path / ".github/workflows/mlqa.yml").read_text()
    assert re.search(  # the release's SHA when git ls-remote reaches it, else the tag
        rf"/\.github/workflows/mlqa\.yml@(v{__version__}|[0-9a-f]{{40}} # v{__version__})",
        workflow,
    )


def test_second_run_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _init(tmp_path, "--yes") == 0
    before = _snapshot(tmp_path)
    capsys.readouterr()
    assert _init(tmp_path, "--yes") == 0
    assert "nothing to change" in capsys.readouterr().out
    assert _snapshot(tmp_path) == before


def test_dry_run_prints_a_diff_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    before = _snapshot(tmp_path)
    assert _init(tmp_path, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "--- a/pyproject.toml\n+++ b/pyproject.toml\n" in out
    assert "+[tool.mlqa]\n" in out
    assert "--- /dev/null\n+++ b/.pre-commit-config.yaml\n" in out
    assert "nothing written" in out
    assert _snapshot(tmp_path) == before


def test_without_a_terminal_or_yes_it_refuses(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mlqa", "init", str(tmp_path)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "--yes" in result.stderr and "not a terminal" in result.stderr
    assert "+++ b/.pre-commit-config.yaml" in result.stdout  # it still shows the plan
    assert _snapshot(tmp_path) == {}


@pytest.mark.parametrize(("answer", "code"), [("y\n", 0), ("n\n", 1), ("\n", 1)])
def test_it_asks_on_a_terminal(tmp_path: Path, answer: str, code: int) -> None:
    parent, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlqa", "init", str(tmp_path)],
        stdin=child,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    os.close(child)
    os.write(parent, answer.encode())
    out, err = proc.communicate(timeout=60)
    os.close(parent)
    assert proc.returncode == code, err
    assert b"Apply these changes to 5 file(s)? [y/N]" in out
    written = _snapshot(tmp_path)
    assert (set(written) == set(FILES)) if code == 0 else written == {}


def test_path_must_be_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _init(tmp_path / "missing", "--yes") == 2
    assert "not a directory" in capsys.readouterr().err
    assert mlqa_init.main(["--bogus"]) == 2


# --------------------------------------------------------------------- keeping the user's


SETTINGS_WITH_COMMENTS = """\
// my settings: keep this comment
{
    "editor.rulers": [88], // rulers
    "[python]": {
        "editor.formatOnSave": false, // I decide
        "editor.codeActionsOnSave": {"source.organizeImports.ruff": "never"},
    },
    /* a block
       comment */
    "python.testing.pytestArgs": ["-x"],
}
"""


def test_settings_merge_keeps_comments_values_and_trailing_commas(
    tmp_path: Path,
) -> None:
    (tmp_path / ".vscode").mkdir()
    path = tmp_path / ".vscode/settings.json"
    path.write_text(SETTINGS_WITH_COMMENTS)
    assert _init(tmp_path, "--yes") == 0
    text = path.read_text()
    for comment in (
        "// my settings: keep this comment",
        "// rulers",
        "// I decide",
        "/* a block",
    ):
        assert comment in text
    merged = json5.loads(text)
    user = json5.loads(SETTINGS_WITH_COMMENTS)
    assert merged == _deep_merge(user, _template_settings())
    python = merged["[python]"]
    assert python["editor.formatOnSave"] is False  # the user's choice wins
    assert (
        python["editor.defaultFormatter"] == "ms-python.black-formatter"
    )  # added inside
    assert python["editor.codeActionsOnSave"] == {
        "source.organizeImports.ruff": "never",
        "source.fixAll.ruff": "explicit",
    }
    assert merged["python.testing.pytestArgs"] == ["-x"]
    # The user's lines are all still there, in order.
    lines = iter(text.splitlines())
    for line in SETTINGS_WITH_COMMENTS.splitlines():
        if "codeActionsOnSave" not in line:  # that one-line object gained a key
            assert any(line == candidate for candidate in lines), line
    assert _init(tmp_path, "--yes") == 0
    assert path.read_text() == text


@pytest.mark.parametrize(
    "text",
    [
        "{}",
        "{}\n",
        "{\n}\n",
        "{ // only a comment\n}\n",
        "// nothing yet\n",
        "",
        '{"editor.rulers": [88]}',
        '{\r\n    "editor.rulers": [88]\r\n}\r\n',
        '{\n\t"[python]": {\n\t\t"editor.tabSize": 4\n\t}\n}\n',
        '{\n  "a": 1 /* trailing */ }\n',
        '{\n  "a": 1, "b": 2,\n  "c": {"d": 1}}\n',
    ],
)
def test_settings_merge_handles_every_layout(tmp_path: Path, text: str) -> None:
    (tmp_path / ".vscode").mkdir()
    path = tmp_path / ".vscode/settings.json"
    path.write_bytes(text.encode())
    assert _init(tmp_path, "--yes") == 0
    new = path.read_bytes().decode()
    has_value = re.sub(r"//.*", "", text).strip()
    user = json5.loads(text) if has_value else {}
    assert json5.loads(new) == _deep_merge(user, _template_settings())
    if "\r\n" in text:
        assert "\n" not in new.replace("\r\n", "")
    if "\t" in text:
        assert '\n\t"notebook.formatOnSave.enabled"' in new
    assert _init(tmp_path, "--yes") == 0
    assert path.read_bytes().decode() == new


KEYS = st.sampled_from(
    [
        "[python]",
        "editor.formatOnSave",
        "notebook.codeActionsOnSave",
        "x.y",
        "python.testing.pytestArgs",
    ]
)
VALUES: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text("ab", max_size=3),
    lambda inner: st.lists(inner, max_size=2)
    | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=6,
)


# examples: the Hypothesis profile's (20 inner loop, 100 with --hypothesis-profile=ci,
# capped at 40 here: each runs a real `mlqa init` merge, about 0.2 s)
@settings(
    max_examples=min(40, settings().max_examples),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    user=st.dictionaries(KEYS, VALUES, max_size=4),
    indent=st.sampled_from([None, 2, 4, "\t"]),
    trailing=st.booleans(),
    comment=st.booleans(),
)
def test_settings_merge_property(
    user: dict[str, Any], indent: int | str | None, trailing: bool, comment: bool
) -> None:
    text = json.dumps(user, indent=indent)
    if trailing:
        text = re.sub(r"(\S)(\s*)([}\]])$", r"\1,\2\3", text) if user else text
    if comment:
        text = "// mine\n" + text.replace("{", "{ /* c */", 1)
    new, _ = mlqa_init.merge_jsonc("settings.json", text, _template_settings())
    assert json5.loads(new) == _deep_merge(user, _template_settings())
    if comment:
        assert "// mine" in new and "/* c */" in new
    again, added = mlqa_init.merge_jsonc("settings.json", new, _template_settings())
    assert again == new and added == []


def test_extensions_merge_keeps_users_and_respects_unwanted(tmp_path: Path) -> None:
    (tmp_path / ".vscode").mkdir()
    path = tmp_path / ".vscode/extensions.json"
    path.write_text(
        '{\n  // mine\n  "recommendations": [\n    "foo.bar",\n    "ms-python.python"\n  ],\n'
        '  "unwantedRecommendations": ["njpwerner.autodocstring"]\n}\n'
    )
    assert _init(tmp_path, "--yes") == 0
    data = json5.loads(path.read_text())
    assert "// mine" in path.read_text()
    assert data["recommendations"] == [
        "foo.bar",
        "ms-python.python",
        "ms-python.black-formatter",
        "charliermarsh.ruff",
        "ms-python.mypy-type-checker",
    ]
    assert '\n    "charliermarsh.ruff",\n' in path.read_text()


PRE_COMMIT_OLD_STYLE = """\
# my hooks
repos:
-   repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v4.6.0   # pinned
    hooks:
    -   id: trailing-whitespace
    -   id: end-of-file-fixer
"""


@pytest.mark.parametrize(
    "text",
    [
        PRE_COMMIT_OLD_STYLE,
        PRE_COMMIT_OLD_STYLE.replace("-   ", "  - ").replace(
            "    -   id", "      - id"
        ),
        "default_stages: [pre-commit]\nrepos: []\n",
        "# nothing here yet\n",
    ],
)
def test_pre_commit_merge_appends_mlqa_and_keeps_the_rest(
    tmp_path: Path, text: str
) -> None:
    path = tmp_path / ".pre-commit-config.yaml"
    path.write_text(text)
    assert _init(tmp_path, "--yes") == 0
    new = path.read_text()
    if "repos: []" not in text:
        assert new.startswith(text)  # the user's bytes are untouched
    data = yaml.safe_load(new)
    old_repos = (yaml.safe_load(text) or {}).get("repos", [])
    assert data["repos"][: len(old_repos)] == old_repos
    assert data["repos"][-1]["repo"] == mlqa_init.REPO_URL
    _validate_with_real_tools(tmp_path)
    assert _init(tmp_path, "--yes") == 0
    assert path.read_text() == new


OURS_INDENTED = """\
  - repo: https://github.com/mlqa-dev/mlqa.git
    rev: v0.0.9  # mine
    hooks:
      - id: mlqa-types-system
      - id: mlqa-format
        args: [--quiet]
"""
OURS_FLUSH = """\
-   repo: https://github.com/mlqa-dev/mlqa.git
    rev: v0.0.9  # mine
    hooks:
    -   id: mlqa-types-system
    -   id: mlqa-format
        args: [--quiet]
"""


@pytest.mark.parametrize("other_first", [False, True])
@pytest.mark.parametrize("ours", [OURS_INDENTED, OURS_FLUSH], ids=["indented", "flush"])
def test_pre_commit_existing_mlqa_repo_keeps_its_rev_and_gains_hooks(
    tmp_path: Path, ours: str, other_first: bool
) -> None:
    dash = ours[: ours.index("repo:")]
    other = f"{dash}repo: local  # a comment\n{' ' * len(dash)}hooks: []\n"
    text = "# top\nrepos:\n" + (other + ours if other_first else ours + other)
    path = tmp_path / ".pre-commit-config.yaml"
    path.write_text(text)
    assert _init(tmp_path, "--yes") == 0
    new = path.read_text()
    # Only additions: every line of the user's file is still there, in order.
    diff = list(difflib.ndiff(text.splitlines(), new.splitlines()))
    assert not [line for line in diff if line.startswith("- ")], "\n".join(diff)
    assert "rev: v0.0.9  # mine" in new and "# a comment" in new
    repo = next(r for r in yaml.safe_load(new)["repos"] if r["repo"] != "local")
    ids = [h["id"] for h in repo["hooks"]]
    assert ids[:2] == ["mlqa-types-system", "mlqa-format"]
    assert repo["hooks"][1]["args"] == ["--quiet"]
    assert "mlqa-types" not in ids  # the system variant already does that job
    assert {"mlqa-lint", "mlqa-docstrings", "mlqa-strip", "mlqa-check"} <= set(ids)
    _validate_with_real_tools(tmp_path)


def test_pyproject_keeps_comments_and_users_tool_tables(tmp_path: Path) -> None:
    text = (
        "# my project\n[project]\nname = 'demo'  # the name\n\n"
        "[tool.ruff]\nline-length = 100  # mine\n"
    )
    (tmp_path / "pyproject.toml").write_text(text)
    (tmp_path / "setup.cfg").write_text(
        "[metadata]\nname = demo\n\n[mypy]\nstrict = True\n"
    )
    assert _init(tmp_path, "--yes") == 0
    new = (tmp_path / "pyproject.toml").read_text()
    assert new.startswith(text)
    loaded = config.load(tmp_path)
    assert loaded.raw["tool"]["ruff"] == {"line-length": 100}
    assert "mypy" not in loaded.raw["tool"]  # setup.cfg configures it already
    assert {"mlqa", "pydoclint"} <= set(loaded.raw["tool"])


@pytest.mark.parametrize("command", ["lint", "docstrings"])
def test_written_presets_behave_like_mlqa_defaults(
    tmp_path: Path, command: str
) -> None:
    # With no config mlqa uses its bundled presets; after `mlqa init` the tools read
    # the tables written into pyproject.toml. Both must report the same findings.
    source = (
        "import os\nimport sys\n\n\ndef f(x: int, y: int) -> int:\n"
        '    """Do it.\n\n    Args:\n        x: The x.\n    """\n'
        "    l = [i for i in [1, 2]]\n    return x\n"
    )
    bare, inited = tmp_path / "bare", tmp_path / "inited"
    for repo in (bare, inited):
        (repo / "pkg").mkdir(parents=True)
        (repo / "pkg" / "mod.py").write_text(source)
    (bare / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (inited / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert _init(inited, "--yes") == 0
    outputs = []
    for repo in (bare, inited):
        result = subprocess.run(
            [sys.executable, "-m", "mlqa", command, "pkg/mod.py"],
            cwd=repo,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 1, result.stdout + result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]


# --------------------------------------------------------------------- refusing bad input


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        (
            ".vscode/settings.json",
            '{\n  "a": 1,\n  "b" 2\n}\n',
            ".vscode/settings.json:3:",
        ),
        (".vscode/settings.json", "[1, 2]\n", ".vscode/settings.json:1:"),
        (".vscode/settings.json", '{\n  "a": tru\n}\n', ".vscode/settings.json:2:"),
        (
            ".vscode/extensions.json",
            '{"recommendations": "x"}',
            ".vscode/extensions.json:1:",
        ),
        ("pyproject.toml", "[project]\nname = \n", "pyproject.toml:2:"),
        ("pyproject.toml", "[tool.mlqa]\nbogus = 1\n", "pyproject.toml:2:"),
        (
            ".pre-commit-config.yaml",
            "repos:\n  - repo: x\n   rev: [\n",
            ".pre-commit-config.yaml:",
        ),
        (".pre-commit-config.yaml", "- just a list\n", ".pre-commit-config.yaml:1:"),
    ],
)
def test_malformed_input_is_refused_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, where: str
) -> None:
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(text)
    before = _snapshot(tmp_path)
    assert _init(tmp_path, "--yes") == 2
    err = capsys.readouterr().err
    first = err.splitlines()[0]
    assert first.startswith(str(tmp_path / where.split(":")[0]) + ":"), err
    assert re.match(rf"{re.escape(str(tmp_path))}/{re.escape(where)}", first), err
    assert "Traceback" not in err and "nothing written" in err
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("pyproject.toml", "tool = 1\n", "[tool] must be a table"),
        ("pyproject.toml", "[tool]\nmlqa = 1\n", "tool.mlqa must be a table"),
        (".pre-commit-config.yaml", "repos:\n  - 3\n", "must be a mapping"),
        (".vscode", "a file where a folder should be", "not a directory"),
    ],
)
def test_more_bad_input_is_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    text: str,
    message: str,
) -> None:
    (tmp_path / name).write_text(text)
    before = _snapshot(tmp_path)
    assert _init(tmp_path, "--yes") == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert _snapshot(tmp_path) == before


def test_crlf_and_no_final_newline_are_respected(tmp_path: Path) -> None:
    (tmp_path / ".pre-commit-config.yaml").write_bytes(
        b"repos:\r\n  - repo: local\r\n    hooks: []\r\n"
    )
    (tmp_path / "pyproject.toml").write_bytes(b"[project]\r\nname = 'x'")
    (tmp_path / "ruff.toml").write_text("line-length = 100\n")
    assert _init(tmp_path, "--yes") == 0
    pre_commit = (tmp_path / ".pre-commit-config.yaml").read_bytes()
    assert b"\n" not in pre_commit.replace(b"\r\n", b"")
    pyproject = (tmp_path / "pyproject.toml").read_bytes()
    assert pyproject.startswith(b"[project]\r\nname = 'x'\r\n\r\n[tool.mlqa]\r\n")
    assert b"[tool.ruff" not in pyproject  # ruff.toml configures ruff already
    assert _init(tmp_path, "--yes") == 0
    assert (tmp_path / "pyproject.toml").read_bytes() == pyproject


@pytest.mark.parametrize(
    "text",
    ["// none yet\n", '{\n    "unwantedRecommendations": ["charliermarsh.ruff"]\n}\n'],
)
def test_extensions_without_recommendations(tmp_path: Path, text: str) -> None:
    (tmp_path / ".vscode").mkdir()
    path = tmp_path / ".vscode/extensions.json"
    path.write_text(text)
    assert _init(tmp_path, "--yes") == 0
    data = json5.loads(path.read_text())
    assert "ms-python.python" in data["recommendations"]
    assert ("charliermarsh.ruff" in data["recommendations"]) is ("unwanted" not in text)
    assert path.read_text().startswith(text.split("{")[0])


def test_ruff_preset_follows_requires_python(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname = 'x'\nrequires-python = '>=3.9'\n"
    )
    assert _init(tmp_path, "--yes") == 0
    ruff = config.load(tmp_path).raw["tool"]["ruff"]
    assert "target-version" not in ruff  # ruff infers py39 from requires-python
    assert ruff["lint"]["external"] == ["MLQ"]
    bare = tmp_path / "bare"
    bare.mkdir()
    assert _init(bare, "--yes") == 0
    assert config.load(bare).raw["tool"]["ruff"]["target-version"] == "py310"


def test_symlinked_settings_are_written_through_the_link(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "settings.json"
    real.parent.mkdir()
    real.write_text('{\n    "editor.rulers": [88]\n}\n')
    repo = tmp_path / "repo"
    (repo / ".vscode").mkdir(parents=True)
    (repo / ".vscode" / "settings.json").symlink_to(real)
    assert _init(repo, "--yes") == 0
    assert (repo / ".vscode" / "settings.json").is_symlink()
    assert json5.loads(real.read_text())["editor.rulers"] == [88]
    assert "python.testing.pytestEnabled" in real.read_text()


def test_a_failed_write_is_one_clean_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A dangling link counts as a missing file, so the plan passes; the write
    # then fails (the link's folder does not exist). Root may write anywhere,
    # so a missing folder, not permissions, makes it fail.
    (tmp_path / ".vscode").mkdir()
    link = tmp_path / ".vscode" / "settings.json"
    link.symlink_to(tmp_path / "missing" / "settings.json")
    assert _init(tmp_path, "--yes") == 2
    err = capsys.readouterr().err
    assert err == f"{link}: cannot write file: No such file or directory\n"
    assert not (tmp_path / "missing").exists()


# --------------------------------------------------------------------- from a wheel


@pytest.mark.slow
def test_init_from_an_installed_wheel(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    try:  # build offline with the installed backend when there is one
        import hatchling  # noqa: F401

        isolation = ["--no-build-isolation"]
    except ImportError:
        isolation = []
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            *isolation,
            "-w",
            dist,
            ROOT,
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("mlqa_toolkit-*.whl")  # the distribution's name on PyPI
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    python = env_dir / "bin" / "python"
    pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "--no-deps", wheel], check=True, capture_output=True)
    # Only what `mlqa init` needs, not the tools it configures.
    subprocess.run([*pip, *INIT_DEPS], check=True, capture_output=True)
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", repo], check=True)
    (repo / "pyproject.toml").write_text("# keep me\n[project]\nname = 'x'\n")
    result = subprocess.run(
        [python, "-m", "mlqa", "init", "--yes"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    import mlqa

    located = subprocess.run(
        [python, "-c", "import mlqa.templates as t; print(t.template_dir('vscode'))"],
        capture_output=True,
        text=True,
        cwd=repo,
    ).stdout.strip()
    assert located.startswith(site) and "_templates" in located
    assert not located.startswith(str(Path(mlqa.__file__).parent))
    for name in FILES:
        assert (repo / name).is_file(), name
    assert (repo / "pyproject.toml").read_text().startswith("# keep me\n")
    assert json5.loads((repo / ".vscode/settings.json").read_text()) == {
        **_template_settings(),
        "python.testing.pytestArgs": [],
    }
    again = subprocess.run(
        [python, "-m", "mlqa", "init", "--yes"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0 and "nothing to change" in again.stdout
