"""End to end through real pre-commit, as a user's repo gets the hooks.

A snapshot of this checkout is the hook repository (``repo:``/``rev:`` in a
config); pre-commit installs its environment with pip once per test session
(see ``hook_repo``), then each hook id of .pre-commit-hooks.yaml runs with
``pre-commit run`` in a temporary git repo: on a bad repo it fails for the
right reason (and the fixers fix, so a second run passes); on a clean repo
every hook passes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
HOOK_IDS = [hook["id"] for hook in MANIFEST]

NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": 7,
            "id": "c1",
            "metadata": {},
            "outputs": [{"name": "stdout", "output_type": "stream", "text": ["3\n"]}],
            "source": ["print(1 + 2)"],
        }
    ],
    "metadata": {
        "kernelspec": {
            "display_name": "Python 3",
            "language": "python",
            "name": "python3",
        }
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}

BAD_FILES = {
    "pyproject.toml": "[project]\nname = 'bad'\n",
    "pkg/__init__.py": '"""A package."""\n',
    "pkg/ugly.py": '"""Unformatted."""\n\nx = {  "a":1 }\n',
    "pkg/unused.py": '"""Unused import."""\n\nimport os\n',
    "pkg/docs.py": (
        '"""Docstrings."""\n\n\ndef scale(x: float, factor: float) -> float:\n'
        '    """Scale.\n\n    Args:\n        x: The number.\n\n    Returns:\n'
        '        The product.\n    """\n    return x * factor\n'
    ),
    "pkg/typed.py": '"""Types."""\n\n\ndef name(a: int) -> str:\n    """Name.\n\n'
    '    Args:\n        a: A.\n\n    Returns:\n        The name.\n    """\n    return a\n',
    "pkg/tensor.py": '"""Torch types."""\n\nimport torch\n\nx: torch.Tensor = 5\n',
    "pkg/train.py": (
        '"""Training."""\n\nimport torch\n\n\ndef fit(model: torch.nn.Module) -> None:\n'
        '    """Fit.\n\n    Args:\n        model: The model.\n    """\n'
        "    torch.optim.Adam(model.parameters(), lr=1e-3)\n"
    ),
    "nb/explore.ipynb": json.dumps(NOTEBOOK, indent=1, sort_keys=True) + "\n",
}

CLEAN_FILES = {
    "pyproject.toml": "[project]\nname = 'clean'\n",
    "pkg/__init__.py": '"""A package."""\n',
    "pkg/train.py": (
        '"""Training."""\n\nimport torch\n\n\n'
        "def fit(model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:\n"
        '    """Build the optimizer.\n\n    Args:\n        model: The model.\n'
        '        lr: The learning rate.\n\n    Returns:\n        The optimizer.\n    """\n'
        "    return torch.optim.Adam(model.parameters(), lr=lr)\n"
    ),
    "nb/explore.ipynb": None,  # filled with the stripped notebook below
}

# hook id -> (text that shows it failed for the right reason, fixes files?)
EXPECTED = {
    "mlqa-format": ("pkg/ugly.py: reformatted by black", True),
    "mlqa-lint": ("F401", False),
    "mlqa-docstrings": ("DOC101", False),
    "mlqa-types": ("return-value", False),
    "mlqa-types-system": ("Tensor", False),
    "mlqa-strip": ("explore.ipynb", True),
    "mlqa-check": ("MLQ1", False),
}


@dataclass(frozen=True)
class HookRepo:
    """This checkout as a hook repository, its hook environment built once."""

    config: Path  # a .pre-commit-config.yaml naming every hook at `repo:`/`rev:`
    home: Path  # the PRE_COMMIT_HOME that holds the installed environment


