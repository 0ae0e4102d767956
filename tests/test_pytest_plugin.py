"""Tests of the pytest plugin, only through pytester."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
import zoo

from mlqa.testing.battery import CHECKS

pytest_plugins = ["pytester"]

# In-process runs: no end-of-run gc.collect() and no assertion rewriting of the
# modules each run re-imports (seconds each with torch and Hypothesis loaded);
# pytest-torch (installed for benchmarks/eval_testing.py) stays out of the runs.
FAST = (
    "-p",
    "no:unraisableexception",
    "-p",
    "no:cacheprovider",
    "--assert=plain",
    "-p",
    "no:pytest_torch",
)

ZOO_SOURCE = Path(zoo.__file__).read_text(encoding="utf-8")
NAMES = {factory.removeprefix("make_"): check for factory, check in zoo.ZOO.items()}
#: The items of a model_table() model: every check but causal (no causal_dim).
DEFAULT = [check for check in CHECKS if check != "causal"]


def model_table(name: str, factory: str | None = None, **extra: str) -> str:
    lines = [
        f"[tool.mlqa.models.{name}]",
        f'factory = "zoo:{factory or "make_" + name}"',
        'batch = "zoo:batch"',
        'loss = "torch.nn.functional:cross_entropy"',
        'output_shape = ["B", 10]',
        f"loss_at_init = {math.log(10)}",
    ]
    lines += [f"{key} = {value}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module", autouse=True)
def warm_torch() -> Iterator[None]:
    """Import what the checks import lazily (torch._dynamo via the optimizers ...).

    In-process pytester runs drop the modules imported during a run; torch's
    native extensions cannot be imported twice, so they must be loaded before.
    One thread: the CI box has two cores shared with other jobs.
    """
    import torch

    from mlqa.testing.battery import CHECKS, ModelSpec
    from mlqa.testing.battery_items import run_check

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.cuda.is_available()
    torch.backends.mps.is_available()

    for factory in ["make_good"]:
        spec = ModelSpec(
            name=factory,
            factory=getattr(zoo, factory),
            batch=zoo.batch,
            loss=zoo.loss,
            checks=CHECKS,
            output_shape=("B", 10),
            loss_at_init=(math.log(10), None),
        )
        for check in CHECKS:
            with contextlib.suppress(Exception):
                run_check(spec, check, device="cpu")
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def project(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> pytest.Pytester:
    pytester.makepyfile(zoo=ZOO_SOURCE)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # for runpytest_subprocess
    return pytester


def parity_outcome() -> dict[str, int]:
    """device_parity passes with an accelerator and skips without one."""
    import torch

    available = torch.cuda.is_available() or torch.backends.mps.is_available()
    return {"passed": 1} if available else {"skipped": 1}


def test_battery_passes_for_a_good_model(project: pytest.Pytester) -> None:
    project.makepyprojecttoml(model_table("good"))
    result = project.runpytest(*FAST, "--mlqa", "-v", "--mlqa-seed=7")
    parity = parity_outcome()
    result.assert_outcomes(
        passed=len(DEFAULT) - 1 + parity.get("passed", 0),
        skipped=parity.get("skipped", 0),
    )
    result.stdout.fnmatch_lines(
        [
            "mlqa: seed=7 (--mlqa-seed=7 to repeat), devices=cpu*",
            "mlqa::good::output_shape PASSED*",
            "mlqa::good::params_update PASSED*",
            "mlqa::good::deterministic PASSED*",
            "*- mlqa model checks -*",
            f"good: {len(DEFAULT) - 1} passed*",
        ]
    )


def test_each_buggy_model_fails_exactly_its_item(project: pytest.Pytester) -> None:
    project.makepyprojecttoml("\n".join(model_table(name) for name in NAMES))
    result = project.runpytest(*FAST, "--mlqa", "-p", "no:randomly")
    # a normalisation over the batch is also NaN on a batch of one (finite's edge case)
    also = {"batch_mixing_norm": ["finite"]}
    bugs = [
        (name, check)
        for name, intended in NAMES.items()
        for check in [intended, *also.get(name, [])]
        if check
    ]
    parity = parity_outcome()
    total = len(NAMES) * len(DEFAULT)
    result.assert_outcomes(
        failed=len(bugs),
        passed=total - len(bugs) - len(NAMES) * parity.get("skipped", 0),
        skipped=len(NAMES) * parity.get("skipped", 0),
    )
    failed = sorted(
        line.split()[1] for line in result.outlines if line.startswith("FAILED ")
    )
    assert failed == sorted(f"mlqa::{name}::{check}" for name, check in bugs)
    result.stdout.fnmatch_lines(
        [
            "*model 'dead_parameter': mlqa.assert_params_update failed (2 problems):",
            "*trainable parameter 'unused_proj.weight'*did not change*",
            f"*dead_parameter: {len(DEFAULT) - 2} passed, 1 failed (params_update)*",
        ]
    )


def test_k_selects_items_and_checks_subset(project: pytest.Pytester) -> None:
    project.makepyprojecttoml(
        model_table("good")
        + model_table("hot", "make_hot_init", checks='["loss_at_init", "finite"]')
    )
    result = project.runpytest(*FAST, "--mlqa", "-k", "loss_at_init", "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["mlqa::good::loss_at_init PASSED*", "mlqa::hot::loss_at_init FAILED*"]
    )
    result = project.runpytest(*FAST, "--mlqa", "-k", "hot", "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "mlqa::hot::finite",
            "mlqa::hot::loss_at_init",
            f"*2/{len(DEFAULT) + 2} tests collected*",
        ]
    )
    project.makepyfile(test_plain="def test_one():\n    pass\n")
    result = project.runpytest(*FAST, "--mlqa", "-m", "mlqa", "--collect-only", "-q")
    total = len(DEFAULT) + 2
    result.stdout.fnmatch_lines(
        [f"*{total}/{total + 1} tests collected (1 deselected)*"]
    )


def test_overfit_settings_and_optimizer_are_used(project: pytest.Pytester) -> None:
    project.makepyfile(
        opt="import torch\ndef sgd0(params):\n    return torch.optim.SGD(params, lr=0.0)\n"
    )
    project.makepyprojecttoml(
        model_table(
            "good",
            checks='["overfit", "params_update"]',
            overfit="{max_steps = 3, target_loss = 0.001}",
            optimizer='"opt:sgd0"',
        )
    )
    result = project.runpytest(*FAST, "--mlqa")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*optimizer did not move it*",
            "*loss did not reach target_loss=0.001 in max_steps=3*",
        ]
    )


def test_without_the_option_nothing_is_added(project: pytest.Pytester) -> None:
    project.makepyprojecttoml(model_table("good") + model_table("broken", "nope"))
    project.makepyfile(test_plain="def test_one():\n    assert True\n")
    result = project.runpytest(*FAST)
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*mlqa:*")
    result.stdout.no_fnmatch_line("*mlqa model checks*")


BAD_TABLES = [
    (
        '[tool.mlqa.models.m0]\nfactory = "pkg.mod:make"\nbatch = "zoo:batch"\nloss = "zoo:loss"\n',
        "pyproject.toml:2: [[]tool.mlqa.models.m0] factory: cannot import 'pkg.mod:make' "
        "(ModuleNotFoundError: No module named 'pkg')",
    ),
    (
        '[tool.mlqa.models.m1]\nfactory = "zoo:make_good"\nloss = "zoo:loss"\n',
        "pyproject.toml:*: [[]tool.mlqa.models.m1] batch: missing (required: factory, batch, loss)",
    ),
    (
        '[tool.mlqa.models.m2]\nfactory = "zoo:make_good"\nbatch = 3\nloss = "zoo:loss"\n',
        "pyproject.toml:*: [[]tool.mlqa.models.m2] batch: must be a string 'module:callable', got int 3",
    ),
    (
        '[tool.mlqa.models.m3]\nfactory = "zoo:missing"\nbatch = "zoo:batch"\nloss = "zoo:loss"\n',
        "*m3] factory: cannot import 'zoo:missing' (module 'zoo' has no attribute 'missing')",
    ),
    (
        '[tool.mlqa.models.m4]\nfactory = "zoo"\nbatch = "zoo:batch"\nloss = "zoo:loss"\n',
        "*m4] factory: 'zoo' is not of the form 'module:callable'",
    ),
    (
        '[tool.mlqa.models.m5]\nfactory = "zoo:CLASSES"\nbatch = "zoo:batch"\nloss = "zoo:loss"\n',
        "*m5] factory: 'zoo:CLASSES' is a int, not callable",
    ),
    (
        model_table("m6", "make_good", checks='["speed"]'),
        "*[[]tool.mlqa.models.m6] checks: unknown check 'speed' (known: output_shape, *",
    ),
    (
        model_table("m7", "make_good", overfit="{max_steps = 0}"),
        "*m7] overfit: max_steps must be a positive integer, got 0",
    ),
    (
        model_table("m8", "make_good", output_shape_typo="1"),
        "*[[]tool.mlqa.models.m8] output_shape_typo: unknown key (known: *",
    ),
    (
        model_table("m9", "make_good").replace(
            'output_shape = ["B", 10]', "output_shape = 10"
        ),
        '*m9] output_shape: must be a list of sizes, names or "*" (any size)*',
    ),
    (
        model_table("m10", "make_good").replace(
            "loss_at_init = 2", 'loss_at_init = "x" #'
        ),
        "*m10] loss_at_init: must be a number or {expected = <number>, rtol = <number >= 0>}*",
    ),
    (
        '[tool.mlqa.models.m11]\nfactory = "zoo:make_good"\nbatch = "zoo:batch"\n'
        'loss = "zoo:loss"\nchecks = ["output_shape"]\n',
        "*m11] checks: 'output_shape' needs the output_shape key",
    ),
    (
        model_table("m12", "make_good", output_dtype='"float33"'),
        '*m12] output_dtype: must be a dtype name such as "float32" (known: float16, *'
        "got 'float33'",
    ),
    (
        model_table("m13", "make_good", batch_sizes="[0, 2]"),
        "*m13] batch_sizes: must be a list of positive batch sizes*got [[]0, 2]",
    ),
    (
        model_table("m14", "make_good", tied='[["head.weight"]]'),
        "*m14] tied: must be a list of groups of parameter names*",
    ),
    (
        model_table("m15", "make_good", frozen='"hidden.*"'),
        "*m15] frozen: must be a list of parameter name patterns*got 'hidden.*'",
    ),
    (
        model_table("m16", "make_good", causal_dim='"time"'),
        "*m16] causal_dim: must be the integer dimension of the sequence*",
    ),
    (
        '[tool.mlqa.models.m17]\nfactory = "zoo:make_good"\nbatch = "zoo:batch"\n'
        'loss = "zoo:loss"\noutput_dtype = "float32"\n',
        "*m17] output_dtype: is checked with the output shape: add output_shape*",
    ),
    (
        model_table("m18", "make_good", overfit="{target_ratio = 1.5}"),
        "*m18] overfit: target_ratio must be a number in [[]0, 1), got 1.5",
    ),
    (
        model_table(
            "m19", "make_good", overfit="{target_ratio = 0.2, target_loss = 0.1}"
        ),
        "*m19] overfit: give target_loss or target_ratio, not both",
    ),
]


def test_bad_config_is_one_collection_error_per_table(project: pytest.Pytester) -> None:
    project.makepyprojecttoml("\n".join(table for table, _ in BAD_TABLES))
    result = project.runpytest(*FAST, "--mlqa")
    result.assert_outcomes(errors=len(BAD_TABLES))
    for _, message in BAD_TABLES:
        result.stdout.fnmatch_lines([message])
    assert "Traceback" not in result.stdout.str()
    result.stdout.fnmatch_lines(["ERROR mlqa::m0*"])


def test_bad_models_table_is_an_error_item(project: pytest.Pytester) -> None:
    project.makepyprojecttoml("[tool.mlqa]\nmodels = 3\n")
    project.makepyfile(test_plain="def test_one():\n    assert True\n")
    result = project.runpytest(*FAST, "--mlqa")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "pyproject.toml:2: [[]tool.mlqa] models must be a table*",
            "config: NOT RUN, the [[]tool.mlqa] table is invalid: pyproject.toml:2: *",
        ]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mlqa-seed=abc"], "*--mlqa-seed='abc' must be an integer in [[]0, 2**32)"),
        (["--mlqa-seed=-1"], "*--mlqa-seed='-1' must be an integer in [[]0, 2**32)"),
        (
            ["--mlqa-devices=cuda;0"],
            "*--mlqa-devices='cuda;0': 'cuda;0' is not a torch device*",
        ),
        (
            ["--mlqa-devices=cpu,gpu"],
            "*--mlqa-devices='cpu,gpu': 'gpu' is not a torch device (did you mean 'cuda'? *",
        ),
        (["--mlqa-devices=tpu"], "*'tpu' is not a torch device (use 'auto' or *"),
        (
            ["--mlqa-devices=CUDA:0"],
            "*'CUDA:0' is not a torch device (did you mean 'cuda:0'? *",
        ),
    ],
)
def test_bad_options_are_usage_errors(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    result = pytester.runpytest(*FAST, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import random
        import torch

        STATE = {}

        def test_a_record():
            STATE["torch"] = torch.random.get_rng_state()
            STATE["python"] = random.getstate()

        def test_b_seeded(mlqa_seed):
            assert mlqa_seed == 11
            drawn = torch.rand(3), random.random()
            torch.manual_seed(11)
            random.seed(11)
            assert torch.equal(drawn[0], torch.rand(3)) and drawn[1] == random.random()

        def test_c_restored():
            assert torch.equal(torch.random.get_rng_state(), STATE["torch"])
            assert random.getstate() == STATE["python"]

        def test_d_deterministic(mlqa_deterministic):
            assert torch.are_deterministic_algorithms_enabled()

        def test_e_restored():
            assert not torch.are_deterministic_algorithms_enabled()

        def test_f_device(mlqa_device):
            assert isinstance(mlqa_device, torch.device)
            torch.ones(2, device=mlqa_device)
        """)
    result = pytester.runpytest(
        *FAST, "--mlqa-seed=11", "-v", "--mlqa-devices=cpu,cuda"
    )
    result.stdout.fnmatch_lines(
        ["*test_f_device?cpu? PASSED*", "*test_f_device?cuda? *"]
    )
    import torch

    if torch.cuda.is_available():
        result.assert_outcomes(passed=7)
    else:
        result.assert_outcomes(passed=6, skipped=1)
        result.stdout.no_fnmatch_line("*Traceback*")


