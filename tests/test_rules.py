"""The ML rules: the labeled corpus (precision/recall), each rule's edge cases, the docs."""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from mlqa.check import analyze
from mlqa.config import SCHEMA
from mlqa.files import is_test, matches
from mlqa.rules import docs, hyperparameter_apis
from mlqa.rules.engine import Options, analyze_source, suppressed
from mlqa.rules.hyperparameter_apis import DEFAULT_NAMES
from mlqa.rules.registry import RULE_MODULES, SECTIONS, all_rules, expand
from mlqa.rules.resolve import is_literal_number, qualified_name

CASES = Path(__file__).parent / "cases"
ROOT = Path(__file__).parent.parent
EXPECT = re.compile(r"#\s*expect:\s*((?:MLQ\d{3}[\s,]*)+)")


def _options_for(rel: str) -> Options:
    exempt = is_test(rel) or matches(rel, SCHEMA["config-paths"][2])
    return Options(DEFAULT_NAMES, frozenset() if exempt else None)


def corpus() -> tuple[Counter[tuple[str, int, str]], Counter[tuple[str, int, str]]]:
    """Expected and found (file, line, code) over tests/cases."""
    expected: Counter[tuple[str, int, str]] = Counter()
    found: Counter[tuple[str, int, str]] = Counter()
    for path in sorted(CASES.rglob("*")):
        if path.suffix not in (".py", ".ipynb"):
            continue
        rel = path.relative_to(CASES).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = EXPECT.search(line)
            if match:
                for code in re.findall(r"MLQ\d{3}", match.group(1)):
                    expected[(rel, number, code)] += 1
        findings, errors = analyze(
            path.read_bytes(), rel, path.suffix == ".ipynb", _options_for(rel)
        )
        assert errors == [], (rel, errors)
        for line, _, code, _ in findings:
            found[(rel, line, code)] += 1
    return expected, found


def test_corpus_precision_and_recall() -> None:
    expected, found = corpus()
    tp = sum((expected & found).values())
    precision = tp / max(1, sum(found.values()))
    recall = tp / max(1, sum(expected.values()))
    for code in all_rules():
        e = sum(v for k, v in expected.items() if k[2] == code)
        f = sum(v for k, v in found.items() if k[2] == code)
        t = sum(v for k, v in (expected & found).items() if k[2] == code)
        print(f"{code}: expected {e} found {f} true positives {t}")
        assert e >= 3, f"the corpus needs at least 3 positives of {code}"
    print(
        f"corpus: {sum(expected.values())} labeled findings, precision {precision:.3f}, recall {recall:.3f}"
    )
    missed = sorted((expected - found).elements())
    spurious = sorted((found - expected).elements())
    assert precision >= 0.95, f"false positives: {spurious}"
    assert recall >= 0.95, f"missed: {missed}"


def test_corpus_has_negatives_for_every_exemption() -> None:
    # The look-alikes the rules must leave alone are in the corpus.
    text = "\n".join(p.read_text(encoding="utf-8") for p in CASES.rglob("*.py"))
    for lookalike in [
        "add_argument(",
        "@click.option",
        "typer.Option(",
        "@dataclass",
        "(NamedTuple)",
        "(BaseModel)",
        "attr.ib(",
        "cfg.optim.lr",
        'hparams["eval_batch_size"]',
        "OmegaConf.create",
        "range(len(",
        "transforms.Normalize(",
        "alpha=0.3",
        "eps=1e-5",
        "is_available() else",
        'map_location="cpu"',
    ]:
        assert lookalike in text, lookalike
    assert (CASES / "configs").is_dir() and (CASES / "tests").is_dir()


