"""The contract between mlqa's reusable workflows and every caller it ships.

GitHub refuses to start a called workflow whose jobs request a permission the
caller's job does not grant (it checks before evaluating any ``if:``), so every
caller mlqa ships (the self-test, the ``workflows/`` templates, the YAML in the
README and docs, and what ``mlqa init`` writes for each repository layout) is
parsed here and its grants compared with what the called jobs request. The
workflow's shell steps run here too, with the environment GitHub would give
them: the matrix plan, the install modes, pytest's "no tests" exit, shards with
combined coverage, and root-relative annotation and SARIF paths.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import json5
import pytest
import yaml

from mlqa.init import vscode as init_vscode
from mlqa.init import workflow as init_workflow

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
REUSABLE = {
    path.name: path
    for path in sorted(WORKFLOWS.glob("*.yml"))
    if "workflow_call" in (yaml.safe_load(path.read_text("utf-8")).get(True) or {})
}
BIN = Path(sys.executable).parent
LEVELS = {"none": 0, "read": 1, "write": 2}
#: The actions used, at the newest release of their current major version
#: (checked against each action's tags: ``git rev-parse vX.Y.Z^{commit}``).
PINS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "actions/cache": ("27d5ce7f107fe9357f9df03efb73ab90386fccae", "v5.0.5"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/download-artifact": (
        "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c",
        "v8.0.1",
    ),
    "github/codeql-action/upload-sarif": (
        "8aad20d150bbac5944a9f9d289da16a4b0d87c1e",
        "v4.36.2",
    ),
}


def _load(text: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _on(data: dict[str, Any]) -> Any:
    return data.get("on", data.get(True))  # YAML 1.1 reads `on` as True


def _perms(value: Any) -> dict[str, int]:
    """Permissions as levels; GitHub's shorthands included."""
    if value in ("read-all", "write-all"):
        raise AssertionError(f"shorthand permissions {value!r}: list them")
    assert isinstance(value, dict), value
    return {scope: LEVELS[level] for scope, level in value.items()}


def requests(workflow: dict[str, Any]) -> dict[str, int]:
    """Everything the jobs of a called workflow ask for, highest level per scope."""
    top = workflow.get("permissions")
    wanted: dict[str, int] = {}
    for name, job in workflow["jobs"].items():
        perms = job.get("permissions", top)
        assert perms is not None, f"job {name} relies on the default token"
        for scope, level in _perms(perms).items():
            wanted[scope] = max(wanted.get(scope, 0), level)
    return wanted


def missing_grants(caller: dict[str, Any]) -> list[str]:
    """What each job calling one of mlqa's workflows fails to grant, or grants extra."""
    problems = []
    for name, job in caller["jobs"].items():
        uses = job.get("uses", "")
        match = re.search(r"\.github/workflows/([\w.-]+\.yml)(?:@|$)", uses)
        if not match or match.group(1) not in REUSABLE:
            continue
        grants = job.get("permissions", caller.get("permissions"))
        if grants is None:
            problems.append(f"{name}: no permissions (the default token)")
            continue
        granted = _perms(grants)
        wanted = requests(_load(REUSABLE[match.group(1)].read_text("utf-8")))
        for scope, level in wanted.items():
            if granted.get(scope, 0) < level:
                problems.append(f"{name}: grants {scope} below what {uses} requests")
        for scope, level in granted.items():
            if level > wanted.get(scope, 0):
                problems.append(f"{name}: grants {scope} that {uses} never requests")
    return problems


def _doc_callers() -> list[tuple[str, str]]:
    out = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = page.read_text("utf-8")
        for body in re.findall(r"```ya?ml\n(.*?)```", text, re.S):
            if re.search(r"uses: .*\.github/workflows/", body):
                out.append((page.relative_to(ROOT).as_posix(), body))
    return out


