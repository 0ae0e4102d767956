"""Notebook code cells: IPython syntax to Python (against IPython), line mapping, bad notebooks."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

from mlqa.check import main
from mlqa.config import load
from mlqa.diagnostics import InputError
from mlqa.notebooks.cells import code_cells, combine
from mlqa.notebooks.ipysyntax import PYTHON_CELL_MAGICS, transform
from mlqa.run import run_steps
from mlqa.runner import STEPS


def _write(tmp_path: Path, sources: list[str], markdown_first: bool = True) -> Path:
    nb = nbformat.v4.new_notebook()
    if markdown_first:
        nb.cells.append(nbformat.v4.new_markdown_cell("# Title\ntext"))
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return path


#: (cell source, the Python Jupyter runs (None: unchanged), characters removed
#: per line), written by hand from IPython's rules. Lines IPython joins into
#: one are followed by blank lines, so every line stays where it was.
TABLE = [
    (
        "%matplotlib inline\nimport torch",
        "get_ipython().run_line_magic('matplotlib', 'inline')\nimport torch",
        (0, 0),
    ),
    (" x = 1\n y = 2", "x = 1\ny = 2", (1, 1)),  # a cell starting with a space
    ("\tx = 1\n\tif x:\n\t    y = 2", "x = 1\nif x:\n    y = 2", (1, 1, 1)),
    (
        "%timeit \\\n    model(x)",  # %timeit continued over two lines
        "get_ipython().run_line_magic('timeit', '     model(x)')\n",
        (0, 0),
    ),
    (
        "!pip install torch \\\n   numpy\nimport numpy",
        "get_ipython().system('pip install torch     numpy')\n\nimport numpy",
        (0, 0, 0),
    ),
    (
        "files = !ls data\nx = %env HOME\nn = len(files)",
        "files = get_ipython().getoutput('ls data')\n"
        "x = get_ipython().run_line_magic('env', 'HOME')\nn = len(files)",
        (0, 0, 0),
    ),
    (
        "model?\ntorch.nn.Linear??\n?",
        "get_ipython().run_line_magic('pinfo', 'model')\n"
        "get_ipython().run_line_magic('pinfo2', 'torch.nn.Linear')\n"
        "get_ipython().show_usage()",
        (0, 0, 0),
    ),
    (
        "if gpu:\n    !nvidia-smi\n    %time f()\n",
        "if gpu:\n    get_ipython().system('nvidia-smi')\n"
        "    get_ipython().run_line_magic('time', 'f()')\n",
        (0, 0, 0, 0),
    ),
    ("%%time\nx = f(lr=0.1)", "\nx = f(lr=0.1)", (0, 0)),
    ("%%timeit\n  y = g()\n  !ls", "\ny = g()\nget_ipython().system('ls')", (0, 2, 2)),
    (
        "%%bash\nls\necho $HOME",
        "get_ipython().run_cell_magic('bash', '', 'ls\\necho $HOME\\n')\n\n",
        (0, 0, 0),
    ),
    (
        "\n\n%pip install torch\nx = 1\n",
        "\n\nget_ipython().run_line_magic('pip', 'install torch')\nx = 1\n",
        (0, 0, 0, 0, 0),
    ),
    (">>> x = 1\n... y = 2", "x = 1\ny = 2", (4, 4)),
    ("In [3]: x = 1", "x = 1", (8,)),
    ("s = '%not a magic'  # !nor this\nr = 10 % 3", None, (0, 0)),
    ("x = {\n    'a': 1,\n}\ny = x != 2", None, (0, 0, 0, 0)),
    ("/print 1 2\n,print a b", 'print(1, 2)\nprint("a", "b")', (0, 0)),
    # IPython ends a line magic at the end of its line (or of a backslash
    # continuation), so bracketed arguments that go on to the next line stay
    # as they are: Jupyter reports a syntax error there too.
    (
        "%timeit np.dot(a,\n        b)",
        "get_ipython().run_line_magic('timeit', 'np.dot(a,')\n        b)",
        (0, 0),
    ),
    ("", None, (0,)),
    ("  \n", None, (0, 0)),
]


@pytest.mark.parametrize(("cell", "python", "shifts"), TABLE)
def test_transform_table(
    cell: str, python: str | None, shifts: tuple[int, ...]
) -> None:
    cleaned = transform(cell)
    assert cleaned.source == (cell if python is None else python)
    assert cleaned.shifts == shifts
    assert len(cleaned.source.split("\n")) == len(cell.split("\n"))


def test_columns_map_back_to_the_cell() -> None:
    cell = "  %matplotlib inline\n  opt = SGD(params, lr=0.1)\n  if x:\n      y = 2"
    cleaned = transform(cell)
    lines = cell.split("\n")
    for number, line in enumerate(cleaned.source.split("\n"), 1):
        if not line.startswith("get_ipython"):
            assert lines[number - 1][cleaned.shifts[number - 1] :] == line


#: Cell sources as found in real notebooks (tutorials, course material,
#: benchmarks); :func:`transform` must give what IPython gives, blank lines aside.
REAL_CELLS = [
    "%matplotlib inline\nimport matplotlib.pyplot as plt\nimport numpy as np",
    "%load_ext autoreload\n%autoreload 2",
    "!pip install -q torch torchvision\n!nvidia-smi",
    "from numba import jit\n\n@jit\ndef sum(x, y):\n    return x + y\n\n%timeit sum(2,2)",
    "%timeit compute_accuracy(predict_language_naive)",
    "%timeit -n 10 -r 3 \\\n    model(torch.randn(64, 3, 224, 224))",
    "%%time\nfor epoch in range(10):\n    train(model, loader)\n",
    "%%capture\n!pip install transformers datasets",
    "%%writefile train.py\nimport torch\nprint(torch.__version__)\n",
    "%%bash\nwget https://example.org/data.zip\nunzip data.zip",
    "%%javascript\nIPython.OutputArea.prototype._should_scroll = function(lines) {\n"
    "    return false;\n}",
    " import torch\n device = 'cpu'\n x = torch.ones(3, device=device)",
    "    model.eval()\n    with torch.no_grad():\n        out = model(x)\n",
    "\n\nimport pandas as pd\ndf = pd.read_csv('data.csv')\ndf.head()",
    "files = !ls *.csv\nprint(files)",
    "gpu_info = !nvidia-smi\ngpu_info = '\\n'.join(gpu_info)\nprint(gpu_info)",
    "t = %timeit -o sum(range(100))\nt.best",
    "df.describe?",
    "np.linalg.norm??",
    "%config InlineBackend.figure_format = 'retina'",
    "%env CUDA_VISIBLE_DEVICES=0\nimport torch",
    "if torch.cuda.is_available():\n    !nvidia-smi\nelse:\n    print('cpu')",
    "for i in range(3):\n    %time step(i)",
    "%pip install -U scikit-learn",
    "%run utils.py\nresult = helper(3)",
    ">>> import torch\n>>> torch.ones(2)\ntensor([1., 1.])",
    "In [1]: import numpy as np\n   ...: np.arange(3)",
    "ratio = 10 % 3\nmsg = 'progress: %d%%' % 50\nok = ratio != 2",
    's = """\n!not a shell line\n%not a magic\n"""',
    "x = f(a,\n      b)  # comment with ? mark",
    "%timeit np.dot(a,\n        b)",
    "def f(x):\n    return x % 2\n\nf?",
    "async def main():\n    return 1\n\nawait main()",
    "def broken(:\n    pass",
]


def _nonblank(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


@pytest.mark.parametrize("cell", REAL_CELLS)
def test_same_as_ipython(cell: str) -> None:
    """IPython's own transformer gives the same Python (when IPython is installed)."""
    pytest.importorskip("IPython")
    from IPython.core.inputtransformer2 import TransformerManager

    ipython = TransformerManager().transform_cell
    ours = transform(cell)
    assert len(ours.source.split("\n")) == len(cell.split("\n"))
    magic = re.match(r"%%(\w+)", cell.lstrip())
    if magic and magic.group(1) in PYTHON_CELL_MAGICS:
        # Deliberate difference: the Python body is kept, where IPython hands
        # it to the magic as a string (and the magic transforms it likewise).
        expected = ipython(cell.lstrip().split("\n", 1)[1])
    else:
        expected = ipython(cell)
    assert _nonblank(ours.source) == _nonblank(expected)