def check(source: str, **kw: object) -> list[tuple[int, str]]:
    options = Options(**kw)  # type: ignore[arg-type]
    return [
        (line, code) for line, _, code, _ in analyze_source(source, "t.py", options)
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import torch\nopt = torch.optim.Adam(p, lr=1e-3)\n", [(2, "MLQ101")]),
        ("import torch\nopt = torch.optim.Adam(p, lr=-0.1)\n", [(2, "MLQ101")]),
        ("import torch\nopt = torch.optim.Adam(p, lr=1e-3 * 2)\n", [(2, "MLQ101")]),
        ("import torch\nopt = torch.optim.Adam(p, lr=args.lr * 2)\n", []),
        ("import torch\nopt = torch.optim.Adam(p, lr=cfg['lr'])\n", []),
        (
            "import torch.optim as optim\nopt = optim.Adam(p, 1e-3, (0.9, 0.99))\n",
            [(2, "MLQ102"), (2, "MLQ102")],
        ),
        ("from torch.optim import Adam as A\nopt = A(p, 1e-3)\n", [(2, "MLQ102")]),
        (
            "from torch import nn\nd = nn.Dropout(0.5)\nloss.backward()\n",
            [(2, "MLQ102")],
        ),
        # A file that never trains (a model definition) has no run settings.
        ("from torch import nn\nd = nn.Dropout(0.5)\n", []),
        ("from torch import nn\nd = nn.Dropout(p)\nl = nn.Linear(512, 10)\n", []),
        ("from mylib import Dropout\nd = Dropout(0.5)\n", []),
        # nanoGPT's transformer_sizing notebook: "optimizer" only in a comment
        (
            "# the AdamW optimizer keeps 2 buffers per parameter\nbatch_size = 20 * 5\n",
            [],
        ),
        ("optimizer.zero_grad()  # step\nbatch_size = 64\n", [(2, "MLQ104")]),
        (
            "import functools, torch\nf = functools.partial(torch.optim.SGD, lr=0.1)\n",
            [(2, "MLQ101")],
        ),
        (
            "from functools import partial\nfrom torch import optim\nf = partial(optim.SGD, 0.1)\n",
            [],
        ),
        ("import matplotlib.pyplot as plt\nplt.plot(x, alpha=0.5)\n", []),
        (
            "from sklearn.linear_model import Ridge\nm = Ridge(alpha=0.5)\nm.fit(x, y)\n",
            [(2, "MLQ101")],
        ),
        ("for epoch in range(90):\n    pass\n", [(1, "MLQ103")]),
        ("for epoch in range(start, 90):\n    pass\n", [(1, "MLQ103")]),
        ("for epoch in range(args.epochs):\n    pass\n", []),
        ("for i in range(90):\n    pass\n", []),
        ("EPOCHS = 3\nfor epoch in range(EPOCHS + 1):\n    pass\n", [(1, "MLQ104")]),
        (
            "EPOCHS = 3\nEPOCHS = 4\nfor epoch in range(EPOCHS):\n    pass\n",
            [(1, "MLQ104"), (2, "MLQ104")],
        ),
        ("E = 3\nE += 1\nfor epoch in range(E):\n    pass\n", []),
        ("def f(epochs=3):\n    for epoch in range(epochs):\n        pass\n", []),
        ("LR = 0.1\ndef f(LR):\n    return g(lr=LR)\n", []),
        ("LR = 0.1\ndef f():\n    return g(lr=LR)\nf().step()\n", [(1, "MLQ104")]),
        ("x = g(lr=0.1)  # noqa: MLQ101\n", []),
        ("x = g(lr=0.1)  # noqa\n", []),
        ("x = g(lr=0.1)  # noqa: MLQ1\n", []),
        ("x = g(lr=0.1)  # noqa: E501\nx.step()\n", [(1, "MLQ101")]),
        ("x = g(lr=True, batch_size=None, epochs='3')\n", []),
        ("m = m.cuda()\n", [(1, "MLQ201")]),
        ("import torch\nif torch.cuda.is_available():\n    m = m.cuda()\n", []),
        ("m = m.cuda() if use_gpu else m\n", []),
        ("import torch\nd = torch.device('cuda')\n", [(2, "MLQ202")]),
        ("import torch\nd = torch.device('cuda' if ok else 'cpu')\n", []),
        ("x = x.to('cuda:1')\n", [(1, "MLQ202")]),
        ("x = x.to('cpu')\ny = x.to(dtype)\n", []),
        ("device = 'cuda'\n", [(1, "MLQ202")]),
        ("def f(device='cuda'):\n    return x.to(device)\n", []),
    ],
)
def test_rule_cases(source: str, expected: list[tuple[int, str]]) -> None:
    assert check(source) == sorted(expected)


