"""End to end through real pre-commit: ``pre-commit try-repo <this checkout> <id>``.

Each hook id of .pre-commit-hooks.yaml runs in a temporary git repo: on a bad
repo it fails for the right reason (and the fixers fix, so a second run
passes); on a clean repo every hook passes. pre-commit installs the hook
environment from this checkout with pip, once per test session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
HOOK_IDS = [hook["id"] for hook in MANIFEST]

pytestmark = pytest.mark.slow

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


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """One pre-commit store per run: shared by xdist workers (pre-commit locks it)."""
    base = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        base = base.parent
    home = base / "pre-commit-home"
    home.mkdir(exist_ok=True)
    return home


def make_repo(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    return root


def try_repo(repo: Path, home: Path, *hook: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PRE_COMMIT_HOME"] = str(home)
    env["PATH"] = os.pathsep.join(
        [str(Path(sys.executable).parent), env.get("PATH", "")]
    )
    env.pop("PRE_COMMIT", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), *hook, "--all-files",
         "--color=never"],
        cwd=repo, env=env, capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip


def test_every_hook_has_an_expectation() -> None:
    assert sorted(EXPECTED) == sorted(HOOK_IDS)


@pytest.mark.parametrize("hook_id", HOOK_IDS)
def test_hook_on_bad_repo(hook_id: str, tmp_path: Path, pre_commit_home: Path) -> None:
    repo = make_repo(tmp_path, BAD_FILES)
    before = {name: (repo / name).read_text() for name in BAD_FILES}
    first = try_repo(repo, pre_commit_home, hook_id)
    output = first.stdout + first.stderr
    marker, fixes = EXPECTED[hook_id]
    assert first.returncode == 1, output
    assert marker in output, output
    assert "Traceback" not in output
    changed = {name for name in BAD_FILES if (repo / name).read_text() != before[name]}
    if fixes:
        assert changed, "a fixer hook changed nothing"
        subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
        second = try_repo(repo, pre_commit_home, hook_id)
        assert second.returncode == 0, second.stdout + second.stderr
    else:
        assert changed == set(), changed


def test_isolated_types_hook_cannot_see_torch(
    tmp_path: Path, pre_commit_home: Path
) -> None:
    """The isolated hook has no torch: Tensor errors pass silently, the system hook catches them."""
    repo = make_repo(
        tmp_path, {k: v for k, v in BAD_FILES.items() if k != "pkg/typed.py"}
    )
    isolated = try_repo(repo, pre_commit_home, "mlqa-types")
    system = try_repo(repo, pre_commit_home, "mlqa-types-system")
    assert isolated.returncode == 0, isolated.stdout
    assert system.returncode == 1 and "Tensor" in system.stdout, system.stdout


def test_all_hooks_pass_on_clean_repo(tmp_path: Path, pre_commit_home: Path) -> None:
    from mlqa import notebooks

    files = dict(CLEAN_FILES)
    nb = tmp_path / "stripped.ipynb"
    nb.write_text(json.dumps(NOTEBOOK, indent=1, sort_keys=True) + "\n")
    notebooks.main([str(nb)])
    files["nb/explore.ipynb"] = nb.read_text()
    nb.unlink()
    repo = make_repo(tmp_path / "repo", files)
    result = try_repo(repo, pre_commit_home)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for hook in MANIFEST:
        assert f"{hook['name']}" in output
    assert "Failed" not in output


def test_broken_file_fails_cleanly(tmp_path: Path, pre_commit_home: Path) -> None:
    repo = make_repo(
        tmp_path,
        {"pyproject.toml": "[project]\nname = 'x'\n", "bad.py": "def f(:\n    pass\n"},
    )
    for hook_id in (
        "mlqa-format",
        "mlqa-lint",
        "mlqa-docstrings",
        "mlqa-types",
        "mlqa-check",
    ):
        result = try_repo(repo, pre_commit_home, hook_id)
        output = result.stdout + result.stderr
        assert result.returncode == 1, (
            hook_id,
            output,
        )  # pre-commit maps any failure to 1
        assert "bad.py:1:" in output, (hook_id, output)
        assert "Traceback" not in output, (hook_id, output)
        assert (repo / "bad.py").read_text() == "def f(:\n    pass\n"


def test_every_hook_id_is_documented_in_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for hook_id in HOOK_IDS:
        assert f"id: {hook_id}" in readme or f"`{hook_id}`" in readme, hook_id