def test_unused_plugin_imports_no_torch(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import sys

        def test_no_heavy_imports():
            assert "torch" not in sys.modules
            assert "mlqa.testing" not in sys.modules
            assert "mlqa.pytest_plugin" in sys.modules
        """)
    result = pytester.runpytest_subprocess("-p", "mlqa", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


@pytest.mark.slow
def test_battery_under_xdist(project: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    project.makepyprojecttoml(model_table("good") + model_table("squashed_logits"))
    result = project.runpytest_subprocess("--mlqa", "-n", "2", "-p", "no:cacheprovider")
    parity = parity_outcome()
    skipped = 2 * parity.get("skipped", 0)
    total = 2 * len(DEFAULT)
    result.assert_outcomes(passed=total - 1 - skipped, failed=1, skipped=skipped)
    result.stdout.fnmatch_lines(
        [
            f"*squashed_logits: {len(DEFAULT) - 2} passed, 1 failed (overfit)*",
            "FAILED mlqa::squashed_logits::overfit*",
        ]
    )


# -- the newer items: causal, eval mode, dtypes, batch of one, frozen, edge cases,
# -- checkpoints, shared parameters ----------------------------------------------------

BZOO = '''
"""Tiny token models for the battery's newer items: one bug each."""
import torch
import torch.nn.functional as F
from torch import nn

VOCAB, LENGTH, BATCH = 12, 6, 4


def tokens():
    gen = torch.Generator().manual_seed(0)
    seq = torch.randint(0, VOCAB, (BATCH, LENGTH + 1), generator=gen)
    return seq[:, :-1], seq[:, 1:]


def lm_loss(logits, targets):
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten())