NANOGPT = """\
import torch
batch_size = 12
learning_rate = 6e-4
grad_clip = 1.0
device = 'cuda'
exec(open('configurator.py').read())
opt = torch.optim.AdamW(p, lr=learning_rate)
torch.nn.utils.clip_grad_norm_(p, grad_clip)
min_lr = 3e-5
opt.step()
"""


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Settings above nanoGPT's configurator are its command-line config.
        (NANOGPT, [(9, "MLQ104")]),
        # A file that needs a GPU by design (NCCL) has no device findings.
        (
            "import torch.distributed as dist\ndist.init_process_group('nccl')\nm.cuda()\n",
            [],
        ),
        # A __main__ smoke test (no optimizer, no loop) vs a __main__ run.
        (
            "import torch\nif __name__ == '__main__':\n    m = Net().cuda()\n"
            "    print(m(torch.randn(2, 3, device='cuda')))\n",
            [],
        ),
        (
            "import torch\nif __name__ == '__main__':\n    m = Net().cuda()\n"
            "    opt = torch.optim.SGD(m.parameters(), lr=0.1)\n",
            [(3, "MLQ201"), (4, "MLQ101")],
        ),
        # xgboost / lightgbm APIs and keywords; booster params dicts.
        (
            "import xgboost as xgb\nbst = xgb.cv(params, dtrain, 10)\nxgb.train(p, d)\n",
            [(2, "MLQ102")],
        ),
        (
            "import xgboost as xgb\ncb = xgb.callback.EarlyStopping(3)\nbst = xgb.train(p, d)\n",
            [(2, "MLQ102")],
        ),
        (
            "import xgboost as xgb\nb = xgb.train(p, d, num_boost_round=n, early_stopping_rounds=5)\n",
            [(2, "MLQ101")],
        ),
        (
            "import xgboost as xgb\nparams = {'max_depth': 6, 'eta': 0.3, 'nthread': 4}\n"
            "bst = xgb.train(params, dtrain)\n",
            [(2, "MLQ101"), (2, "MLQ101")],
        ),
        (
            "import xgboost as xgb\nm = xgb.XGBRegressor(device='cuda')\nm.fit(x, y)\n",
            [],
        ),
        # Fabric, Accelerate and stable-baselines3 names.
        (
            "fabric.clip_gradients(model, opt, clip_val=0.5)\nopt.step()\n",
            [(1, "MLQ101")],
        ),
        (
            "accelerator.clip_grad_norm_(model.parameters(), 0.5)\nopt.step()\n",
            [(1, "MLQ102")],
        ),
        (
            "model = PPO('MlpPolicy', env, n_steps=2048)\nmodel.learn(total_timesteps=10_000)\n",
            [(1, "MLQ101"), (2, "MLQ101")],
        ),
        # A constant passed by position to the file's own function.
        (
            "eval_batch_size = 10\ndef batchify(data, bsz):\n    return data\n"
            "val = batchify(val_data, eval_batch_size)\nopt.step()\n",
            [(1, "MLQ104")],
        ),
        (
            "def batchify(data, bsz):\n    return data\nval = batchify(d, 10)\nopt.step()\n",
            [(3, "MLQ102")],
        ),
        # Inference batch sizes and evaluation loaders are not run settings.
        ("y = model.predict(x, batch_size=128)\nmodel.fit(x, y)\n", []),
        ("dl = DataLoader(Images(mode='val'), batch_size=8)\nopt.step()\n", []),
        ("dl = DataLoader(ds, batch_size=1)\nopt.step()\n", []),
        ("o = torch.optim.SGD(p, lr=0, momentum=0.9)\n", [(1, "MLQ101")]),
    ],
)
def test_scope_cases(source: str, expected: list[tuple[int, str]]) -> None:
    assert check(source) == sorted(expected)