def _layouts(tmp_path: Path) -> dict[str, Path]:
    """Three repositories as ``mlqa init`` meets them."""
    flat = tmp_path / "flat"  # nanoGPT-like: scripts, no metadata, no requirements
    flat.mkdir()
    (flat / "train.py").write_text("import torch\n")
    reqs = tmp_path / "reqs"  # Made-With-ML-like: requirements files, several folders
    (reqs / "madewithml").mkdir(parents=True)
    (reqs / "requirements.txt").write_text("numpy\n")
    (reqs / "requirements-dev.txt").write_text("pytest\n")
    (reqs / "pyproject.toml").write_text("[tool.black]\nline-length = 100\n")
    package = tmp_path / "package"
    package.mkdir()
    (package / "pyproject.toml").write_text(
        "[project]\nname = 'p'\nversion = '0'\n"
        "[project.optional-dependencies]\ntest = ['pytest']\ndev = ['ruff']\n"
    )
    return {"flat": flat, "reqs": reqs, "package": package}


def _tool(name: str) -> str:
    found = shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        pytest.fail(f"{name} is not installed (it is a dev dependency)")
    return found


# --------------------------------------------------------------------- permissions


def test_there_are_two_reusable_workflows() -> None:
    assert set(REUSABLE) == {"mlqa.yml", "mlqa-sarif.yml"}


def test_main_workflow_requests_contents_read_only() -> None:
    # The whole point of the split: callers of mlqa.yml grant only this.
    assert requests(_load(REUSABLE["mlqa.yml"].read_text())) == {"contents": 1}
    assert requests(_load(REUSABLE["mlqa-sarif.yml"].read_text())) == {
        "contents": 1,
        "security-events": 2,
    }


CALLER_FILES = [
    WORKFLOWS / "self-test.yml",
    *sorted((ROOT / "workflows").glob("*.yml")),
]


@pytest.mark.parametrize("path", CALLER_FILES, ids=lambda p: p.name)
def test_shipped_caller_files_grant_exactly_what_is_requested(path: Path) -> None:
    caller = _load(path.read_text("utf-8"))
    assert caller["permissions"] == {}
    assert any("uses" in job for job in caller["jobs"].values())
    assert missing_grants(caller) == []


def test_callers_in_readme_and_docs_grant_exactly_what_is_requested() -> None:
    callers = _doc_callers()
    assert callers, "no caller snippet found in the docs"
    for page, body in callers:
        assert missing_grants(_load(body)) == [], page


@pytest.mark.parametrize("layout", ["flat", "reqs", "package"])
def test_callers_init_writes_grant_exactly_what_is_requested(
    tmp_path: Path, layout: str
) -> None:
    root = _layouts(tmp_path)[layout]
    change = init_workflow.plan_workflow(root)
    assert missing_grants(_load(change.new)) == []


def test_the_check_catches_a_caller_that_grants_too_little() -> None:
    # The layout this design replaced: an upload job inside the called workflow
    # made every `contents: read` caller fail at start-up.
    called = _load(REUSABLE["mlqa-sarif.yml"].read_text())
    caller = {
        "permissions": {},
        "jobs": {
            "a": {
                "uses": "o/r/.github/workflows/mlqa-sarif.yml@" + "0" * 40,
                "permissions": {"contents": "read"},
            },
            "b": {
                "uses": "o/r/.github/workflows/mlqa.yml@" + "0" * 40,
                "permissions": {"contents": "write"},
            },
        },
    }
    assert requests(called)["security-events"] == LEVELS["write"]
    assert missing_grants(caller) == [
        "a: grants security-events below what "
        "o/r/.github/workflows/mlqa-sarif.yml@" + "0" * 40 + " requests",
        "b: grants contents that o/r/.github/workflows/mlqa.yml@"
        + "0" * 40
        + " never requests",
    ]


# --------------------------------------------------------------------- robustness


@pytest.mark.parametrize("name", sorted(REUSABLE))
def test_every_job_has_a_time_limit(name: str) -> None:
    for job_name, job in _load(REUSABLE[name].read_text())["jobs"].items():
        assert "timeout-minutes" in job, job_name


def test_actions_are_pinned_to_the_current_major_release() -> None:
    seen = set()
    for path in [*REUSABLE.values(), *CALLER_FILES]:
        for line in path.read_text("utf-8").splitlines():
            match = re.match(r"\s*(?:- )?uses: ([\w./-]+)@(\S+)(?: # (\S+))?$", line)
            if not match or "/.github/workflows/" in line:
                continue
            action, sha, version = match.groups()
            assert PINS[action] == (sha, version), line
            seen.add(action)
    assert seen == set(PINS)


