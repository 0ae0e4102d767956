"""Tests of the mlqa.testing assertions, driven by the buggy-model zoo."""

from __future__ import annotations

import contextlib
import math
import random
import sys
from collections.abc import Callable, Iterator
from typing import Any

import bugzoo
import numpy as np
import pytest
import torch
import torch.nn.functional as F
import zoo
from torch import nn

from mlqa import testing
from mlqa.testing._core import format_report, sparkline
from mlqa.testing.battery import CHECKS
from mlqa.testing.determinism import same_bits
from mlqa.testing.device import device_unavailable, tolerance
from mlqa.testing.shape import shape_problems

CALIBRATED = math.log(zoo.CLASSES)


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def run(check: str, factory: Callable[[], nn.Module], seed: bool = True) -> None:
    """Run one check of the zoo model made by ``factory`` (device parity on CPU)."""
    if seed:
        torch.manual_seed(0)
    model = factory()
    batch = zoo.batch()
    inputs = batch[0]
    if check == "output_shape":
        testing.assert_output_shape(model, inputs, ("B", zoo.CLASSES))
    elif check == "finite":
        testing.assert_finite(model, batch, zoo.loss)
    elif check == "params_update":
        testing.assert_params_update(model, batch, zoo.loss)
    elif check == "loss_at_init":
        testing.assert_loss_at_init(model, batch, zoo.loss, CALIBRATED)
    elif check == "overfit":
        testing.assert_overfits_batch(model, batch, zoo.loss)
    elif check == "batch_independent":
        testing.assert_batch_independent(model, inputs)
    elif check == "deterministic":
        testing.assert_deterministic(factory, batch, zoo.loss)
    elif check == "device_parity":
        testing.assert_device_parity(model, inputs, device="cpu")
    elif check == "eval_mode":
        testing.assert_eval_mode(model, inputs)
    elif check == "dtype_consistent":
        testing.assert_dtype_consistent(model, inputs)
    elif check == "checkpoint_roundtrip":
        testing.assert_checkpoint_roundtrip(factory, inputs)
    elif check == "shared_params":
        testing.assert_no_shared_params(model)
    elif check == "causal":
        pass  # the zoo's classifiers have no sequence: tests/test_testing_v2.py
    else:  # pragma: no cover
        raise ValueError(check)


#: A second check that rightly catches a zoo bug too: the hand-rolled batch
#: normalisation divides by the std over the batch, NaN for a batch of one
#: (assert_finite's edge cases run one).
ALSO_CAUGHT = {("make_batch_mixing_norm", "finite")}


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("factory", list(zoo.ZOO))
def test_zoo_each_bug_caught_by_its_check_only(factory: str, check: str) -> None:
    make = getattr(zoo, factory)
    if zoo.ZOO[factory] == check or (factory, check) in ALSO_CAUGHT:
        with pytest.raises(AssertionError, match=r"^mlqa\.assert_\w+ failed"):
            run(check, make)
    else:
        run(check, make)


def test_every_check_has_a_bug_in_the_zoo() -> None:
    caught = {c for c in zoo.ZOO.values() if c}
    caught |= {c for spec in bugzoo.ZOO.values() for c in spec.catches}  # v2 checks
    assert caught == set(CHECKS) - {"device_parity"}  # parity needs a second device


# -- reports name what is wrong ---------------------------------------------------------


def failure(func: Callable[..., None], *args: Any, **kwargs: Any) -> str:
    with pytest.raises(AssertionError) as excinfo:
        func(*args, **kwargs)
    return str(excinfo.value)


def test_params_update_names_dead_and_changed_frozen_parameters() -> None:
    model = zoo.DeadParameter()
    model.hidden.bias.requires_grad_(False)
    message = failure(testing.assert_params_update, model, zoo.batch(), zoo.loss)
    assert "'unused_proj.weight'" in message and "'unused_proj.bias'" in message
    assert "received no gradient" in message
    assert "hidden.bias" not in message  # frozen and unchanged: fine

    # weight decay on a frozen parameter changes it when the optimizer is given it
    class Decays(torch.optim.Optimizer):
        def __init__(self, params: Any) -> None:
            super().__init__(params, {})

        def step(self, closure: Any = None) -> None:
            for group in self.param_groups:
                for p in group["params"]:
                    p.data.mul_(0.9)

    good = zoo.MLP()
    good.hidden.bias.requires_grad_(False)
    message = failure(
        testing.assert_params_update,
        good,
        zoo.batch(),
        zoo.loss,
        optimizer_factory=Decays,
    )
    assert "frozen parameter 'hidden.bias'" in message