def test_families_can_be_switched_off() -> None:
    source = "m = m.cuda()\nx = g(lr=0.1)\nx.step()\n"
    assert check(source, codes=frozenset(expand(["MLQ2"]))) == [(1, "MLQ201")]
    assert check(source, codes=frozenset(expand(["MLQ1"]))) == [(2, "MLQ101")]


def test_extra_hyperparameter_names() -> None:
    source = "x = g(temperature=0.7)\nx.step()\n"
    assert check(source) == []
    names = DEFAULT_NAMES | {"temperature"}
    assert check(source, hyperparameter_names=names) == [(1, "MLQ101")]


def test_columns_are_one_based_characters() -> None:
    findings = analyze_source("é = g(lr=0.1)\né.step()\n", "t.py", Options())
    assert findings[0][:2] == (1, 10)


def test_literal_and_name_helpers() -> None:
    expr = lambda s: ast.parse(s, mode="eval").body  # noqa: E731
    assert is_literal_number(expr("(0.9, 0.999)"))
    assert is_literal_number(expr("2 ** 10"))
    assert not is_literal_number(expr("True"))
    assert not is_literal_number(expr("()"))
    assert not is_literal_number(expr("x * 2"))
    tree = ast.parse("import torch.optim as optim\nfrom torch import nn\n")
    imports: dict[str, str] = {}
    from mlqa.rules.resolve import collect_imports

    collect_imports(tree, imports)
    assert (
        qualified_name(expr("optim.lr_scheduler.StepLR"), imports)
        == "torch.optim.lr_scheduler.StepLR"
    )
    assert qualified_name(expr("nn.Dropout"), imports) == "torch.nn.Dropout"
    assert qualified_name(expr("f()"), imports) is None


def test_noqa_parsing() -> None:
    assert suppressed("x  # noqa", "MLQ101")
    assert suppressed("x  # NOQA: mlq101, E501", "MLQ101")
    assert not suppressed("x  # noqa: MLQ2", "MLQ101")
    assert not suppressed("x", "MLQ101")


def test_expand_prefixes() -> None:
    codes = list(all_rules())
    assert expand(["MLQ1"], codes) == {c for c in codes if c.startswith("MLQ1")}
    assert expand(["ALL"], codes) == set(codes)
    with pytest.raises(ValueError, match="unknown rule"):
        expand(["MLQ9"], codes)


def test_every_rule_is_documented() -> None:
    rules = all_rules()
    assert len(rules) >= 6
    for rule in rules.values():
        headings = re.findall(r"^## (.+)$", rule.doc, re.MULTILINE)
        assert tuple(headings) == SECTIONS, (rule.code, headings)
        for section in re.split(r"^## .+$", rule.doc, flags=re.MULTILINE)[1:]:
            assert section.strip(), f"{rule.code} has an empty section"
        assert "```python" in rule.doc
        assert rule.summary and re.fullmatch(r"[a-z0-9-]+", rule.name)


def test_rule_docs_examples_are_flagged_and_fixes_are_not() -> None:
    for rule in all_rules().values():
        example = re.search(r"## Example\n```python\n(.*?)```", rule.doc, re.DOTALL)
        fix = re.search(r"## Use instead\n```python\n(.*?)```", rule.doc, re.DOTALL)
        assert example and fix
        source = "import torch\nimport lightning.pytorch as pl\nfrom torch.utils.data import DataLoader\n"
        codes = [c for _, c in check(source + example.group(1))]
        assert rule.code in codes, (rule.code, codes)
        assert check(source + fix.group(1)) == [], rule.code