@pytest.mark.parametrize("action", sorted(PINS))
def test_pins_match_the_tags_in_a_local_mirror(action: str) -> None:
    # Only where this machine has a mirror of the action's repository.
    repo = "+".join(action.split("/")[:2])
    mirror = Path("/work/.mirror") / repo / "repo"
    if not mirror.is_dir():
        pytest.skip(f"no local mirror of {action}")
    sha, version = PINS[action]
    tagged = subprocess.run(
        ["git", f"--git-dir={mirror}", "rev-parse", f"{version}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert tagged == sha
    tags = subprocess.run(
        ["git", f"--git-dir={mirror}", "tag", "--list", "v*.*.*"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    newest = max(
        tuple(int(x) for x in t[1:].split("."))
        for t in tags
        if re.fullmatch(r"v\d+\.\d+\.\d+", t)
    )
    assert int(version[1:].split(".")[0]) == newest[0]


def _step(workflow: str, job: str, name: str) -> dict[str, Any]:
    for step in _load(REUSABLE[workflow].read_text())["jobs"][job]["steps"]:
        if step.get("name") == name:
            return step  # type: ignore[no-any-return]
    raise AssertionError(f"no step {name!r} in {workflow} job {job}")


def test_the_install_steps_of_suite_and_tests_are_one_script() -> None:
    suite = _step("mlqa.yml", "suite", "Install")
    tests = _step("mlqa.yml", "tests", "Install")
    assert suite["run"] == tests["run"]
    assert set(suite["env"]) == set(tests["env"])


def test_mlqa_is_installed_from_the_pinned_commit_by_default() -> None:
    for workflow, job, name in [
        ("mlqa.yml", "suite", "Install"),
        ("mlqa.yml", "tests", "Install"),
        ("mlqa-sarif.yml", "sarif", "Install mlqa"),
    ]:
        step = _step(workflow, job, name)
        assert step["env"]["WORKFLOW_REPOSITORY"] == "${{ job.workflow_repository }}"
        assert step["env"]["WORKFLOW_SHA"] == "${{ job.workflow_sha }}"
        assert "git+$WORKFLOW_SERVER/$WORKFLOW_REPOSITORY@$WORKFLOW_SHA" in step["run"]
        inputs = _on(_load(REUSABLE[workflow].read_text()))["workflow_call"]["inputs"]
        assert inputs["mlqa-requirement"]["default"] == ""
    text = "\n".join(p.read_text() for p in REUSABLE.values())
    assert not re.search(r"pip install[^\n]*[\"' ]mlqa(==|[\"' ]|$)", text, re.M)


def _run(
    script: str, cwd: Path, path_first: Path = BIN, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "PATH": f"{path_first}{os.pathsep}{os.environ['PATH']}",
        "OMP_NUM_THREADS": "1",
        **env,
    }
    environ.pop("CI", None)
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
    )


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


@pytest.mark.parametrize(
    ("versions", "shards", "python", "first", "runs"),
    [
        ("3.11", "1", ["3.11"], "3.11", [1]),
        ("3.10, 3.12", "3", ["3.10", "3.12"], "3.10", [1, 2, 3]),
        ('["3.12", "3.13"]', "2", ["3.12", "3.13"], "3.12", [1, 2]),
        ("3.10\n3.11", "1", ["3.10", "3.11"], "3.10", [1]),
    ],
)
def test_plan_builds_the_matrix(
    tmp_path: Path,
    versions: str,
    shards: str,
    python: list[str],
    first: str,
    runs: list[int],
) -> None:
    out = tmp_path / "out"
    out.touch()
    script = _step("mlqa.yml", "plan", "Plan the matrix")["run"]
    result = _run(
        script, tmp_path, PYTHON_VERSION=versions, SHARDS=shards, GITHUB_OUTPUT=str(out)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    got = _outputs(out)
    assert json.loads(got["python"]) == python
    assert got["first"] == first
    assert json.loads(got["shards"]) == runs


@pytest.mark.parametrize(
    ("versions", "shards"), [("3.11", "0"), ("3.11", "x"), ("", "1"), ("3.11; rm", "1")]
)
def test_plan_refuses_bad_inputs(tmp_path: Path, versions: str, shards: str) -> None:
    out = tmp_path / "out"
    out.touch()
    script = _step("mlqa.yml", "plan", "Plan the matrix")["run"]
    result = _run(
        script, tmp_path, PYTHON_VERSION=versions, SHARDS=shards, GITHUB_OUTPUT=str(out)
    )
    assert result.returncode == 2
    assert result.stdout.startswith("::error title=mlqa::")
    assert out.read_text() == ""


def _fake_python(tmp_path: Path) -> Path:
    """A `python` that logs its arguments and runs nothing (for the install logic)."""
    bindir = tmp_path / "fakebin"
    bindir.mkdir()
    for name in ("python", "mlqa"):
        tool = bindir / name
        tool.write_text(f'#!/bin/sh\necho "{name} $*" >> "$CALLS"\n')
        tool.chmod(0o755)
    return bindir


INSTALL_ENV = {
    "PIP_INDEX_URL": "",
    "CPU_TORCH": "false",
    "TORCH_VERSION": "",
    "TORCH_INDEX_URL": "https://download.pytorch.org/whl/cpu",
    "INSTALL": "editable",
    "EXTRAS": "",
    "REQUIREMENTS": "requirements.txt",
    "INSTALL_COMMAND": "",
    "MLQA_REQUIREMENT": "",
    "WORKFLOW_SERVER": "https://github.com",
    "WORKFLOW_REPOSITORY": "mlqa-dev/mlqa",
    "WORKFLOW_SHA": "a" * 40,
    "TOOLS": "pytest pytest-cov",
}
PIP = "python -m pip install"
MLQA_AT_SHA = f"{PIP} mlqa-toolkit @ git+https://github.com/mlqa-dev/mlqa@{'a' * 40}"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"INSTALL": "editable", "EXTRAS": "dev,test"},
            [f"{PIP} -e .[dev,test]", MLQA_AT_SHA],
        ),
        (
            {
                "INSTALL": "requirements",
                "REQUIREMENTS": "requirements.txt,\n req/dev.txt",
            },
            [f"{PIP} -r requirements.txt -r req/dev.txt", MLQA_AT_SHA],
        ),
        ({"INSTALL": "none"}, [MLQA_AT_SHA]),
        (
            {"INSTALL": "none", "MLQA_REQUIREMENT": "mlqa-toolkit==0.1.0"},
            [f"{PIP} mlqa-toolkit==0.1.0"],
        ),
        ({"INSTALL": "editable", "MLQA_REQUIREMENT": "none"}, [f"{PIP} -e ."]),
        (
            {"CPU_TORCH": "true", "TORCH_VERSION": "2.4.0", "INSTALL": "none"},
            [
                f"{PIP} torch==2.4.0 --index-url https://download.pytorch.org/whl/cpu",
                MLQA_AT_SHA,
            ],
        ),
    ],
)
def test_install_modes_run_the_right_pip_commands(
    tmp_path: Path, env: dict[str, str], expected: list[str]
) -> None:
    calls = tmp_path / "calls"
    script = _step("mlqa.yml", "tests", "Install")["run"]
    result = _run(
        script,
        tmp_path,
        _fake_python(tmp_path),
        **{**INSTALL_ENV, **env, "CALLS": str(calls)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    logged = calls.read_text().splitlines()
    assert logged[0] == "python -m pip install --upgrade pip"
    assert logged[1:] == [*expected, f"{PIP} pytest pytest-cov", "mlqa --version"]


def test_install_command_mode_runs_the_command_in_the_project(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    script = _step("mlqa.yml", "suite", "Install")["run"]
    result = _run(
        script,
        tmp_path,
        _fake_python(tmp_path),
        **{
            **INSTALL_ENV,
            "INSTALL": "command",
            "INSTALL_COMMAND": "echo made > marker && python -m pip install ./lib",
            "TOOLS": "",
            "CALLS": str(calls),
        },
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "marker").read_text() == "made\n"
    assert f"{PIP} ./lib" in calls.read_text().splitlines()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"INSTALL": "poetry"},
            "install must be editable, requirements, command or none",
        ),
        ({"INSTALL": "command"}, "install: command needs 'install-command'"),
        ({"INSTALL": "requirements", "REQUIREMENTS": " "}, "needs at least one file"),
        ({"INSTALL": "none", "WORKFLOW_SHA": ""}, "set mlqa-requirement"),
    ],
)
def test_install_refuses_what_it_cannot_do(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    calls = tmp_path / "calls"
    script = _step("mlqa.yml", "tests", "Install")["run"]
    result = _run(
        script,
        tmp_path,
        _fake_python(tmp_path),
        **{**INSTALL_ENV, **env, "CALLS": str(calls)},
    )
    assert result.returncode == 2
    assert message in result.stdout
    assert "mlqa --version" not in calls.read_text()


# --------------------------------------------------------------------- tests job


def _project(root: Path, tests: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\n\n'
        '[tool.coverage.run]\nsource = ["demo"]\n'
    )
    (root / "demo.py").write_text(
        "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
    )
    if tests:
        (root / "test_demo.py").write_text(tests)
    return root


PYTEST_ENV = {
    "PYTEST_ARGS": "-q -p no:cacheprovider -p no:randomly",
    "COVERAGE": "0",
    "SHARDS": "1",
    "SHARD": "1",
    "FAIL_ON_NO_TESTS": "false",
    "COVERAGE_FILE": ".coverage.mlqa-py3.11-1",
}


def test_no_tests_collected_is_a_notice_unless_asked(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", "")
    script = _step("mlqa.yml", "tests", "pytest --mlqa")["run"]
    quiet = _run(script, project, **PYTEST_ENV)
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert "::notice title=pytest::no tests collected" in quiet.stdout
    strict = _run(script, project, **{**PYTEST_ENV, "FAIL_ON_NO_TESTS": "true"})
    assert strict.returncode == 5
    (project / "test_demo.py").write_text(
        "def test_x():\n    assert False\n\n\ndef test_y():\n    pass\n"
    )
    failing = _run(script, project, **PYTEST_ENV)
    assert failing.returncode == 1
    assert "::notice" not in failing.stdout
    # Quotes group words, as in a shell: one -k expression with spaces.
    quoted = {**PYTEST_ENV, "PYTEST_ARGS": "-p no:cacheprovider -k 'not test_x and y'"}
    selected = _run(script, project, **quoted)
    assert selected.returncode == 0, selected.stdout + selected.stderr
    assert "1 passed, 1 deselected" in selected.stdout


@pytest.mark.slow
def test_shards_split_the_tests_and_the_coverage_job_checks_the_total(
    tmp_path: Path,
) -> None:
    tests = (
        "from demo import add, sub\n\n\n"
        "def test_add():\n    assert add(1, 2) == 3\n\n\n"
        "def test_sub():\n    assert sub(3, 2) == 1\n"
    )
    project = _project(tmp_path / "p", tests)
    script = _step("mlqa.yml", "tests", "pytest --mlqa")["run"]
    ran = []
    for shard in ("1", "2"):
        env = {
            **PYTEST_ENV,
            "PYTEST_ARGS": "-v -p no:cacheprovider -p no:randomly",
            "SHARDS": "2",
            "SHARD": shard,
            "COVERAGE": "100",  # each shard alone covers half: not checked there
            "COVERAGE_FILE": f".coverage.mlqa-py3.11-{shard}",
        }
        result = _run(script, project, **env)
        assert result.returncode == 0, result.stdout + result.stderr
        ran.append(set(re.findall(r"::(test_\w+) PASSED", result.stdout)))
    assert ran[0] and ran[1] and ran[0].isdisjoint(ran[1])
    assert ran[0] | ran[1] == {"test_add", "test_sub"}
    combine = _step("mlqa.yml", "coverage", "Combine coverage")["run"]
    # The combine job installs coverage; here it is already there.
    combine = combine.replace('python -m pip install "coverage[toml]>=7"\n', "")
    total = _run(combine, project, COVERAGE="100")
    assert total.returncode == 0, total.stdout + total.stderr
    assert re.search(r"TOTAL\s+\d+\s+0\s+100%", total.stdout), total.stdout
    # A shard's tests alone do not reach 100%: the threshold is real.
    for data in project.glob(".coverage*"):
        data.unlink()
    env = {
        **PYTEST_ENV,
        "SHARDS": "2",
        "SHARD": "1",
        "COVERAGE_FILE": ".coverage.mlqa-a",
    }
    assert _run(script, project, **env).returncode == 0
    partial = _run(combine, project, COVERAGE="100")
    assert partial.returncode == 2 and "less than fail-under" in partial.stdout


# --------------------------------------------------------------------- paths from the root


def _repo_with_subproject(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    sub = repo / "ml"
    sub.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (sub / "pyproject.toml").write_text('[project]\nname = "s"\nversion = "0"\n')
    (sub / "train.py").write_text(
        '"""Train."""\n\nimport torch\n\noptimizer = torch.optim.Adam([], lr=0.001)\n'
    )
    return repo


@pytest.mark.slow
def test_annotations_are_relative_to_the_repository_root(tmp_path: Path) -> None:
    repo = _repo_with_subproject(tmp_path)
    script = _step("mlqa.yml", "suite", "mlqa run")["run"]
    result = _run(script, repo, NOTEBOOKS="true", PROJECT="ml")
    assert result.returncode == 1, result.stdout + result.stderr
    files = set(re.findall(r"^::error file=([^,]+),", result.stdout, re.M))
    assert files == {"ml/train.py"}, result.stdout


def test_sarif_paths_are_relative_to_the_repository_root(tmp_path: Path) -> None:
    repo = _repo_with_subproject(tmp_path)
    script = _step("mlqa-sarif.yml", "sarif", "mlqa check (SARIF)")["run"]
    result = _run(script, repo, PROJECT="ml")
    assert result.returncode == 0, result.stderr
    sarif = json.loads((repo / "mlqa.sarif").read_text())
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for res in sarif["runs"][0]["results"]
        for loc in res["locations"]
    }
    assert uris == {"ml/train.py"}
    assert sarif["runs"][0]["tool"]["driver"]["informationUri"].endswith(
        "/project/mlqa-toolkit/"
    )


# --------------------------------------------------------------------- what init writes


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        ("flat", {"install": "none"}),
        (
            "reqs",
            {
                "install": "requirements",
                "requirements": "requirements.txt requirements-dev.txt",
            },
        ),
        ("package", {"install": "editable", "extras": "dev"}),
    ],
)
def test_init_writes_the_install_mode_that_fits(
    tmp_path: Path, layout: str, expected: dict[str, str]
) -> None:
    root = _layouts(tmp_path)[layout]
    text = init_workflow.plan_workflow(root).new
    (job,) = _load(text)["jobs"].values()
    inputs = _on(_load(REUSABLE["mlqa.yml"].read_text()))["workflow_call"]["inputs"]
    written = {k: v for k, v in job["with"].items() if k in expected}
    assert written == expected
    assert set(job["with"]) <= set(inputs)
    assert "template:" not in text and "Copy this file" not in text


