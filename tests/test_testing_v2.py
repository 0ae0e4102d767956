"""The v2 checks of mlqa.testing against a zoo of realistic bugs (tests/bugzoo.py)."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Iterator
from typing import Any

import bugzoo
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mlqa import testing

#: The checks the v2 zoo runs, by the battery's names.
CHECKS = (
    "causal",
    "batch_independent",
    "eval_mode",
    "dtype_consistent",
    "output_shape",
    "params_update",
    "finite",
    "checkpoint_roundtrip",
    "shared_params",
)


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def run(check: str, spec: bugzoo.Spec, model: nn.Module | None = None) -> None:
    """Run one v2 check on a zoo model with the settings its spec declares."""
    if model is None:
        torch.manual_seed(0)
        model = spec.factory()
    batch = spec.batch()
    inputs = batch[0]
    if check == "causal":
        if spec.causal:
            testing.assert_causal(model, inputs, dim=1)
    elif check == "batch_independent":
        testing.assert_batch_independent(model, inputs)
    elif check == "eval_mode":
        testing.assert_eval_mode(model, inputs)
    elif check == "dtype_consistent":
        testing.assert_dtype_consistent(model, inputs)
    elif check == "output_shape":
        testing.assert_output_shape(model, inputs, spec.shape, dtype=torch.float32)
    elif check == "params_update":
        testing.assert_params_update(model, batch, spec.loss, frozen=spec.frozen)
    elif check == "finite":
        testing.assert_finite(model, batch, spec.loss)
    elif check == "checkpoint_roundtrip":
        testing.assert_checkpoint_roundtrip(spec.factory, inputs)
    elif check == "shared_params":
        testing.assert_no_shared_params(model, tied=spec.tied)
    else:  # pragma: no cover
        raise ValueError(check)


def failing(spec: bugzoo.Spec) -> set[str]:
    found = set()
    for check in CHECKS:
        try:
            run(check, spec)
        except AssertionError as exc:
            assert str(exc).startswith("mlqa.assert_"), str(exc)
            found.add(check)
    return found


@pytest.mark.parametrize("name", list(bugzoo.ZOO))
def test_zoo_bug_caught_by_its_intended_check(name: str) -> None:
    spec = bugzoo.ZOO[name]
    assert failing(spec) == set(spec.catches)


def test_zoo_covers_every_check_and_has_the_correct_models() -> None:
    caught = {check for spec in bugzoo.ZOO.values() for check in spec.catches}
    assert caught == set(CHECKS)
    correct = {name for name, spec in bugzoo.ZOO.items() if not spec.catches}
    assert {"mlp", "cnn_batchnorm", "tiny_transformer"} <= correct


def message(func: Callable[..., None], *args: Any, **kwargs: Any) -> str:
    with pytest.raises(AssertionError) as excinfo:
        func(*args, **kwargs)
    return str(excinfo.value)


def model_and_inputs(name: str) -> tuple[nn.Module, Any]:
    spec = bugzoo.ZOO[name]
    torch.manual_seed(0)
    return spec.factory(), spec.batch()[0]


# -- state is left alone -----------------------------------------------------------------


def global_state() -> tuple[Any, ...]:
    return (
        random.getstate(),
        np.random.get_state()[1].tolist(),
        torch.random.get_rng_state().tolist(),
        torch.is_grad_enabled(),
        torch.get_default_dtype(),
    )


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("name", ["tiny_transformer", "batchnorm_stuck_in_training"])
@pytest.mark.parametrize("train", [True, False])
def test_checks_leave_rng_mode_and_weights_alone(
    name: str, check: str, train: bool
) -> None:
    spec = bugzoo.ZOO[name]
    torch.manual_seed(0)
    model = spec.factory().train(train)
    modes = [m.training for m in model.modules()]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    random.seed(3)
    np.random.seed(3)
    torch.manual_seed(3)
    with torch.no_grad():
        state = global_state()
        with contextlib.suppress(AssertionError):
            run(check, spec, model)
        assert global_state() == state
    assert [m.training for m in model.modules()] == modes
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_failures_hide_mlqa_frames() -> None:
    model, inputs = model_and_inputs("leaky_mask")
    with pytest.raises(AssertionError) as excinfo:
        testing.assert_causal(model, inputs)
    shown = excinfo.traceback.filter(excinfo)
    assert not any("mlqa" in str(entry.path) for entry in shown)
    assert "tensor(" not in str(excinfo.value)  # never prints whole tensors


# -- assert_causal -------------------------------------------------------------------------


def test_causal_names_the_first_leaking_pair() -> None:
    report = message(testing.assert_causal, *model_and_inputs("leaky_mask"))
    assert "first leaking pair (t, t') = (0, 1)" in report
    assert "its value moves" in report
    assert f"{bugzoo.SEQ - 1} leaking (t, t') pairs in all" in report


class TinyLeak(nn.Module):
    """Causal but for a leak far below the rounding a value comparison allows."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(bugzoo.FEATURES, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        later = torch.roll(x, shifts=-3, dims=1)
        later[:, -3:] = 0
        return self.proj(x) + 1e-12 * later.sum(dim=2, keepdim=True)