def test_params_update_zero_gradient_reason() -> None:
    class Zeroed(zoo.MLP):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.features(x)) + 0 * self.gate

        def __init__(self) -> None:
            super().__init__()
            self.gate = nn.Parameter(torch.ones(1))

    message = failure(testing.assert_params_update, Zeroed(), zoo.batch(), zoo.loss)
    assert "'gate'" in message and "gradient is all zeros" in message


def test_overfit_report_has_the_curve_and_stops_early() -> None:
    message = failure(
        testing.assert_overfits_batch,
        zoo.SquashedLogits(),
        zoo.batch(),
        zoo.loss,
        max_steps=30,
    )
    assert "max_steps=30" in message
    assert "start " in message and "best " in message and "end " in message
    assert "curve " in message

    calls = 0

    def counting_loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        nonlocal calls
        calls += 1
        return zoo.loss(out, y)

    testing.assert_overfits_batch(
        zoo.MLP(), zoo.batch(), counting_loss, target_loss=1.5
    )
    assert calls < 50  # stopped at the target, far below max_steps=200


def test_overfit_reports_nan_loss() -> None:
    def nan_loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return zoo.loss(out, y) * float("nan")

    message = failure(testing.assert_overfits_batch, zoo.MLP(), zoo.batch(), nan_loss)
    assert "loss became nan at step 0" in message


def test_finite_names_first_parameter_and_module() -> None:
    message = failure(testing.assert_finite, zoo.NaNWhere(), zoo.batch(), zoo.loss)
    assert "gradient of parameter 'temperature'" in message
    assert "first offending parameter: 'temperature'" in message

    model = nn.Sequential(nn.Linear(8, 4), nn.Linear(4, 10))
    with torch.no_grad():
        model[1].bias.fill_(float("inf"))
    message = failure(testing.assert_finite, model, zoo.batch(), zoo.loss)
    assert "output (shape (8, 10), float32) has 80 inf of 80 values" in message
    assert "loss is" in message
    assert "first module with a non-finite output: '1' (Linear)" in message


def test_loss_at_init_directions() -> None:
    message = failure(
        testing.assert_loss_at_init, zoo.HotInit(), zoo.batch(), zoo.loss, CALIBRATED
    )
    assert (
        "expected 2.303 within rtol=0.2" in message and "confidently wrong" in message
    )
    message = failure(
        testing.assert_loss_at_init, zoo.MLP(), zoo.batch(), zoo.loss, 10.0
    )
    assert "below chance" in message
    testing.assert_loss_at_init(
        zoo.HotInit(), zoo.batch(), zoo.loss, CALIBRATED, rtol=100
    )
    with pytest.raises(ValueError, match="rtol=-1"):
        testing.assert_loss_at_init(zoo.MLP(), zoo.batch(), zoo.loss, 1.0, rtol=-1)


def test_expected_loss_at_init_helper() -> None:
    assert testing.expected_loss_at_init("cross_entropy", num_classes=10) == math.log(
        10
    )
    assert testing.expected_loss_at_init("binary_cross_entropy") == pytest.approx(
        math.log(2)
    )
    rate = testing.expected_loss_at_init(
        "binary_cross_entropy", targets=torch.tensor([1, 0, 0, 0])
    )
    assert rate == pytest.approx(-(0.25 * math.log(0.25) + 0.75 * math.log(0.75)))
    targets = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert testing.expected_loss_at_init("mse", targets=targets) == pytest.approx(1.25)
    # the value matches what a calibrated model actually gets
    calibrated = F.mse_loss(torch.full((4,), 2.5), targets)
    assert float(calibrated) == pytest.approx(
        testing.expected_loss_at_init("mse", targets=targets)
    )
    for kwargs, pattern in [
        ({"kind": "cross_entropy"}, "num_classes=None"),
        ({"kind": "mse"}, "targets=None"),
        ({"kind": "hinge"}, "kind='hinge'"),
        ({"kind": "binary_cross_entropy", "positive_rate": 1.0}, "positive_rate=1.0"),
    ]:
        with pytest.raises(ValueError, match=pattern):
            testing.expected_loss_at_init(**kwargs)