def _snapshot(dest: Path) -> str:
    """Commit this checkout as it is now (tracked and untracked, not ignored) to dest."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout  # fmt: skip
    for name in filter(None, listed.split(b"\0")):
        source = ROOT / os.fsdecode(name)
        if source.is_file():  # a tracked file deleted in the work tree is left out
            target = dest / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git = ["git", "-c", "user.name=mlqa tests", "-c", "user.email=tests@mlqa.invalid",
           "-c", "commit.gpgsign=false"]  # fmt: skip
    subprocess.run([*git, "init", "-q"], cwd=dest, check=True)
    subprocess.run([*git, "add", "-A"], cwd=dest, check=True)
    subprocess.run([*git, "commit", "-q", "--no-verify", "-m", "snapshot"], cwd=dest,
                   check=True)  # fmt: skip
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=dest, capture_output=True, text=True,
        check=True,
    ).stdout.strip()  # fmt: skip


def _environ(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PRE_COMMIT_HOME"] = str(home)
    env["PATH"] = os.pathsep.join(
        [str(Path(sys.executable).parent), env.get("PATH", "")]
    )
    env.pop("PRE_COMMIT", None)
    return env


def _install_hooks(directory: Path) -> None:
    """Snapshot this checkout into directory/repo and install its hooks once."""
    clone = directory / "repo"
    clone.mkdir()
    config = {
        "repos": [
            {
                "repo": str(clone),
                "rev": _snapshot(clone),
                "hooks": [{"id": hook_id} for hook_id in HOOK_IDS],
            }
        ]
    }
    (directory / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    install = subprocess.run(
        [sys.executable, "-m", "pre_commit", "install-hooks", "--config",
         str(directory / "config.yaml"), "--color=never"],
        cwd=clone, env=_environ(directory / "home"), capture_output=True, text=True,
        check=False, timeout=900,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr


@pytest.fixture(scope="session")
def hook_repo(build_once: Callable[[str, Callable[[Path], None]], Path]) -> HookRepo:
    """Install the hooks once per test run, as a user's repo would get them.

    pre-commit clones this checkout (a snapshot commit, so uncommitted work is
    tested too) into a PRE_COMMIT_HOME shared by the xdist workers and
    pip-installs the hook environment there once; every test then runs
    ``pre-commit run`` against it.
    """
    directory = build_once("mlqa-hooks", _install_hooks)
    return HookRepo(directory / "config.yaml", directory / "home")


def warm_mypy(repo: Path, cache: Path) -> None:
    """Give the system types hook torch already analysed (see torch_mypy_cache)."""
    shutil.copytree(cache, repo / ".mypy_cache", dirs_exist_ok=True)


def make_repo(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    return root


def run_hooks(
    repo: Path, hooks: HookRepo, *hook: str
) -> subprocess.CompletedProcess[str]:
    """``pre-commit run [hook] --all-files`` in repo with the installed hooks."""
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", *hook, "--all-files",
         "--config", str(hooks.config), "--color=never"],
        cwd=repo, env=_environ(hooks.home), capture_output=True, text=True,
        check=False, timeout=900,
    )  # fmt: skip


def test_every_hook_has_an_expectation() -> None:
    assert sorted(EXPECTED) == sorted(HOOK_IDS)


@pytest.mark.slow
@pytest.mark.parametrize("hook_id", HOOK_IDS)
def test_hook_on_bad_repo(
    hook_id: str, tmp_path: Path, hook_repo: HookRepo, request: pytest.FixtureRequest
) -> None:
    repo = make_repo(tmp_path, BAD_FILES)
    if hook_id == "mlqa-types-system":
        warm_mypy(repo, request.getfixturevalue("torch_mypy_cache"))
    before = {name: (repo / name).read_text() for name in BAD_FILES}
    first = run_hooks(repo, hook_repo, hook_id)
    output = first.stdout + first.stderr
    marker, fixes = EXPECTED[hook_id]
    assert first.returncode == 1, output
    assert marker in output, output
    assert "Traceback" not in output
    changed = {name for name in BAD_FILES if (repo / name).read_text() != before[name]}
    if fixes:
        assert changed, "a fixer hook changed nothing"
        subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
        second = run_hooks(repo, hook_repo, hook_id)
        assert second.returncode == 0, second.stdout + second.stderr
    else:
        assert changed == set(), changed


@pytest.mark.slow
def test_isolated_types_hook_cannot_see_torch(
    tmp_path: Path, hook_repo: HookRepo, torch_mypy_cache: Path
) -> None:
    """The isolated hook has no torch: Tensor errors pass silently, the system hook catches them."""
    repo = make_repo(
        tmp_path, {k: v for k, v in BAD_FILES.items() if k != "pkg/typed.py"}
    )
    isolated = run_hooks(repo, hook_repo, "mlqa-types")
    warm_mypy(repo, torch_mypy_cache)  # after the isolated run: it never sees torch
    system = run_hooks(repo, hook_repo, "mlqa-types-system")
    assert isolated.returncode == 0, isolated.stdout
    assert system.returncode == 1 and "Tensor" in system.stdout, system.stdout


@pytest.mark.slow
def test_all_hooks_pass_on_clean_repo(
    tmp_path: Path, hook_repo: HookRepo, torch_mypy_cache: Path
) -> None:
    from mlqa import notebooks

    files = dict(CLEAN_FILES)
    nb = tmp_path / "stripped.ipynb"
    nb.write_text(json.dumps(NOTEBOOK, indent=1, sort_keys=True) + "\n")
    notebooks.main([str(nb)])
    files["nb/explore.ipynb"] = nb.read_text()
    nb.unlink()
    repo = make_repo(tmp_path / "repo", files)
    warm_mypy(repo, torch_mypy_cache)
    result = run_hooks(repo, hook_repo)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for hook in MANIFEST:
        assert f"{hook['name']}" in output
    assert "Failed" not in output


@pytest.mark.slow
@pytest.mark.parametrize(
    "hook_id",
    ["mlqa-format", "mlqa-lint", "mlqa-docstrings", "mlqa-types", "mlqa-check"],
)
def test_broken_file_fails_cleanly(
    hook_id: str, tmp_path: Path, hook_repo: HookRepo
) -> None:
    repo = make_repo(
        tmp_path,
        {"pyproject.toml": "[project]\nname = 'x'\n", "bad.py": "def f(:\n    pass\n"},
    )
    result = run_hooks(repo, hook_repo, hook_id)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output  # pre-commit maps any failure to 1
    assert "bad.py:1:" in output, output
    assert "Traceback" not in output, output
    assert (repo / "bad.py").read_text() == "def f(:\n    pass\n"


@pytest.mark.slow
def test_format_and_lint_hooks_on_a_notebook(
    tmp_path: Path, hook_repo: HookRepo
) -> None:
    """Notebooks go through black and ruff; findings name the cell; bytes stay canonical."""
    import nbformat

    cell = {**NOTEBOOK["cells"][0], "execution_count": None, "outputs": []}  # type: ignore[index]
    cell["source"] = ["x = {  'a':1 }\n", "if x == None:\n", "    pass"]
    nb = nbformat.from_dict({**NOTEBOOK, "cells": [cell]})
    text = nbformat.writes(nb) + "\n"  # as nbstripout writes it
    repo = make_repo(tmp_path, {"pyproject.toml": "[project]\nname = 'n'\n",
                                "nb/n.ipynb": text})  # fmt: skip
    line = next(n for n, ln in enumerate(text.splitlines(), 1) if "x == None" in ln)
    lint = run_hooks(repo, hook_repo, "mlqa-lint")
    output = lint.stdout + lint.stderr
    assert lint.returncode == 1, output
    assert f"nb/n.ipynb:{line}:9: E711 [cell 1, line 2]" in output, output
    first = run_hooks(repo, hook_repo, "mlqa-format")
    assert first.returncode == 1, first.stdout + first.stderr
    assert "nb/n.ipynb: reformatted by black" in first.stdout + first.stderr
    formatted = (repo / "nb/n.ipynb").read_text(encoding="utf-8")
    assert '"x = {\\"a\\": 1}\\n"' in formatted, formatted
    assert formatted == nbformat.writes(nbformat.reads(formatted, 4)) + "\n"
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    second = run_hooks(repo, hook_repo, "mlqa-format")
    assert second.returncode == 0, second.stdout + second.stderr


def test_every_hook_id_is_documented_in_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for hook_id in HOOK_IDS:
        assert f"id: {hook_id}" in readme or f"`{hook_id}`" in readme, hook_id