def test_causal_gradient_sees_leaks_below_the_value_tolerance() -> None:
    x = bugzoo.series_batch()[0]
    report = message(testing.assert_causal, TinyLeak(), x)
    assert "(t, t') = (0, 3)" in report
    assert "its gradient moves" in report


def test_causal_other_dim_and_bad_dim() -> None:
    class ChannelsFirst(nn.Module):
        def __init__(self, right: int) -> None:
            super().__init__()
            self.right = right
            self.conv = nn.Conv1d(bugzoo.FEATURES, 4, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, features, time)
            return self.conv(F.pad(x, (2 - self.right, self.right)))

    x = torch.randn(4, bugzoo.FEATURES, 6)
    testing.assert_causal(ChannelsFirst(0), x, dim=2)
    report = message(testing.assert_causal, ChannelsFirst(1), x, dim=2)
    assert "(t, t') = (0, 1)" in report and "in dim 2" in report
    with pytest.raises(ValueError, match="dim=3"):
        testing.assert_causal(ChannelsFirst(0), x, dim=3)
    report = message(testing.assert_causal, nn.Flatten(), x, dim=2)
    assert "no floating-point output has the sequence length 6 in dim 2" in report


# -- assert_batch_independent ------------------------------------------------------------


def test_batch_independent_sees_past_autograd() -> None:
    report = message(
        testing.assert_batch_independent, *model_and_inputs("detached_batch_centering")
    )
    assert "changing the input of sample 0 moved output of sample(s) 1, 2" in report
    assert "though no gradient shows it" in report


def test_batch_independent_batch_of_one_shape() -> None:
    report = message(
        testing.assert_batch_independent, *model_and_inputs("squeezed_pool")
    )
    assert (
        "with a batch of one (inputs[:1]) output has shape (10,), expected (1, 10)"
        in report
    )


class NoisyInTraining(bugzoo.MLP):
    """Noise in training mode only, from generators nobody seeds."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)
        if self.training:
            h = (
                h
                + torch.from_numpy(np.random.default_rng().normal(size=h.shape)).float()
            )
        return self.head(h)


class NaNColumn(bugzoo.MLP):
    """A model whose first output is NaN for every sample, deliberately."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x).clone()
        out[:, 0] = float("nan")
        return out