class CausalLM(nn.Module):
    """Correct: position t sees the running mean of the tokens up to t."""

    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, 16)
        self.head = nn.Linear(16, VOCAB)

    def mix(self, h):
        steps = torch.arange(1, h.shape[1] + 1).view(1, -1, 1)
        return h.cumsum(dim=1) / steps

    def forward(self, ids):
        return self.head(self.mix(self.tok(ids)))


class Leaky(CausalLM):
    def mix(self, h):
        return h.mean(dim=1, keepdim=True).expand_as(h)


class AlwaysDropout(CausalLM):
    def forward(self, ids):
        return self.head(F.dropout(self.mix(self.tok(ids)), 0.5))


class Float64Mix(CausalLM):
    def mix(self, h):
        return super().mix(h.double()).float()


class Squeezed(CausalLM):
    def forward(self, ids):
        return super().forward(ids).squeeze()


class FrozenEmbedding(CausalLM):
    def __init__(self):
        super().__init__()
        self.tok.weight.requires_grad_(False)


class StdNorm(CausalLM):
    def mix(self, h):
        return (h - h.mean(dim=1, keepdim=True)) / h.std(dim=1, keepdim=True)


class PlainList(CausalLM):
    def __init__(self):
        super().__init__()
        self.blocks = [nn.Linear(16, 16)]

    def mix(self, h):
        return self.blocks[0](super().mix(h))