def test_dev_extra_installs_ipython() -> None:
    """CI installs the dev extra, so the comparison with IPython runs there."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    pyproject = Path(__file__).parent.parent / "pyproject.toml"
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    dev = data["project"]["optional-dependencies"]["dev"]
    assert any(re.match(r"ipython\b", item, re.IGNORECASE) for item in dev)


#: Cells seen on real notebooks that Jupyter runs: an indented cell, a
#: backslash-continued %timeit, a %%time cell, and a deliberately broken
#: teaching cell.
ISSUE_CELLS = [
    " import torch\n from torch import optim\n opt = optim.SGD(params, lr=0.1)",
    "%timeit -n 1 \\\n    model(x)",
    "%%time\nfor epoch in range(90):\n    opt.step()",
    "# Exercise: fix this cell\ndef broken(:\n    pass",
    "model.cuda()",
]


def test_issue_notebook_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, ISSUE_CELLS)
    lines = path.read_text(encoding="utf-8").splitlines()
    code = main(["--no-cache", "nb.ipynb"])
    out, err = capsys.readouterr()
    assert code == 1 and err == ""
    found = []
    for row in out.splitlines():
        name, line, col, rest = row.split(":", 3)
        code_, where = rest.split()[:2], re.search(r"\[cell (\d+), line (\d+)\]", rest)
        assert name == "nb.ipynb" and where
        cell, cell_line = int(where.group(1)), int(where.group(2))
        source_line = ISSUE_CELLS[cell - 2].split("\n")[cell_line - 1]
        # the line is the .ipynb line holding that source line
        assert (
            json.loads(lines[int(line) - 1].strip().rstrip(",")).rstrip("\n")
            == source_line
        )
        found.append((code_[0], cell, cell_line, source_line[int(col) - 1 :]))
    assert found == [
        ("MLQ101", 2, 3, "0.1)"),
        ("MLQ103", 4, 2, "90):"),
        ("NB100", 5, 2, ":"),
        ("MLQ201", 6, 1, ".cuda()"),
    ]


def test_broken_cell_is_not_a_step_error(tmp_path: Path) -> None:
    """``mlqa run``'s rules step: one finding for the cell, no error, exit 1."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    cells = ["def broken(:\n    pass", "import torch\nopt = torch.optim.SGD(p, lr=0.1)"]
    path = _write(tmp_path, cells)
    config = load(tmp_path).with_settings({"cache": False})
    (result,) = run_steps([path], config, [name for name in STEPS if name != "rules"])
    assert result.errors == []
    assert [f.code for f in result.findings] == ["NB100", "MLQ101"]
    assert result.exit_code == 1