def test_docs_files_are_rendered_from_the_rules() -> None:
    directory = ROOT / "docs" / "rules"
    rules = all_rules()
    files = sorted(p.name for p in directory.glob("*.md"))
    assert files == sorted(f"{r.name}.md" for r in rules.values())
    for rule in rules.values():
        text = (directory / f"{rule.name}.md").read_text(encoding="utf-8")
        assert text == docs.render(
            rule
        ), f"run: mlqa rule --write docs/rules ({rule.name})"


def test_rules_index_lists_and_links_every_rule() -> None:
    index = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    body = index.split("<!-- section: rules -->")[1].split("<!-- /section: rules -->")[
        0
    ]
    for rule in all_rules().values():
        assert rule.code in body and rule.name in body, rule.code
        assert f"(rules/{rule.name}.md)" in body, rule.code


def test_rule_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert docs.main(["MLQ101"]) == 0
    out = capsys.readouterr().out
    for section in SECTIONS:
        assert f"## {section}" in out
    assert docs.main(["hardcoded-device"]) == 0
    assert "MLQ202" in capsys.readouterr().out
    assert docs.main([]) == 0
    listing = capsys.readouterr().out
    assert all(code in listing for code in all_rules())
    assert docs.main(["MLQ999"]) == 2
    captured = capsys.readouterr()
    assert "unknown rule 'MLQ999'" in captured.err and captured.out == ""
    assert docs.main(["--bogus"]) == 2
    assert docs.main(["--write", str(tmp_path)]) == 0
    assert len(list(tmp_path.glob("*.md"))) == len(all_rules())


def _regex_starts(source: str, words: frozenset[str]) -> set[int]:
    backwards = source[::-1]
    found = {
        len(source) - m.end()
        for m in hyperparameter_apis._reversed_pattern(words).finditer(backwards)
    }
    for suffix in hyperparameter_apis.API_SUFFIXES:
        found |= {m.start() for m in re.finditer(rf"{suffix}[ \t]*\(", source)}
    return found


def test_find_scan_matches_regex_scan() -> None:
    # Small runs scan with str.find, large ones with a compiled regex: same lines.
    words = DEFAULT_NAMES | hyperparameter_apis.API_NAMES
    texts = [p.read_text(encoding="utf-8") for p in sorted(CASES.rglob("*.py"))]
    texts += [
        "lr=1",
        "x.lr = 2",
        "lr == 3",
        "flr=4",
        "Adam (",
        "RandomForestClassifier(",
        "lr\t=\t5",
    ]
    for text in texts:
        regex = {text.count("\n", 0, s) for s in _regex_starts(text, words)}
        found = {
            text.count("\n", 0, s) for s in hyperparameter_apis._find_words(text, words)
        }
        assert found == regex


# One fixture per rule: tests/rules/<module>.py, checked with that rule alone
# selected; `# expect: CODE:COLUMN` comments give every finding, exactly.
FIXTURES = Path(__file__).parent / "rules"
MARK = re.compile(r"#\s*expect:\s*(MLQ\d{3}:\d+(?:\s*,\s*MLQ\d{3}:\d+)*)\s*$")


def _expected(text: str) -> list[tuple[int, int, str]]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        match = MARK.search(line)
        if match:
            for item in match.group(1).split(","):
                code, col = item.strip().split(":")
                found.append((number, int(col), code))
    return sorted(found)