def test_batch_independent_reports_pairs() -> None:
    class MixesFirstTwo(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = x.clone()
            out[0] = out[0] + x[1]
            return out

    message = failure(
        testing.assert_batch_independent, MixesFirstTwo(), torch.randn(4, 3)
    )
    assert "output of sample 0 depends on the input of sample(s) 1" in message
    assert "sample 1 depends" not in message
    with pytest.raises(ValueError, match="at least 2 samples"):
        testing.assert_batch_independent(nn.Linear(3, 3), torch.randn(1, 3))


def test_batch_independent_integer_inputs_and_batchnorm() -> None:
    emb = nn.Sequential(nn.Embedding(20, 4), nn.Flatten(), nn.Linear(12, 2))
    tokens = torch.randint(0, 20, (5, 3))
    testing.assert_batch_independent(emb, tokens)

    class MeanPoolBatch(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(20, 4)

        def forward(self, t: torch.Tensor) -> torch.Tensor:
            h = self.emb(t)
            return h - h.mean(0)

    message = failure(testing.assert_batch_independent, MeanPoolBatch(), tokens)
    assert "depends on" in message
    # BatchNorm mixes in training mode only: eval mode uses running statistics
    testing.assert_batch_independent(
        nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)), torch.randn(6, 3)
    )
    no_stats = nn.Sequential(
        nn.Linear(3, 4), nn.BatchNorm1d(4, track_running_stats=False)
    )
    failure(testing.assert_batch_independent, no_stats, torch.randn(6, 3))