class SharedBlocks(CausalLM):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(16, 16)] * 2)

    def mix(self, h):
        for block in self.blocks:
            h = block(h)
        return super().mix(h)


class Tied(CausalLM):
    def __init__(self):
        super().__init__()
        self.head.weight = self.tok.weight


class Broken(CausalLM):
    def forward(self, ids):
        return self.head(ids.float())  # shapes (4, 6) @ (16, 12): RuntimeError
'''


def token_table(name: str, cls: str, **extra: str) -> str:
    lines = [
        f"[tool.mlqa.models.{name}]",
        f'factory = "bzoo:{cls}"',
        'batch = "bzoo:tokens"',
        'loss = "bzoo:lm_loss"',
        'output_shape = ["B", "T", 12]',
    ]
    lines += [f"{key} = {value}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


def only(check: str) -> str:
    return f'["{check}"]'


#: (table, the item that must fail or None).
NEW_ITEMS = [
    (
        token_table(
            "good", "CausalLM", causal_dim="1", output_dtype='"float32"', frozen="[]"
        ),
        None,
    ),
    (token_table("leaky", "Leaky", checks=only("causal")), "causal"),
    (token_table("dropout", "AlwaysDropout", checks=only("eval_mode")), "eval_mode"),
    (
        token_table("float64", "Float64Mix", checks=only("dtype_consistent")),
        "dtype_consistent",
    ),
    (token_table("squeezed", "Squeezed", checks=only("output_shape")), "output_shape"),
    (
        token_table(
            "squeezed_b", "Squeezed", checks=only("output_shape"), batch_sizes="[]"
        ),
        None,
    ),
    (
        token_table(
            "dtype", "CausalLM", checks=only("output_shape"), output_dtype='"float64"'
        ),
        "output_shape",
    ),
    (
        token_table(
            "frozen", "FrozenEmbedding", checks=only("params_update"), frozen="[]"
        ),
        "params_update",
    ),
    (
        token_table(
            "frozen_ok",
            "FrozenEmbedding",
            checks=only("params_update"),
            frozen='["tok.*"]',
        ),
        None,
    ),
    (token_table("stdnorm", "StdNorm", checks=only("finite")), "finite"),
    (
        token_table("plainlist", "PlainList", checks=only("checkpoint_roundtrip")),
        "checkpoint_roundtrip",
    ),
    (
        token_table("shared", "SharedBlocks", checks=only("shared_params")),
        "shared_params",
    ),
    (token_table("tied", "Tied", checks=only("shared_params")), "shared_params"),
    (
        token_table(
            "tied_ok",
            "Tied",
            checks=only("shared_params"),
            tied='[["tok.weight", "head.weight"]]',
        ),
        None,
    ),
]


@pytest.fixture
def tokens_project(project: pytest.Pytester) -> pytest.Pytester:
    project.makepyfile(bzoo=BZOO)
    return project


def test_each_new_item_fires_on_its_bug_and_passes_when_correct(
    tokens_project: pytest.Pytester,
) -> None:
    tokens_project.makepyprojecttoml("\n".join(table for table, _ in NEW_ITEMS))
    result = tokens_project.runpytest(*FAST, "--mlqa", "-p", "no:randomly", "-v")
    good = [check for check in CHECKS if check != "loss_at_init"]
    parity = parity_outcome()
    passed = len(good) - 1 + parity.get("passed", 0) + 3  # + the declared variants
    failing = [table for table, bug in NEW_ITEMS if bug]
    result.assert_outcomes(
        passed=passed, failed=len(failing), skipped=parity.get("skipped", 0)
    )
    failed = sorted(
        line.split()[1] for line in result.outlines if line.startswith("FAILED ")
    )
    names = [table.split("]")[0].split(".")[-1] for table, _ in NEW_ITEMS]
    expected = sorted(
        f"mlqa::{name}::{bug}"
        for name, (_, bug) in zip(names, NEW_ITEMS, strict=True)
        if bug
    )
    assert failed == expected
    result.stdout.fnmatch_lines(["mlqa::good::causal PASSED*"])
    assert "tensor(" not in result.stdout.str()


def test_a_bad_table_is_an_error_item_and_the_rest_runs(
    project: pytest.Pytester,
) -> None:
    project.makepyprojecttoml(
        model_table("good", checks='["finite"]')
        + model_table("broken", "nope")
        + model_table("worse", "make_good", checks='["speed"]')
    )
    project.makepyfile(test_plain="def test_one():\n    assert True\n")
    result = project.runpytest(*FAST, "--mlqa", "-p", "no:randomly")
    result.assert_outcomes(passed=2, errors=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of mlqa::broken::config*",
            "pyproject.toml:*: [[]tool.mlqa.models.broken] factory: cannot import 'zoo:nope'*",
            "*- mlqa model checks -*",
            "good: 1 passed",
            "broken: NOT RUN, its table is invalid: pyproject.toml:*"
            "[[]tool.mlqa.models.broken] factory: cannot import 'zoo:nope'*",
            "worse: NOT RUN, its table is invalid: *checks: unknown check 'speed'*",
            "ERROR mlqa::broken::config*",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_a_failure_shows_the_users_frame_not_mlqas(
    tokens_project: pytest.Pytester,
) -> None:
    tokens_project.makepyprojecttoml(
        token_table("broken", "Broken", checks=only("eval_mode"))
        + token_table(
            "typo", "CausalLM", checks=only("params_update"), frozen='["tok.wieght"]'
        )
    )
    tokens_project.makepyfile(test_api="""
        import torch
        from bzoo import Leaky, tokens
        from mlqa.testing import assert_causal

        def test_leak():
            assert_causal(Leaky(), tokens()[0])
        """)
    result = tokens_project.runpytest(*FAST, "--mlqa", "-p", "no:randomly")
    result.assert_outcomes(failed=3)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*assert_causal(Leaky(), tokens()[[]0])*",
            "E*mlqa.assert_causal failed (2 problems):",
            "E*first leaking pair (t, t') = (0, 1)*",
            "test_api.py:6: AssertionError",
            "*_ mlqa::broken::eval_mode _*",
            "bzoo.py:*: in forward",
            "*return self.head(ids.float())*",
            "*linear.py:*: in forward",
            "E*RuntimeError: mat1 and mat2 shapes cannot be multiplied*",
            "*_ mlqa::typo::params_update _*",
            "pyproject.toml:*: [[]tool.mlqa.models.typo] params_update: ValueError: "
            "frozen pattern 'tok.wieght' matches no parameter*",
            "*- mlqa model checks -*",
        ]
    )
    assert "mlqa/testing" not in out and "_core.py" not in out
    assert "modules/module.py" not in out
    assert "tensor(" not in out
    result = tokens_project.runpytest(*FAST, "--mlqa", "--fulltrace", "-k", "broken")
    result.stdout.fnmatch_lines(["*mlqa/testing/battery_items.py*"])


def test_an_absent_device_is_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        "def test_device(mlqa_device):\n    assert mlqa_device.type in ('cpu', 'cuda')\n"
    )
    result = pytester.runpytest(*FAST, "--mlqa-devices=cpu,cuda:7")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "mlqa: seed=0 *devices=cpu,cuda:7 (ABSENT here: cuda:7)",
            "mlqa: WARNING: --mlqa-devices asked for cuda:7, which is absent here (*):"
            " its tests were SKIPPED, nothing ran on cuda:7",
        ]
    )


def test_every_battery_key_and_item_is_documented() -> None:
    from mlqa.testing.battery import OPTIONAL, OVERFIT_KEYS, REQUIRED

    docs = Path(__file__).parents[1] / "docs" / "testing.md"
    section = docs.read_text(encoding="utf-8").split("pytest --mlqa`", 1)[1]
    rows = {line.split("|")[1].strip() for line in section.splitlines() if "|" in line}
    missing = [f"`{name}`" for name in (*REQUIRED, *OPTIONAL, *CHECKS)]
    missing = [name for name in missing if name not in rows]
    assert not missing, f"not in the battery tables of docs/testing.md: {missing}"
    assert all(f"`{key}`" in section or key in section for key in OVERFIT_KEYS)


def test_overfit_target_is_relative_to_the_starting_loss(
    project: pytest.Pytester,
) -> None:
    # label smoothing 0.1 over 10 classes: the loss cannot go below about 0.5
    project.makepyfile(smooth="""
        import torch.nn.functional as F

        def smoothed(outputs, targets):
            return F.cross_entropy(outputs, targets, label_smoothing=0.1)
        """)
    tables = [
        model_table("default", "make_good", checks='["overfit"]'),
        model_table(
            "strict",
            "make_good",
            checks='["overfit"]',
            overfit="{max_steps = 150, target_ratio = 0.1}",
        ),
    ]
    project.makepyprojecttoml(
        "".join(
            t.replace('"torch.nn.functional:cross_entropy"', '"smooth:smoothed"')
            for t in tables
        )
    )
    result = project.runpytest(*FAST, "--mlqa", "-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*loss did not reach 0.2* (target_ratio=0.1 of the starting loss) in max_steps=150",
            "*start 2.3*, best 0.5*",
            "FAILED mlqa::strict::overfit*",
        ]
    )


def test_mlqa_without_torch_runs_the_users_tests(pytester: pytest.Pytester) -> None:
    # torch absent: an importable package that fails as a missing one does
    pytester.makepyfile(torch="raise ImportError(\"No module named 'torch'\")")
    pytester.makepyfile(test_plain="def test_ok():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest_subprocess("--mlqa", *FAST)
    result.assert_outcomes(passed=1)
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