def test_python_file_syntax_error_stays_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "bad.py").write_text("def broken(:\n    pass\n")
    monkeypatch.chdir(tmp_path)
    assert main(["--no-cache", "bad.py"]) == 2
    assert capsys.readouterr().err.startswith("bad.py:1:")


def test_lines_map_to_the_notebook_file(tmp_path: Path) -> None:
    path = _write(tmp_path, ["import torch\nx = 1", "y = 2\nz = 3\nw = 4"])
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    cells = code_cells(text, path)
    assert [c.number for c in cells] == [2, 3]
    for cell in cells:
        for number, source_line in enumerate(cell.source.split("\n"), 1):
            file_line = lines[cell.file_line(number) - 1]
            assert json.loads(file_line.strip().rstrip(",")).rstrip("\n") == source_line


def test_non_standard_layout_falls_back_to_the_source_key(tmp_path: Path) -> None:
    nb = {
        "cells": [{"cell_type": "code", "source": "a = 1\nb = 2", "metadata": {}}],
        "nbformat": 4,
    }
    text = json.dumps(nb)
    (cell,) = code_cells(text, "nb.ipynb")
    assert cell.json_lines is None and cell.file_line(2) == 1


def test_combine_keeps_origins(tmp_path: Path) -> None:
    path = _write(tmp_path, ["a = 1\nb = 2", "c = 3"])
    cells = code_cells(path.read_text(encoding="utf-8"), path)
    joined = combine(cells)
    assert joined.source == "a = 1\nb = 2\nc = 3\n"
    assert [(c.number, n) for c, n in joined.origin] == [(2, 1), (2, 2), (3, 1)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"cells": [', "invalid notebook JSON"),
        ("[1, 2]", "not a Jupyter notebook"),
        ('{"metadata": {}}', "not a Jupyter notebook"),
        ('{"cells": [1]}', "not a JSON object"),
        ('{"cells": [{"cell_type": "code", "source": 3}]}', "'source' is not text"),
    ],
)
def test_bad_notebooks(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        code_cells(text, "bad.ipynb")
    assert str(info.value).startswith("bad.ipynb:")


def test_nbformat_3_worksheets() -> None:
    nb = {
        "nbformat": 3,
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "markdown", "source": ["# t"]},
                    {"cell_type": "code", "input": ["import torch\n", "x = g(lr=0.1)"]},
                ]
            }
        ],
    }
    text = json.dumps(nb, indent=1)
    (cell,) = code_cells(text, "old.ipynb")
    assert cell.number == 2 and cell.source == "import torch\nx = g(lr=0.1)"
    assert '"x = g(lr=0.1)"' in text.splitlines()[cell.file_line(2) - 1]