@pytest.mark.parametrize("module", RULE_MODULES, ids=lambda m: m.rpartition(".")[2])
def test_rule_fixture_has_exactly_the_expected_findings(module: str) -> None:
    rule = importlib.import_module(module).RULE
    path = FIXTURES / f"{module.rpartition('.')[2]}.py"
    text = path.read_text(encoding="utf-8")
    expected = _expected(text)
    assert len(expected) >= 4, f"{path.name}: too few positives"
    assert {code for _, _, code in expected} == {rule.code}
    options = Options(codes=frozenset({rule.code}))
    found = [
        (line, col, code)
        for line, col, code, _ in analyze_source(text, path.name, options)
    ]
    assert found == expected


def test_every_fixture_belongs_to_a_rule() -> None:
    names = {m.rpartition(".")[2] for m in RULE_MODULES}
    assert {p.stem for p in FIXTURES.glob("*.py")} == names
    assert {m.rpartition(".")[2].replace("_", "-") for m in RULE_MODULES} == {
        r.name for r in all_rules().values()
    }  # one module per rule, named by what it flags


def test_select_and_ignore_work_per_rule() -> None:
    # Every rule can be selected alone, and ignored alone, by code and prefix.
    texts = {
        m: (FIXTURES / f"{m.rpartition('.')[2]}.py").read_text(encoding="utf-8")
        for m in RULE_MODULES
    }
    every = set(all_rules())
    for module, text in texts.items():
        code = importlib.import_module(module).RULE.code
        others = frozenset(every - {code})
        codes = {
            c for _, _, c, _ in analyze_source(text, "f.py", Options(codes=others))
        }
        assert code not in codes
        for prefix in ("MLQ", code[:4], code):
            chosen = frozenset(expand([prefix]))
            found = analyze_source(text, "f.py", Options(codes=chosen))
            assert {c for _, _, c, _ in found} <= chosen and code in {
                c for _, _, c, _ in found
            }


def _module_imports(path: Path) -> set[str]:
    """The mlqa.rules modules imported when ``path`` is imported (not lazily)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in tree.body:  # module level only: imports inside functions are lazy
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for sub in ast.walk(node):
            if isinstance(sub, ast.Import):
                found |= {a.name for a in sub.names}
            elif isinstance(sub, ast.ImportFrom) and sub.module:
                found.add(sub.module)
                found |= {f"{sub.module}.{a.name}" for a in sub.names}
    return {name for name in found if name.startswith("mlqa.rules.")}


def test_rules_modules_have_no_import_cycle() -> None:
    directory = ROOT / "mlqa" / "rules"
    graph = {
        f"mlqa.rules.{p.stem}": _module_imports(p)
        for p in directory.glob("*.py")
        if p.stem != "__init__"
    }
    graph = {m: {d for d in deps if d in graph} for m, deps in graph.items()}
    done: set[str] = set()
    while len(done) < len(graph):  # peel off modules whose imports are all done
        ready = {m for m, deps in graph.items() if m not in done and deps <= done}
        assert ready, f"import cycle among {sorted(set(graph) - done)}"
        done |= ready


def test_each_rules_module_imports_alone() -> None:
    directory = ROOT / "mlqa" / "rules"
    for path in sorted(directory.glob("*.py")):
        module = "mlqa.rules" + ("" if path.stem == "__init__" else f".{path.stem}")
        proc = subprocess.run(
            [sys.executable, "-c", f"import {module}"],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, (module, proc.stderr)


def test_codes_are_defined_once() -> None:
    # A code is a string literal in exactly one place: its rule's definition.
    where: Counter[str] = Counter()
    for directory in ("rules", "check"):
        for path in (ROOT / "mlqa" / directory).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and re.fullmatch(r"MLQ\d{3}", node.value)
                ):
                    where[node.value] += 1
    assert where == Counter(dict.fromkeys(all_rules(), 1))


def test_module_sizes() -> None:
    for directory in ("rules", "check"):
        for path in (ROOT / "mlqa" / directory).glob("*.py"):
            lines = path.read_text(encoding="utf-8").count("\n")
            assert lines <= 500, (path.name, lines)
