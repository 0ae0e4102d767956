"""``mlqa check`` end to end: file selection, formats, config, cache, broken input, fuzzing."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import hypothesmith
import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlqa.check
import mlqa.check.analysis
from mlqa.check import analyze, main
from mlqa.files import is_test, matches
from mlqa.rules.engine import Options

TRAIN = """\
import torch
from torch import nn, optim

model = nn.Linear(3, 4).cuda()
opt = optim.SGD(model.parameters(), lr=0.1)
for epoch in range(90):
    opt.step()
"""
CLEAN = """\
import argparse

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.1)
args = parser.parse_args()
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
opt = torch.optim.SGD([], lr=args.lr)
"""


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "train.py").write_text(TRAIN)
    (tmp_path / "clean.py").write_text(CLEAN)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_findings_text_and_exit_code(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys)
    assert code == 1 and err == ""
    assert out.splitlines() == [
        "train.py:4:24: MLQ201 .cuda() call with no CPU fallback; use a device parameter or "
        "'cuda' if torch.cuda.is_available() else 'cpu'",
        "train.py:5:40: MLQ101 hardcoded hyperparameter lr=0.1 in torch.optim.SGD(); "
        "read it from config or the command line",
        "train.py:6:20: MLQ103 hardcoded loop bound 90 for epoch; read it from config or "
        "the command line",
    ]
    assert run(capsys, "clean.py") == (0, "", "")
    assert run(capsys, "--exit-zero")[0] == 0


def test_formats(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--format", "json", "--no-cache")
    assert code == 1
    data = json.loads(out)
    assert {d["code"] for d in data} == {"MLQ101", "MLQ103", "MLQ201"}
    assert set(data[0]) == {"path", "line", "column", "code", "message", "fixable"}
    assert not any(d["fixable"] for d in data)  # the rules never rewrite files
    _, out, _ = run(capsys, "--format", "github", "--no-cache")
    assert out.startswith("::error file=train.py,line=4,col=24,title=MLQ201::MLQ201 ")
    _, out, _ = run(capsys, "--format", "sarif", "--no-cache")
    sarif = json.loads(out)
    rules = {
        r["id"]: r["shortDescription"]["text"]
        for r in sarif["runs"][0]["tool"]["driver"]["rules"]
    }
    assert "Literal number passed" in rules["MLQ101"] and "MLQ202" in rules
    assert len(sarif["runs"][0]["results"]) == 3
    assert run(capsys, "--format", "xml")[0] == 2


def test_statistics(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--statistics")
    assert code == 1
    assert out.splitlines() == [
        "    1  MLQ101  hardcoded-hyperparameter",
        "    1  MLQ103  hardcoded-loop-bound",
        "    1  MLQ201  hardcoded-cuda-call",
    ]
    _, out, _ = run(capsys, "--statistics", "--format", "json")
    assert json.loads(out)[0] == {
        "code": "MLQ101",
        "name": "hardcoded-hyperparameter",
        "count": 1,
    }


def test_select_and_ignore(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = run(capsys, "--select", "MLQ2")[1]
    assert [line.split()[1] for line in out.splitlines()] == ["MLQ201"]
    out = run(capsys, "--select", "MLQ1", "--ignore", "MLQ103")[1]
    assert [line.split()[1] for line in out.splitlines()] == ["MLQ101"]
    out = run(capsys, "--select", "MLQ101,MLQ201")[1]
    assert [line.split()[1] for line in out.splitlines()] == ["MLQ201", "MLQ101"]
    code, out, err = run(capsys, "--select", "E501")
    assert code == 2 and out == "" and "unknown rule code or prefix 'E501'" in err


def test_config_keys(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "legacy").mkdir()
    (project / "legacy" / "old.py").write_text(TRAIN)
    (project / "conf").mkdir()
    (project / "conf" / "opt.py").write_text(TRAIN)
    (project / "tests").mkdir()
    (project / "tests" / "test_train.py").write_text(TRAIN)
    (project / "smoke.py").write_text("x = g(temperature=0.7)\n" + TRAIN)
    (project / "pyproject.toml").write_text(
        "[tool.mlqa]\n"
        'exclude = ["legacy/**"]\n'
        'ignore = ["MLQ103"]\n'
        'per-file-ignores = { "smoke.py" = ["MLQ2"] }\n'
        'hyperparameter-names = ["temperature"]\n'
    )
    code, out, _ = run(capsys)
    assert code == 1
    found = sorted((line.split(":")[0], line.split()[1]) for line in out.splitlines())
    assert found == [  # conf/ (config-paths), tests/ and legacy/ (exclude): nothing
        ("smoke.py", "MLQ101"),
        ("smoke.py", "MLQ101"),
        ("train.py", "MLQ101"),
        ("train.py", "MLQ201"),
    ]
    # exclude also applies to files passed by name (pre-commit passes every file)
    assert run(capsys, "legacy/old.py") == (0, "", "")
    (project / "pyproject.toml").write_text("[tool.mlqa]\nselect = 3\n")
    code, _, err = run(capsys)
    assert code == 2 and "select must be" in err


def test_noqa(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = TRAIN.replace("lr=0.1)", "lr=0.1)  # noqa: MLQ101").replace(
        "(90):", "(90):  # noqa"
    )
    (project / "train.py").write_text(text)
    out = run(capsys, "train.py")[1]
    assert [line.split()[1] for line in out.splitlines()] == ["MLQ201"]


def test_notebook_findings(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Experiment"),
        nbformat.v4.new_code_cell("%matplotlib inline\nimport torch.optim as optim"),
        nbformat.v4.new_code_cell("!nvidia-smi\nopt = optim.Adam(params, lr=1e-3)"),
        nbformat.v4.new_code_cell("x = (\n"),
    ]
    nbformat.write(nb, project / "exp.ipynb")
    before = (project / "exp.ipynb").read_bytes()
    code, out, err = run(capsys, "exp.ipynb")
    lines = before.decode().splitlines()
    found, broken = out.strip().splitlines()
    path, line, col, rest = found.split(":", 3)
    assert (path, col) == ("exp.ipynb", "29")
    assert rest.startswith(" MLQ101 [cell 3, line 2] hardcoded hyperparameter lr=0.001")
    assert "lr=1e-3" in lines[int(line) - 1]
    # the invalid cell is one finding; the other cells are still checked
    assert code == 1 and err == ""
    path, line, col, rest = broken.split(":", 3)
    assert rest.startswith(" NB100 [cell 4, line 1] syntax error: ")
    assert '"x = (\\n"' in lines[int(line) - 1]
    assert (project / "exp.ipynb").read_bytes() == before


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "syntax.py",
            b"def f(:\n    pass\n",
            "syntax.py:1:7: syntax error: invalid syntax",
        ),
        (
            "latin1.py",
            b"x = 1\ny = '\xe9'\n",
            "latin1.py:2:6: not valid UTF-8 (byte 0xe9)",
        ),
        (
            "binary.py",
            b"\x7fELF\x00\x01\x02",
            "binary.py:1:1: binary file (contains NUL bytes)",
        ),
        (
            "bad.ipynb",
            b'{"cells": [}',
            "bad.ipynb:1:12: invalid notebook JSON: Expecting value",
        ),
        (
            "notnb.ipynb",
            b"[]",
            "notnb.ipynb:1:1: not a Jupyter notebook (no 'cells' list)",
        ),
        ("deep.py", b"x = " + b"(" * 300 + b")" * 300 + b"\n", "deep.py:1:"),
    ],
)
def test_broken_input(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    data: bytes,
    message: str,
) -> None:
    (project / name).write_bytes(data)
    (project / "empty.py").write_bytes(b"")
    code, out, err = run(capsys)
    assert code == 2
    assert err.startswith(message) and len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    assert "train.py:5:40: MLQ101" in out  # the other files are still checked
    assert (project / name).read_bytes() == data
    assert run(capsys, "empty.py") == (0, "", "")


def test_missing_path_and_usage(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "nope.py", "train.py")
    assert (
        code == 2 and err == "nope.py: no such file or directory\n" and "MLQ101" in out
    )
    assert run(capsys, "--bogus")[0] == 2


def checked(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    """The files ``mlqa check`` reports (every file in these tests has findings)."""
    code, out, err = run(capsys, "--format", "json", "--no-cache", *argv)
    assert code == 1 and err == "", err
    return sorted({d["path"] for d in json.loads(out)})


def test_discovery_skips_venvs_and_caches(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "clean.py").write_text(TRAIN)
    for directory in [
        ".git",
        "venv/lib",
        "env/lib",
        "__pycache__",
        "nb/.ipynb_checkpoints",
    ]:
        (project / directory).mkdir(parents=True)
        (project / directory / "x.py").write_text(TRAIN)
    (project / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    (project / "pkg").mkdir()
    (project / "pkg" / "model.py").write_text(TRAIN)
    (project / "notes.txt").write_text("lr=0.1")
    assert checked(capsys) == ["clean.py", "pkg/model.py", "train.py"]


def test_cache_is_used_and_invalidated(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = run(capsys)
    (cache_file,) = (project / ".mlqa_cache").glob("check-*.json")
    assert (project / ".mlqa_cache" / ".gitignore").read_text().endswith("*\n")
    entries = json.loads(cache_file.read_text())
    entries["train.py"][2][0][0][3] = "FROM THE CACHE"
    cache_file.write_text(json.dumps(entries))
    assert "FROM THE CACHE" in run(capsys)[1]  # unchanged file: result read back
    assert run(capsys, "--no-cache") == first  # bypass
    (project / "train.py").write_text(
        TRAIN + "x = f(batch_size=8)\n"
    )  # changed: re-checked
    out = run(capsys)[1]
    assert "FROM THE CACHE" not in out and "batch_size=8" in out
    (project / "pyproject.toml").write_text("[tool.mlqa]\ncache = false\n")
    assert run(capsys)[0] == 1


def test_no_cache_writes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "--no-cache")
    assert not (project / ".mlqa_cache").exists()


def test_parallel_matches_serial(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(12):
        (project / f"m{i}.py").write_text(TRAIN.replace("0.1", f"0.{i + 1}"))
    (project / "broken.py").write_text("def (")
    monkeypatch.setenv("MLQA_JOBS", "1")
    serial = run(capsys, "--no-cache")
    monkeypatch.setenv("MLQA_JOBS", "2")
    assert run(capsys, "--no-cache") == serial


def test_worker_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLQA_JOBS", raising=False)
    assert mlqa.check._workers(10) == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    assert mlqa.check._workers(10_000) == 8
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert mlqa.check._workers(10_000) == 2
    assert mlqa.check._workers(31) == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert mlqa.check._workers(10_000) == 1
    monkeypatch.setenv("MLQA_JOBS", "3")
    assert mlqa.check._workers(5) == 3


def test_path_helpers() -> None:
    assert (
        is_test("tests/unit/helpers.py")
        and is_test("pkg/test_x.py")
        and is_test("x_test.py")
    )
    assert is_test("conftest.py") and not is_test("pkg/testing.py")
    assert is_test("src/pkg/test_utils/training.py") and is_test(
        "pkg/testing/helpers.py"
    )
    defaults = ["config*.py", "**/config*.py", "configs/**", "conf/**"]
    assert matches("configs/a/b.py", defaults) and matches(
        "src/pkg/config_base.py", defaults
    )
    assert not matches("src/reconfigure.py", defaults) and not matches(
        "confx/a.py", defaults
    )
    assert matches("a/b/c.py", ["a"]) and matches("x/build/y.py", ["build"])
    assert not matches("a/b/c.py", ["b/*.py"]) and matches("b/c.py", ["b/*.py"])


def test_console_script_with_file_list_like_pre_commit(project: Path) -> None:
    # pre-commit runs the hook's entry with the staged files appended.
    manifest = (Path(__file__).parent.parent / ".pre-commit-hooks.yaml").read_text()
    assert "id: mlqa-check" in manifest and "entry: mlqa check" in manifest
    for i in range(10):
        (project / f"f{i}.py").write_text(CLEAN if i % 2 else TRAIN)
    files = [f"f{i}.py" for i in range(10)]
    mlqa_exe = Path(sys.executable).with_name("mlqa")
    result = subprocess.run(
        [str(mlqa_exe), "check", *files], capture_output=True, text=True, cwd=project
    )
    assert result.returncode == 1 and result.stderr == ""
    assert {line.split(":")[0] for line in result.stdout.splitlines()} == set(
        files[::2]
    )
    result = subprocess.run(
        [str(mlqa_exe), "check", *files[1::2]],
        capture_output=True,
        text=True,
        cwd=project,
    )
    assert (result.returncode, result.stdout) == (0, "")


def test_import_chain_is_light() -> None:
    code = (
        "import sys, mlqa.cli, mlqa.check, mlqa.rules.engine, mlqa.rules.docs\n"
        "heavy = {'torch', 'black', 'mypy', 'rich', 'nbformat', 'numpy', 'ruff'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


HEADER = (
    "import torch\nimport torch.optim as optim\nfrom torch import nn\n"
    "from functools import partial\nLR = 0.1\n"
)


@pytest.mark.slow
@pytest.mark.filterwarnings(
    "ignore::SyntaxWarning"
)  # hypothesmith compiles its programs
# examples: the Hypothesis profile's (tests/conftest.py: 20 in the inner loop,
# 100 with --hypothesis-profile=ci)
@settings(deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_fuzz_grammar_programs_never_crash(source: str) -> None:
    for text in (source, HEADER + source):
        findings, errors = analyze(
            text.encode("utf-8", "surrogatepass"), "f.py", False, Options()
        )
        assert all(f[0] >= 1 and f[1] >= 1 for f in findings)
        assert all(isinstance(e[2], str) for e in errors)
        # a file is reported broken exactly when ast.parse rejects it
        try:
            data = text.encode("utf-8")
            ast.parse(data)
        except (
            SyntaxError,
            ValueError,
            UnicodeEncodeError,
            RecursionError,
            MemoryError,
        ):
            continue
        assert errors == [], errors


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::SyntaxWarning")
# 30 examples: each is a large generated program (about 0.2 s apiece)
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_node())
def test_fuzz_node_programs_never_crash(source: str) -> None:
    findings, errors = analyze(
        (HEADER + source).encode("utf-8", "surrogatepass"), "f.py", False, Options()
    )
    assert errors == [] or all("syntax error" in e[2] for e in errors)
    assert all(f[0] >= 1 for f in findings)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.booleans())
def test_fuzz_bytes_never_crash(data: bytes, notebook: bool) -> None:
    findings, errors = analyze(
        data, "f.ipynb" if notebook else "f.py", notebook, Options()
    )
    assert isinstance(findings, list) and isinstance(errors, list)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "x = g(lr=0.1)",
                "%time f()",
                "!ls",
                "for epoch in range(3):\n    pass",
                "m.cuda()",
                "import torch.optim as optim",
                "def (",
                "await f()",
                "obj?",
                "%%bash\nls",
            ]
        ),
        max_size=6,
    )
)
def test_fuzz_notebook_cells_never_crash(sources: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    data = nbformat.writes(nb).encode()
    findings, errors = analyze(data, "f.ipynb", True, Options())
    assert errors == []
    assert all(f[3].startswith("[cell ") for f in findings)
    broken = sum(1 for s in sources if s == "def (")
    assert sum(1 for f in findings if f[2] == "NB100") == broken


def test_cache_forgets_deleted_files(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "gone.py").write_text(TRAIN)
    run(capsys)
    (project / "gone.py").unlink()
    (project / "new.py").write_text(CLEAN)
    run(capsys)
    (cache_file,) = (project / ".mlqa_cache").glob("check-*.json")
    assert sorted(json.loads(cache_file.read_text())) == [
        "clean.py",
        "new.py",
        "train.py",
    ]


def test_internal_error_is_one_line(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fault injection: a crashing rule becomes a one-line error, not a traceback.
    def boom(*args: object) -> None:
        raise RuntimeError("rule exploded")

    monkeypatch.setattr(mlqa.check.analysis, "analyze", boom)
    code, out, err = run(capsys, "--no-cache", "train.py")
    assert code == 2 and out == ""
    assert err == (
        "train.py:1:1: internal error in mlqa check (RuntimeError: rule exploded); "
        "please report it\n"
    )


def test_discovery_respects_root_gitignore(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / ".gitignore").write_text(
        "# data\n/data/\n*_generated.py\n!keep_generated.py\n"
    )
    (project / "clean.py").write_text(TRAIN)
    for name in [
        "data/big/x.py",
        "pkg/data/y.py",
        "pkg/m_generated.py",
        "pkg/keep_generated.py",
    ]:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(TRAIN)
    assert checked(capsys) == [  # the negation re-includes keep_generated.py
        "clean.py",
        "pkg/data/y.py",
        "pkg/keep_generated.py",
        "train.py",
    ]
    # a file named on the command line is checked all the same
    assert checked(capsys, "pkg/m_generated.py") == ["pkg/m_generated.py"]


@pytest.mark.parametrize(
    "git",
    [
        False,
        True,
    ],
    ids=["walk", "git"],
)
def test_ignored_directory_named_on_the_command_line_is_checked(
    project: Path, capsys: pytest.CaptureFixture[str], git: bool
) -> None:
    (project / ".gitignore").write_text("/data/\n")
    (project / "data" / "big").mkdir(parents=True)
    (project / "data" / "big" / "x.py").write_text(TRAIN)
    if git:
        subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    assert "data/big/x.py" not in checked(capsys)
    assert checked(capsys, "data") == ["data/big/x.py"]


@pytest.mark.parametrize("git", [False, True], ids=["walk", "git"])
def test_check_and_lint_look_at_the_same_files(
    project: Path, capsys: pytest.CaptureFixture[str], git: bool
) -> None:
    # Every file has an mlqa finding and a ruff finding (F401), so the files
    # each command reports are the files it looked at.
    (project / "pyproject.toml").write_text('[tool.mlqa]\nexclude = ["scripts/*.py"]\n')
    (project / ".gitignore").write_text("*_generated.py\n!keep_generated.py\n")
    (project / "clean.py").unlink()
    names = [
        "train.py",
        "scripts/run.py",  # excluded: `*` matches within scripts/
        "scripts/sub/train.py",  # not excluded: `*` does not cross `/`
        "pkg/m_generated.py",  # ignored by .gitignore
        "pkg/keep_generated.py",  # re-included by the negation
    ]
    for name in names:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text("import os\n" + TRAIN)
    if git:
        subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    lint = subprocess.run(
        [str(Path(sys.executable).with_name("mlqa")), "lint", "--format", "json", "."],
        capture_output=True,
        text=True,
        cwd=project,
    )
    assert lint.returncode == 1, lint.stderr
    linted = sorted({d["path"] for d in json.loads(lint.stdout)})
    assert (
        checked(capsys)
        == linted
        == [
            "pkg/keep_generated.py",
            "scripts/sub/train.py",
            "train.py",
        ]
    )


def test_notebooks_in_other_languages_are_skipped(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "julia-1.9", "language": "julia"}
    nb.cells = [nbformat.v4.new_code_cell("x = [1 2 3]'\nlr = 0.1")]
    nbformat.write(nb, project / "julia.ipynb")
    assert run(capsys, "julia.ipynb") == (0, "", "")


def test_command_line_parsing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--help")
    assert code == 0 and out.startswith("usage: mlqa check") and "--statistics" in out
    for argv, message in [
        (["--format", "xml"], "argument --format: invalid choice: 'xml'"),
        (["--select"], "argument --select: expected one argument"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--exit-zero=1"], "unrecognized arguments: --exit-zero=1"),
    ]:
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "" and err.startswith("usage: mlqa check")
        assert f"mlqa check: error: {message}" in err
    out = run(capsys, "--select=MLQ2", "--format=json", "--", "train.py")[1]
    assert [d["code"] for d in json.loads(out)] == ["MLQ201"]
    (project / "-h.py").write_text(TRAIN)
    assert run(capsys, "--select", "MLQ201", "--", "-h.py")[0] == 1


@pytest.mark.parametrize(
    ("source", "broken"),
    [
        ("return 1\n", False),  # compile() rejects it, ast.parse does not
        ("x = g(lr=0.1)\nreturn x\n", False),
        ("nonlocal x\n", False),
        ("def f(:\n", True),
        ("x = (\n", True),
        ("from __future__ import braces\n", False),
    ],
)
def test_broken_means_what_ast_parse_says(source: str, broken: bool) -> None:
    _, errors = analyze(source.encode(), "f.py", False, Options())
    try:
        ast.parse(source)
        parses = True
    except SyntaxError:
        parses = False
    assert parses is not broken and bool(errors) is broken, errors


def test_runner_contract_in_process(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `mlqa run` calls the step in process: same findings as the command, no output.
    from mlqa.runner import STEPS, run_files

    cli = json.loads(run(capsys, "--format", "json", "--no-cache")[1])
    config = mlqa.config.load(project).with_settings({"cache": False})
    before = (project / "train.py").read_bytes()
    result = run_files(
        STEPS["rules"], [Path("train.py"), Path("clean.py")], config, fix=True
    )
    assert capsys.readouterr() == ("", "")
    assert (result.tool, result.files, result.errors, result.changed) == (
        "rules",
        2,
        [],
        [],
    )
    assert [f._asdict() for f in result.findings] == cli
    assert result.exit_code == 1
    assert (project / "train.py").read_bytes() == before  # fix is ignored
    assert not (project / ".mlqa_cache").exists()
    # a bad code in the config is an error of the step, not a traceback
    bad = config.with_settings({"select": ["MLQ9"]})
    result = run_files(STEPS["rules"], [Path("train.py")], bad, fix=False)
    assert result.exit_code == 2 and result.findings == []
    assert [str(e) for e in result.errors] == [
        "pyproject.toml: unknown rule code or prefix 'MLQ9'"
    ]