@pytest.mark.parametrize(
    ("cell", "reported"),
    [
        ("# Exercise: fix this cell\ndef broken(:\n    pass", True),
        ("# Exercise: fix this cell  # noqa: NB100\ndef broken(:\n    pass", False),
        ("# Exercise\ndef broken(:  # noqa\n    pass", False),
        ("# Exercise\ndef broken(:  # noqa: MLQ101\n    pass", True),
    ],
)
def test_noqa_silences_a_broken_teaching_cell(
    tmp_path: Path, cell: str, reported: bool
) -> None:
    from mlqa.check.analysis import analyze
    from mlqa.rules.context import Options

    path = _write(tmp_path, [cell, "import torch\nopt = torch.optim.SGD(p, lr=0.1)"])
    findings, errors = analyze(path.read_bytes(), "nb.ipynb", True, Options())
    assert errors == []
    assert [f[2] for f in findings] == (["NB100"] if reported else []) + ["MLQ101"]


@pytest.mark.parametrize(
    ("argv", "codes", "exit_code"),
    [
        ([], ["NB100", "MLQ101"], 1),
        (["--ignore", "NB100"], ["MLQ101"], 1),
        (["--select", "NB100"], ["NB100"], 1),
        (["--select", "MLQ1"], ["MLQ101"], 1),
        (["--ignore", "NB,MLQ"], [], 0),
    ],
)
def test_nb100_is_selected_like_a_rule(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    codes: list[str],
    exit_code: int,
) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    monkeypatch.chdir(tmp_path)
    _write(
        tmp_path,
        ["def broken(:\n    pass", "import torch\nopt = torch.optim.SGD(p, lr=0.1)"],
    )
    assert main(["--no-cache", *argv, "nb.ipynb"]) == exit_code
    out, err = capsys.readouterr()
    assert [row.split()[1] for row in out.splitlines()] == codes and err == ""
