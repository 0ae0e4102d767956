"""Tests of the pytest plugin, only through pytester."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
import zoo

pytest_plugins = ["pytester"]

# In-process runs: no end-of-run gc.collect() and no assertion rewriting of the
# modules each run re-imports (seconds each with torch and Hypothesis loaded).
FAST = ("-p", "no:unraisableexception", "-p", "no:cacheprovider", "--assert=plain")

ZOO_SOURCE = Path(zoo.__file__).read_text(encoding="utf-8")
NAMES = {factory.removeprefix("make_"): check for factory, check in zoo.ZOO.items()}


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

    from mlqa.testing.battery import CHECKS, ModelSpec, run_check

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.cuda.is_available()
    torch.backends.mps.is_available()

    for factory in zoo.ZOO:
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
            with contextlib.suppress(AssertionError):
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
        passed=7 + parity.get("passed", 0), skipped=parity.get("skipped", 0)
    )
    result.stdout.fnmatch_lines(
        [
            "mlqa: seed=7 (--mlqa-seed=7 to repeat), devices=cpu*",
            "mlqa::good::output_shape PASSED*",
            "mlqa::good::params_update PASSED*",
            "mlqa::good::deterministic PASSED*",
            "*- mlqa model checks -*",
            "good: 7 passed*",
        ]
    )


def test_each_buggy_model_fails_exactly_its_item(project: pytest.Pytester) -> None:
    project.makepyprojecttoml("\n".join(model_table(name) for name in NAMES))
    result = project.runpytest(*FAST, "--mlqa", "-p", "no:randomly")
    bugs = [check for check in NAMES.values() if check]
    parity = parity_outcome()
    total = len(NAMES) * 8
    result.assert_outcomes(
        failed=len(bugs),
        passed=total - len(bugs) - len(NAMES) * parity.get("skipped", 0),
        skipped=len(NAMES) * parity.get("skipped", 0),
    )
    failed = sorted(
        line.split()[1] for line in result.outlines if line.startswith("FAILED ")
    )
    expected = sorted(
        f"mlqa::{name}::{check}" for name, check in NAMES.items() if check
    )
    assert failed == expected
    result.stdout.fnmatch_lines(
        [
            "*model 'dead_parameter': mlqa.assert_params_update failed (2 problems):",
            "*trainable parameter 'unused_proj.weight'*did not change*",
            "*dead_parameter: 6 passed, 1 failed (params_update)*",
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
        ["mlqa::hot::finite", "mlqa::hot::loss_at_init", "*2/10 tests collected*"]
    )
    project.makepyfile(test_plain="def test_one():\n    pass\n")
    result = project.runpytest(*FAST, "--mlqa", "-m", "mlqa", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["*10/11 tests collected (1 deselected)*"])


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
]


def test_bad_config_is_one_collection_error_per_table(project: pytest.Pytester) -> None:
    project.makepyprojecttoml("\n".join(table for table, _ in BAD_TABLES))
    result = project.runpytest(*FAST, "--mlqa", "--continue-on-collection-errors")
    result.assert_outcomes(errors=len(BAD_TABLES))
    for _, message in BAD_TABLES:
        result.stdout.fnmatch_lines([message])
    assert "Traceback" not in result.stdout.str()
    result.stdout.fnmatch_lines(["ERROR mlqa::m0*"])


def test_bad_models_table_is_a_collection_error(project: pytest.Pytester) -> None:
    project.makepyprojecttoml("[tool.mlqa]\nmodels = 3\n")
    result = project.runpytest(*FAST, "--mlqa")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["pyproject.toml:2: [[]tool.mlqa] models must be a table*"]
    )
    result.stdout.fnmatch_lines(["*Interrupted: 1 error during collection*"])


def test_a_bad_model_table_does_not_hide_the_others(project: pytest.Pytester) -> None:
    project.makepyprojecttoml(
        model_table("good", checks='["finite"]') + model_table("broken", "nope")
    )
    result = project.runpytest(*FAST, "--mlqa", "--continue-on-collection-errors")
    result.assert_outcomes(passed=1, errors=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mlqa-seed=abc"], "*--mlqa-seed='abc' must be an integer in [[]0, 2**32)"),
        (["--mlqa-seed=-1"], "*--mlqa-seed='-1' must be an integer in [[]0, 2**32)"),
        (
            ["--mlqa-devices=cuda;0"],
            "*--mlqa-devices='cuda;0': 'cuda;0' is not a device*",
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
    result.assert_outcomes(passed=16 - 1 - skipped, failed=1, skipped=skipped)
    result.stdout.fnmatch_lines(
        [
            "*squashed_logits: 6 passed, 1 failed (overfit)*",
            "FAILED mlqa::squashed_logits::overfit*",
        ]
    )