def _release_remote(tmp_path: Path) -> tuple[str, str]:
    """A git remote at .../github.com/mlqa-dev/mlqa with this version's tag."""
    remote = tmp_path / "remote" / "github.com" / "mlqa-dev" / "mlqa"
    remote.mkdir(parents=True)
    git = ["git", "-C", str(remote), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "release"], check=True)
    subprocess.run([*git, "tag", "-a", "-m", "r", init_workflow.REV], check=True)
    sha = subprocess.run(
        [*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return remote.as_uri(), sha


def test_resolve_tag_peels_an_annotated_tag(tmp_path: Path) -> None:
    url, sha = _release_remote(tmp_path)
    assert init_workflow.resolve_tag(url, init_workflow.REV) == sha
    assert init_workflow.resolve_tag(url, "v999.0.0") is None
    assert init_workflow.resolve_tag((tmp_path / "nowhere").as_uri(), "v1") is None


@pytest.mark.parametrize("layout", ["flat", "reqs", "package"])
def test_what_init_writes_passes_every_validator(tmp_path: Path, layout: str) -> None:
    url, sha = _release_remote(tmp_path)
    root = _layouts(tmp_path)[layout]
    change = init_workflow.plan_workflow(root, repo_url=url)
    assert f"mlqa-dev/mlqa/.github/workflows/mlqa.yml@{sha} # {init_workflow.REV}" in (
        change.new
    )
    assert "pinned to its commit" in change.note
    path = tmp_path / "mlqa.yml"
    path.write_text(change.new)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    zizmor = subprocess.run(
        [_tool("zizmor"), "--offline", "--no-progress", str(path)],
        capture_output=True,
        text=True,
    )
    assert (
        zizmor.returncode == 0 and "No findings to report" in zizmor.stdout
    ), zizmor.stdout
    for cmd in (
        [_tool("actionlint"), str(path)],
        [
            _tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            str(path),
        ],
    ):
        result = subprocess.run(cmd, capture_output=True, text=True, env=env)
        assert result.returncode == 0, result.stdout + result.stderr


def test_init_says_when_it_cannot_pin_the_sha(tmp_path: Path) -> None:
    root = _layouts(tmp_path)["flat"]
    change = init_workflow.plan_workflow(root, repo_url=(tmp_path / "x").as_uri())
    assert f"mlqa.yml@{init_workflow.REV}\n" in change.new
    assert "pin the tag to its commit SHA by hand" in change.note


# --------------------------------------------------------------------- editor bundle


def _discover(root: Path, args: list[str], plugins: bool) -> int:
    """What VS Code's test discovery runs: pytest --collect-only with pytestArgs."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if not plugins:  # an interpreter with pytest but without mlqa's plugin
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            *args,
        ],
        cwd=root,
        env=env,
        capture_output=True,
    ).returncode


def _written_settings(root: Path) -> dict[str, Any]:
    settings, _ = init_vscode.plan_vscode(root)
    data: dict[str, Any] = json5.loads(settings.new)
    assert "template:" not in settings.new
    return data


def test_discovery_works_without_mlqa_in_the_interpreter(tmp_path: Path) -> None:
    root = _layouts(tmp_path)["flat"]
    (root / "test_x.py").write_text("def test_x():\n    pass\n")
    args = _written_settings(root)["python.testing.pytestArgs"]
    assert args == []
    assert _discover(root, args, plugins=False) == 0
    # What the template alone would have given such a user:
    assert _discover(root, ["--mlqa"], plugins=False) == 4


def test_discovery_uses_the_plugin_where_the_project_depends_on_mlqa(
    tmp_path: Path,
) -> None:
    root = _layouts(tmp_path)["reqs"]
    (root / "requirements-dev.txt").write_text("pytest\nMLQA_Toolkit>=0.1\n")
    (root / "test_x.py").write_text("def test_x():\n    pass\n")
    args = _written_settings(root)["python.testing.pytestArgs"]
    assert args == ["--mlqa"]
    assert _discover(root, args, plugins=True) == 0


def test_merging_leaves_the_users_pytest_args_alone(tmp_path: Path) -> None:
    root = _layouts(tmp_path)["flat"]
    (root / ".vscode").mkdir()
    (root / ".vscode" / "settings.json").write_text(
        '{\n    "python.testing.pytestArgs": ["-x"]\n}\n'
    )
    assert _written_settings(root)["python.testing.pytestArgs"] == ["-x"]


@pytest.mark.parametrize("ignored", [True, False])
def test_init_says_when_git_ignores_the_vscode_folder(
    tmp_path: Path, ignored: bool
) -> None:
    root = _layouts(tmp_path)["flat"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    if ignored:
        (root / ".gitignore").write_text(".vscode/\n")
    notes = [change.note for change in init_vscode.plan_vscode(root)]
    assert all(("git ignores .vscode/" in note) is ignored for note in notes)


# --------------------------------------------------------------------- the release


@pytest.mark.slow
def test_built_distributions_pass_twine_and_the_wheel_runs_init_and_run(
    tmp_path: Path,
) -> None:
    dist = tmp_path / "dist"
    try:  # build offline with the installed backend when there is one
        import hatchling  # noqa: F401

        isolation = ["--no-isolation"]
    except ImportError:
        isolation = []
    subprocess.run(
        [sys.executable, "-m", "build", *isolation, "--outdir", dist, ROOT],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("mlqa_toolkit-*.whl")
    (sdist,) = dist.glob("mlqa_toolkit-*.tar.gz")
    twine = subprocess.run(
        [_tool("twine"), "check", "--strict", wheel, sdist],
        capture_output=True,
        text=True,
    )
    assert twine.returncode == 0, twine.stdout + twine.stderr
    env_dir = tmp_path / "venv"
    import venv

    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel],
        check=True,
        capture_output=True,
    )
    meta = subprocess.run(
        [
            python,
            "-c",
            "import importlib.metadata as m; print(m.metadata('mlqa-toolkit')['License-Expression'])",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert meta == "MIT"
    demo = tmp_path / "demo"
    shutil.copytree(ROOT / "examples" / "demo-project", demo)
    subprocess.run(["git", "init", "-q", str(demo)], check=True)
    subprocess.run(["git", "-C", str(demo), "add", "-A"], check=True)
    mlqa = env_dir / "bin" / "mlqa"
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}",
    }
    init = subprocess.run(
        [mlqa, "init", "--yes"], cwd=demo, capture_output=True, text=True, env=env
    )
    assert init.returncode == 0, init.stdout + init.stderr
    assert (demo / ".github/workflows/mlqa.yml").is_file()
    run = subprocess.run(
        [mlqa, "run", "."], cwd=demo, capture_output=True, text=True, env=env
    )
    # The demo has typical problems: findings (1), not a crash or a config error (2).
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    for step in ("format", "lint", "docstrings", "types", "notebooks", "rules"):
        assert re.search(rf"│ {step}\s+│", run.stdout), step


# --------------------------------------------------------------------- benchmarks/try_workflow.py


def _mirror(tmp_path: Path) -> Path:
    """A bare mirror of a tiny requirements-file ML repo with one test."""
    src = tmp_path / "src"
    (src / "tests").mkdir(parents=True)
    (src / "requirements.txt").write_text("pyyaml\n")
    (src / "model.py").write_text("def scale(x, factor=0.5):\n    return x * factor\n")
    (src / "tests" / "test_model.py").write_text(
        "from model import scale\n\n\ndef test_scale():\n    assert scale(2) == 1\n"
    )
    git = ["git", "-C", str(src), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "x"], check=True)
    bare = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(src), str(bare)], check=True)
    return bare


def _try_workflow() -> Any:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import try_workflow
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return try_workflow


def test_try_workflow_exports_a_mirror_as_a_checkout(tmp_path: Path) -> None:
    bare = _mirror(tmp_path)
    dest = tmp_path / "out"
    dest.mkdir()
    head = _try_workflow().export(bare, dest)
    assert re.fullmatch(r"[0-9a-f]{40}", head)
    listed = subprocess.run(
        ["git", "-C", str(dest), "ls-files"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert listed == ["model.py", "requirements.txt", "tests/test_model.py"]
    assert (dest / "model.py").read_text().startswith("def scale")


@pytest.mark.slow
def test_try_workflow_runs_the_steps_on_a_requirements_repo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # mlqa comes from this checkout's HEAD commit through git+file://; CPU torch
    # as the workflow installs it by default (`pytest --mlqa` reports devices).
    bare = _mirror(tmp_path)
    code = _try_workflow().main(["--repo", "tiny", str(bare)])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0, summary
    assert summary["inputs"] == {
        "install": "requirements",
        "requirements": "requirements.txt",
    }
    assert summary["mlqa run"]["exit"] == 1 and summary["mlqa run"]["annotations"] > 0
    assert (
        summary["pytest --mlqa"]["exit"] == 0 and not summary["pytest --mlqa"]["notice"]
    )
