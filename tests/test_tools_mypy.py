"""Tests for mlqa.tools.mypy (``mlqa types``) against the real torch types.

These run mypy in this environment, where torch is installed: that is what the
``mlqa-types-system`` hook does in a user's project. The isolated hook (torch
absent) is covered end to end in test_precommit.py.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from mlqa.tools import mypy as types

IDIOMATIC = '''"""Idiomatic PyTorch training code: must type-check clean."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


def train(epochs: int, lr: float) -> float:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = Net().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    data = TensorDataset(torch.randn(8, 4), torch.randint(0, 2, (8,)))
    total = 0.0
    for _ in range(epochs):
        for x, y in DataLoader(data, batch_size=4):
            optimizer.zero_grad()
            loss = criterion(model(x.to(device)), y.to(device))
            loss.backward()
            optimizer.step()
            total += loss.item()
    with torch.no_grad():
        model.eval()
        logits = model(torch.zeros(1, 4))
        print(logits.argmax(dim=1).tolist(), logits.shape[0])
    return total
'''

WRONG = """import torch

x: torch.Tensor = 5


def f(a: int) -> str:
    return a
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, torch_mypy_cache: Path) -> Path:
    root = tmp_path_factory.mktemp("typed")
    shutil.copytree(torch_mypy_cache, root / ".mypy_cache")  # torch analysed once
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (root / "train.py").write_text(IDIOMATIC)
    (root / "wrong.py").write_text(WRONG)
    return root


def run(
    project: Path, capsys: pytest.CaptureFixture[str], *names: str
) -> tuple[int, list[dict[str, object]]]:
    code = types.main(["--format", "json", *[str(project / n) for n in names]])
    return code, json.loads(capsys.readouterr().out or "[]")


def test_idiomatic_torch_is_clean(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, items = run(project, capsys, "train.py")
    assert items == []
    assert code == 0


def test_cache_lives_in_the_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "small.py").write_text("def f(a: int) -> int:\n    return a\n")
    code, items = run(tmp_path, capsys, "small.py")
    assert (code, items) == (0, [])
    assert (tmp_path / ".mypy_cache" / "CACHEDIR.TAG").is_file()


def test_real_torch_types_catch_errors(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, items = run(project, capsys, "wrong.py")
    assert code == 1
    assert [(i["line"], i["column"], i["code"]) for i in items] == [
        (3, 19, "mypy[assignment]"),
        (7, 12, "mypy[return-value]"),
    ]
    assert "Tensor" in str(items[0]["message"])


def test_warm_rerun_uses_cache(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(project, capsys, "train.py")
    started = time.perf_counter()
    code, _ = run(project, capsys, "train.py")
    elapsed = time.perf_counter() - started
    assert code == 0
    # Not a benchmark (see benchmarks/bench_tools.py): only proves the cache is
    # used at all, since a cold run over torch takes tens of seconds.
    assert elapsed < 10, elapsed


def test_user_mypy_config_wins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.mypy]\ndisallow_untyped_defs = true\n"
    )
    (tmp_path / "a.py").write_text("def f(x):\n    return x\n")
    code = types.main([str(tmp_path / "a.py")])
    out = capsys.readouterr().out
    assert code == 1 and "no-untyped-def" in out
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    assert types.main([str(tmp_path / "a.py")]) == 0


def test_syntax_error_is_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "syn.py").write_text("def f(:\n")
    assert types.main([str(tmp_path / "syn.py")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "syn.py:1:" in err and "syntax error" in err


def test_bad_mypy_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.mypy]\npython_version = 'banana'\n")
    (tmp_path / "a.py").write_text("x = 1\n")
    code = types.main([str(tmp_path / "a.py")])
    captured = capsys.readouterr()
    assert code == 2, captured
    assert "Traceback" not in captured.err


def test_in_scope_reads_list_and_comma_string(tmp_path: Path) -> None:
    from mlqa import config

    for pkg in ("pkg", "other", "tests"):
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "m.py").write_text("x = 1\n")
    files = [str(tmp_path / p / "m.py") for p in ("pkg", "other", "tests")]
    (tmp_path / "pyproject.toml").write_text("[tool.mypy]\nfiles = 'pkg, other'\n")
    assert types.in_scope(files, config.load(tmp_path)) == files[:2]
    (tmp_path / "pyproject.toml").write_text("[tool.mypy]\nfiles = ['pkg']\n")
    assert types.in_scope(files, config.load(tmp_path)) == files[:1]
    (tmp_path / "pyproject.toml").write_text("[tool.mypy]\nstrict = true\n")
    assert types.in_scope(files, config.load(tmp_path)) == files


def test_scripts_with_the_same_name_in_several_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Tutorial and examples repos keep a main.py per folder: one mypy run
    # refuses them ("Duplicate module named"); mlqa checks them in groups.
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    for folder, error in (("01-mnist", "x: int = 'a'"), ("02-vae", "y: str = 1")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "main.py").write_text(f"{error}\n")
        (tmp_path / folder / "utils.py").write_text("z: int = 1\n")
    (tmp_path / "03-gan").mkdir()
    (tmp_path / "03-gan" / "main.py").write_text("ok: int = 1\n")
    code, items = run(tmp_path, capsys, ".")
    assert code == 1
    assert sorted((i["path"], i["line"], i["code"]) for i in items) == [
        (str(tmp_path / "01-mnist" / "main.py"), 1, "mypy[assignment]"),
        (str(tmp_path / "02-vae" / "main.py"), 1, "mypy[assignment]"),
    ]


def test_a_script_imports_the_module_beside_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # pytorch/examples: super_resolution/main.py does `from model import Net`;
    # another folder's model.py must not answer for it.
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    layout = {
        "super_resolution/model.py": "class Net:\n    pass\n",
        "super_resolution/main.py": "from model import Net\n\nnet: Net = Net()\n",
        "min-gpt/mingpt/model.py": "class GPT:\n    pass\n",
        "min-gpt/mingpt/main.py": "from model import GPT\n\ngpt: GPT = GPT()\n",
    }
    for name, text in layout.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert run(tmp_path, capsys, ".") == (0, [])
    (tmp_path / "super_resolution/main.py").write_text(
        "from model import Net\n\nx: int = Net()\n"
    )
    code, items = run(tmp_path, capsys, ".")
    assert code == 1
    assert [(i["line"], i["code"]) for i in items] == [(3, "mypy[assignment]")]
    assert '"Net"' in str(items[0]["message"])