class SeededEvalNoise(bugzoo.MLP):
    """Noise drawn from torch's global generator even in eval mode."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) + 0.01 * torch.randn(1, bugzoo.CLASSES)


@pytest.mark.parametrize("kind", [NoisyInTraining, NaNColumn, SeededEvalNoise])
def test_batch_independent_no_false_alarms(kind: type[nn.Module]) -> None:
    testing.assert_batch_independent(kind(), bugzoo.vector_batch()[0])


def test_batch_independent_crash_on_a_batch_of_one_is_reported() -> None:
    class Pairs(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.reshape(-1, 2, x.shape[1])[:, 0].repeat_interleave(2, 0)

    report = message(testing.assert_batch_independent, Pairs(), torch.randn(4, 3))
    assert "with a batch of one (inputs[:1]) forward() raised RuntimeError" in report


# -- assert_eval_mode --------------------------------------------------------------------


def test_eval_mode_reports() -> None:
    report = message(testing.assert_eval_mode, *model_and_inputs("functional_dropout"))
    assert "two forward passes in eval mode give different output" in report
    assert "first module whose output differs between passes: 'head' (Linear)" in report
    report = message(
        testing.assert_eval_mode, *model_and_inputs("batchnorm_stuck_in_training")
    )
    assert "forward() put 'bn' (BatchNorm2d) back in training mode" in report
    assert "buffer 'bn.running_mean' changed during forward() in eval mode" in report
    report = message(
        testing.assert_eval_mode, *model_and_inputs("noisy_train_override")
    )
    assert "'drop' (Dropout) still reports training=True after model.eval()" in report


# -- assert_dtype_consistent -------------------------------------------------------------


def test_dispatch_mode_contract() -> None:
    """Pins what mlqa.testing.dtype relies on in torch.utils._python_dispatch."""
    from torch.utils._python_dispatch import TorchDispatchMode

    seen: list[tuple[str, torch.dtype]] = []

    class Record(TorchDispatchMode):  # type: ignore[misc]
        def __torch_dispatch__(
            self,
            func: Any,
            types: Any,
            args: tuple[Any, ...] = (),
            kwargs: dict[str, Any] | None = None,
        ) -> Any:
            out = func(*args, **(kwargs or {}))
            if isinstance(out, torch.Tensor):
                seen.append((str(func.overloadpacket), out.dtype))
            return out

    w = torch.randn(3, requires_grad=True)
    with Record():
        y = (w.to(torch.bfloat16) * 2).float().sum()
        forward = len(seen)
        y.backward()
        t = torch.from_numpy(np.zeros(2))
    assert ("aten._to_copy", torch.bfloat16) in seen[:forward]
    assert any(op == "aten.mul" for op, _ in seen[forward:])  # backward is traced
    assert seen[-1] == ("aten.lift_fresh", torch.float64) and t.dtype == torch.float64
    assert torch.ops.aten.lift_fresh.default.overloadpacket is torch.ops.aten.lift_fresh

    # a subclass whose _should_skip_dynamo is False keeps its own __torch_dispatch__
    # (no per-op torch._disable_dynamo wrapper: the cost of the wrapper is most of
    # the tracing overhead)
    class Unwrapped(Record):
        @classmethod
        def _should_skip_dynamo(cls) -> bool:
            return False

        def __torch_dispatch__(
            self, func: Any, types: Any, args: Any = (), kwargs: Any = None
        ) -> Any:
            return func(*args, **(kwargs or {}))

    assert Unwrapped.__dict__["__torch_dispatch__"].__qualname__.endswith(
        "Unwrapped.__torch_dispatch__"
    )
    assert Record.__dict__[
        "__torch_dispatch__"
    ].__qualname__ != "Record.__torch_dispatch__" or (
        not TorchDispatchMode._should_skip_dynamo()
    )


def test_dtype_names_op_and_submodule() -> None:
    report = message(testing.assert_dtype_consistent, *model_and_inputs("bf16_linear"))
    assert "net.0 (Bf16Linear): float32 -> bfloat16 in aten._to_copy" in report
    assert "backward:" in report
    model, inputs = model_and_inputs("mlp")
    report = message(
        testing.assert_dtype_consistent, model, inputs, dtype=torch.float64
    )
    assert "parameter 'hidden.weight' is float32" in report
    assert "output is float32" in report
    # the default is the parameters' dtype: a float64 model is consistent
    testing.assert_dtype_consistent(bugzoo.MLP().double(), inputs.double())

    class Promotes(bugzoo.MLP):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return super().forward(x) * torch.arange(
                bugzoo.CLASSES, dtype=torch.float64
            )

    report = message(testing.assert_dtype_consistent, Promotes(), inputs)
    assert "the model (Promotes): a new tensor -> float64 in aten.arange" in report
    assert "the model (Promotes): float32/float64 -> float64 in aten.mul" in report


# -- assert_output_shape -----------------------------------------------------------------


def test_output_shape_dtype_and_batch_sizes() -> None:
    model, inputs = model_and_inputs("squeezed_pool")
    report = message(testing.assert_output_shape, model, inputs, ("B", 10))
    assert (
        "with a batch of 1 (inputs[:1]): output shape (10,) does not match ('B', 10): "
        "rank 1 != expected rank 2" in report
    )
    assert "batch of 2" not in report
    testing.assert_output_shape(model, inputs, ("B", 10), batch_sizes=())
    testing.assert_output_shape(model, inputs, (8, 10))  # a fixed batch: no extra runs
    model, inputs = model_and_inputs("double_model")
    report = message(
        testing.assert_output_shape, model, inputs, ("B", 10), dtype="float32"
    )
    assert "output dtype is shape (8, 10), float64, expected float32" in report
    testing.assert_output_shape(model, inputs, ("B", 10), dtype=torch.float64)
    with pytest.raises(TypeError, match="dtype='float33'"):
        testing.assert_output_shape(model, inputs, ("B", 10), dtype="float33")
    with pytest.raises(TypeError, match="batch_sizes"):
        testing.assert_output_shape(model, inputs, ("B", 10), batch_sizes=(0,))


# -- assert_params_update(frozen=) -------------------------------------------------------


def test_params_update_frozen() -> None:
    spec = bugzoo.ZOO["frozen_by_mistake"]
    batch = spec.batch()
    testing.assert_params_update(
        spec.factory(), batch, spec.loss
    )  # not declared: old rule
    report = message(
        testing.assert_params_update, spec.factory(), batch, spec.loss, frozen=[]
    )
    assert (
        "parameter 'hidden.weight' (shape (32, 8), float32) has requires_grad=False"
        in report
    )
    assert "'hidden.bias'" in report and "2 problems" in report
    testing.assert_params_update(spec.factory(), batch, spec.loss, frozen=["hidden.*"])
    report = message(
        testing.assert_params_update,
        bugzoo.ForgotToFreeze(),
        batch,
        spec.loss,
        frozen=["hidden"],
    )
    assert (
        "parameter 'hidden.weight' is declared frozen (pattern 'hidden') but has "
        "requires_grad=True; one step changed it" in report
    )
    with pytest.raises(
        ValueError, match="frozen pattern 'encoder' matches no parameter"
    ):
        testing.assert_params_update(
            spec.factory(), batch, spec.loss, frozen=["encoder"]
        )


# -- assert_finite(edge_cases=) ----------------------------------------------------------


def test_finite_edge_cases() -> None:
    spec = bugzoo.ZOO["std_normalised"]
    report = message(testing.assert_finite, spec.factory(), spec.batch(), spec.loss)
    assert (
        "with all-zero inputs (eval mode), output (shape (8, 10), float32) has 80 NaN"
        in report
    )
    assert "with inputs constant within each sample (eval mode)" in report
    testing.assert_finite(spec.factory(), spec.batch(), spec.loss, edge_cases=False)
    spec = bugzoo.ZOO["naive_softmax"]
    report = message(testing.assert_finite, spec.factory(), spec.batch(), spec.loss)
    assert "with inputs scaled by 10000 (eval mode)" in report
    assert "all-zero" not in report


def test_finite_edge_cases_integer_inputs() -> None:
    class MeanOverTokens(nn.Module):
        """Averages embeddings over the non-padding tokens (id 0 is padding)."""

        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(bugzoo.VOCAB, 4)

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            keep = (tokens != 0).unsqueeze(-1).float()
            return (self.emb(tokens) * keep).sum(1) / keep.sum(1)

    tokens = torch.randint(1, bugzoo.VOCAB, (4, 5))
    batch = (tokens, torch.randn(4, 4))
    report = message(testing.assert_finite, MeanOverTokens(), batch, F.mse_loss)
    assert "with all-zero inputs (eval mode)" in report
    assert "scaled" not in report  # integer-only inputs are not scaled


# -- assert_checkpoint_roundtrip ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "suspect"),
    [
        (
            "plain_list_blocks",
            "'blocks' is a plain Python list of 2 modules (use nn.ModuleList)",
        ),
        ("random_features", "'proj' is a non-persistent buffer (persistent=False)"),
        (
            "tensor_attribute",
            "'scale' is a tensor attribute, neither parameter nor buffer",
        ),
    ],
)
def test_checkpoint_names_the_suspect(name: str, suspect: str) -> None:
    spec = bugzoo.ZOO[name]
    report = message(testing.assert_checkpoint_roundtrip, spec.factory, spec.batch()[0])
    assert "output of the loaded model differs" in report
    assert f"suspect {suspect}" in report


def test_checkpoint_module_factory_and_strict_keys() -> None:
    inputs = bugzoo.vector_batch()[0]
    testing.assert_checkpoint_roundtrip(
        bugzoo.MLP(), inputs
    )  # class built without args
    report = message(
        testing.assert_checkpoint_roundtrip, bugzoo.PlainListBlocks(), inputs
    )
    assert "suspect 'blocks'" in report
    shared = bugzoo.MLP()
    before = {k: v.clone() for k, v in shared.state_dict().items()}
    testing.assert_checkpoint_roundtrip(lambda: shared, inputs)  # one module, twice
    assert shared.training
    assert all(torch.equal(v, shared.state_dict()[k]) for k, v in before.items())
    with pytest.raises(TypeError, match="pass a factory"):
        testing.assert_checkpoint_roundtrip(nn.Linear(8, 2), inputs)
    sizes = iter([32, 16])
    report = message(
        testing.assert_checkpoint_roundtrip,
        lambda: bugzoo.MLP(hidden=next(sizes)),
        inputs,
    )
    assert "size mismatch for hidden.weight" in report


# -- assert_no_shared_params -------------------------------------------------------------


def test_shared_params() -> None:
    report = message(testing.assert_no_shared_params, bugzoo.SharedBlocks())
    assert (
        "parameter 'blocks.0.weight' (shape (32, 32), float32) is also reachable as "
        "'blocks.1.weight', 'blocks.2.weight'" in report
    )
    model = bugzoo.TinyTransformer()
    report = message(testing.assert_no_shared_params, model)
    assert "'tok.weight'" in report and "'head.weight'" in report
    testing.assert_no_shared_params(model, tied=[("head.weight", "tok.weight")])
    untied = bugzoo.TinyTransformer()
    untied.head.weight = nn.Parameter(untied.tok.weight.detach().clone())
    report = message(
        testing.assert_no_shared_params, untied, tied=[("tok.weight", "head.weight")]
    )
    assert "the tie is broken" in report
    with pytest.raises(ValueError, match="tied name 'nope.weight'"):
        testing.assert_no_shared_params(model, tied=[("tok.weight", "nope.weight")])

    class Aliased(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(4, 4)
            self.b = nn.Linear(4, 4)
            self.b.weight = nn.Parameter(self.a.weight.data)  # distinct, same memory

    report = message(testing.assert_no_shared_params, Aliased())
    assert "'a.weight'" in report and "'b.weight'" in report


# -- the docs show real reports ----------------------------------------------------------

#: The check (and zoo model) behind each example failure in docs/testing.md.
DOC_EXAMPLES = {
    "assert_causal": ("causal", "leaky_mask"),
    "assert_batch_independent": ("batch_independent", "detached_batch_centering"),
    "assert_eval_mode": ("eval_mode", "batchnorm_stuck_in_training"),
    "assert_dtype_consistent": ("dtype_consistent", "bf16_linear"),
    "assert_output_shape": ("output_shape", "squeezed_pool"),
    "assert_params_update": ("params_update", "forgot_to_freeze"),
    "assert_finite": ("finite", "std_normalised"),
    "assert_checkpoint_roundtrip": ("checkpoint_roundtrip", "random_features"),
    "assert_no_shared_params": ("shared_params", "shared_blocks"),
}


def _problems(report: str) -> list[str]:
    """The problem lines of a report, numbers masked (they vary with the CPU)."""
    import re

    return [
        re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "#", line.strip())
        for line in report.splitlines()
        if line.startswith("  - ")
    ]


def test_docs_example_failures_are_real_reports() -> None:
    import re
    from pathlib import Path

    page = Path(__file__).parent.parent / "docs" / "testing.md"
    blocks = re.findall(
        r"```\n(mlqa\.(assert_\w+) failed.*?)```", page.read_text(), re.S
    )
    shown = {name: text for text, name in blocks if name in DOC_EXAMPLES}
    assert set(shown) == set(DOC_EXAMPLES)
    for name, text in shown.items():
        check, model = DOC_EXAMPLES[name]
        with pytest.raises(AssertionError) as excinfo:
            run(check, bugzoo.ZOO[model])
        assert _problems(text) == _problems(str(excinfo.value)), name
        assert str(excinfo.value).splitlines()[0] == text.splitlines()[0]