def test_inputs_as_tuple_and_dict() -> None:
    class TwoInputs(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(3, 2)
            self.b = nn.Linear(5, 2)

        def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
            return self.a(x) + self.b(z)

    x, z = torch.randn(4, 3), torch.randn(4, 5)
    y = torch.randn(4, 2)
    for inputs in ((x, z), {"x": x, "z": z}):
        testing.assert_output_shape(TwoInputs(), inputs, ("B", 2))
        testing.assert_batch_independent(TwoInputs(), inputs)
        testing.assert_params_update(TwoInputs(), (inputs, y), F.mse_loss)
        testing.assert_finite(TwoInputs(), (inputs, y), F.mse_loss)


def test_output_shape_patterns() -> None:
    assert shape_problems((4, 10), ("B", 10)) == []
    assert shape_problems((4, 7, 7), (None, "H", "H")) == []
    assert shape_problems((4, 7, 6), (None, "H", "H")) == [
        "dim 2 is 6 but named dim 'H' was 7 at dim 1"
    ]
    assert shape_problems((4,), ("B", 10)) == ["rank 1 != expected rank 2"]
    message = failure(
        testing.assert_output_shape, zoo.WrongShape(), zoo.batch()[0], ("B", 10)
    )
    assert (
        "output shape (8, 11) does not match ('B', 10): dim 1 is 11, expected 10"
        in message
    )
    with pytest.raises(TypeError, match="expected=5"):
        testing.assert_output_shape(zoo.MLP(), zoo.batch()[0], 5)  # type: ignore[arg-type]

    class Pair(nn.Module):
        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return x, x

    message = failure(testing.assert_output_shape, Pair(), torch.ones(2), (2,))
    assert "model returned tuple" in message


def test_deterministic_reports_first_divergence() -> None:
    message = failure(
        testing.assert_deterministic, zoo.make_unseeded_noise, zoo.batch(), zoo.loss
    )
    assert message.count("step 0:") >= 2 and "step 1" not in message
    assert "step 0: output differs" in message

    def unseeded_init() -> nn.Module:
        model = zoo.MLP()
        with torch.no_grad():
            model.head.bias.copy_(
                torch.from_numpy(np.random.default_rng().normal(size=10))
            )
        return model

    message = failure(
        testing.assert_deterministic, unseeded_init, zoo.batch(), zoo.loss
    )
    assert "initialisation: parameter 'head.bias' differs" in message
    # a module (not a factory) is deep-copied, so its initialisation is not compared
    testing.assert_deterministic(unseeded_init(), zoo.batch(), zoo.loss, steps=1)
    # dropout draws from torch's generator, which the seed controls
    testing.assert_deterministic(
        nn.Sequential(nn.Dropout(0.5), zoo.MLP()), zoo.batch(), zoo.loss
    )
    with pytest.raises(ValueError, match="steps=0"):
        testing.assert_deterministic(zoo.MLP(), zoo.batch(), zoo.loss, steps=0)


def test_same_bits() -> None:
    nan = torch.tensor([float("nan"), 1.0])
    assert same_bits(nan, nan.clone())
    assert not same_bits(torch.tensor(0.0), torch.tensor(-0.0))
    assert not same_bits(torch.zeros(2), torch.zeros(3))
    assert same_bits(torch.tensor(True), torch.tensor(True))


# -- device parity (no accelerator in CI: it must skip cleanly) -------------------------


@pytest.mark.skipif(torch.cuda.is_available(), reason="tests the CPU-only skip")
def test_device_parity_skips_without_cuda() -> None:
    with pytest.raises(
        pytest.skip.Exception, match=r"device='cuda'.*CUDA is not available"
    ):
        testing.assert_device_parity(zoo.MLP(), zoo.batch()[0])
    assert device_unavailable("cuda:3") is not None
    assert "not a torch device" in (device_unavailable("nonsense") or "")


def test_device_parity_cpu_against_cpu() -> None:
    testing.assert_device_parity(zoo.MLP(), zoo.batch()[0], device="cpu")
    testing.assert_device_parity(
        zoo.MLP().double(), zoo.batch()[0].double(), device="cpu"
    )


def test_device_parity_reports_differences() -> None:
    class DependsOnCalls(nn.Module):
        """Differs between the two runs, as a device-dependent code path would."""

        calls = 0

        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(3, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            DependsOnCalls.calls += 1
            return self.lin(x) * DependsOnCalls.calls

    message = failure(
        testing.assert_device_parity, DependsOnCalls(), torch.randn(4, 3), device="cpu"
    )
    assert "output: 8 of 8 values differ beyond rtol=1.3e-06, atol=1e-05" in message
    assert "gradient of 'lin.weight'" in message


def test_device_parity_says_when_tf32_is_on(monkeypatch: pytest.MonkeyPatch) -> None:
    # no CUDA here: pretend the CPU "device" runs float32 matmuls in TF32
    import mlqa.testing.device as device_module

    monkeypatch.setattr(device_module, "tf32_enabled", lambda device: True)

    class Drifts(nn.Module):
        calls = 0

        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(3, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            Drifts.calls += 1
            return self.lin(x) * (1 + 0.1 * Drifts.calls)

    message = failure(
        testing.assert_device_parity, Drifts(), torch.randn(4, 3), device="cpu"
    )
    assert "beyond rtol=0.01, atol=0.001" in message
    assert "TF32 is on" in message


def test_tolerance_table() -> None:
    assert tolerance(torch.float32, False, None, None) == (1.3e-6, 1e-5)
    assert tolerance(torch.float32, True, None, None) == (1e-2, 1e-3)
    assert tolerance(torch.float16, True, None, 0.5) == (1e-3, 0.5)
    assert tolerance(torch.int64, False, None, None) == (0.0, 0.0)


# -- the caller's model and the global state are left alone -----------------------------


def global_state() -> tuple[Any, ...]:
    return (
        random.getstate(),
        np.random.get_state()[1].tolist(),
        torch.random.get_rng_state().tolist(),
        torch.are_deterministic_algorithms_enabled(),
        torch.is_grad_enabled(),
        torch.get_default_dtype(),
        torch.get_num_threads(),
    )


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("factory", ["make_good", "make_hot_init"])
def test_checks_leave_model_and_state_alone(factory: str, check: str) -> None:
    make = getattr(zoo, factory)
    torch.manual_seed(0)
    model = make().eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    with torch.no_grad():  # grad mode is restored, and checks still train under no_grad
        state = global_state()
        with contextlib.suppress(AssertionError):
            run(check, lambda: model, seed=False)
        assert global_state() == state
    assert not model.training
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_state_restored_after_errors_inside_a_check() -> None:
    model, batch = zoo.MLP(), zoo.batch()
    state = global_state()

    def broken_loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        torch.set_default_dtype(torch.float64)
        torch.use_deterministic_algorithms(True)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        testing.assert_finite(model, batch, broken_loss)
    assert global_state() == state


def test_bad_batch_and_loss_are_reported() -> None:
    message = failure(testing.assert_finite, zoo.MLP(), zoo.batch()[0], zoo.loss)
    assert "batch must be a pair (inputs, targets)" in message
    message = failure(testing.assert_finite, zoo.MLP(), zoo.batch(), lambda o, y: o)
    assert "loss_fn returned a tensor of shape (8, 10), expected a scalar" in message


# -- the shared report ------------------------------------------------------------------


def test_report_format() -> None:
    report = format_report("assert_x", ["a", "b\nmore"], hint="try y")
    assert (
        report
        == "mlqa.assert_x failed (2 problems):\n  - a\n  - b\n    more\n  hint: try y"
    )
    long = format_report("assert_x", [str(i) for i in range(25)])
    assert long.endswith("... and 5 more")
    assert sparkline([3.0, 2.0, 1.0, float("nan")]) == "█▅▁!"
    assert len(sparkline([float(i) for i in range(500)])) == 40


def test_import_is_lazy() -> None:
    import subprocess

    code = "import sys, mlqa.testing; print('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        testing.nope  # noqa: B018
