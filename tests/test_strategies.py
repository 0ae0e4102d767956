"""Tests of mlqa.strategies, and Hypothesis property tests of the mlqa checks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from torch import nn

from mlqa import strategies as mst
from mlqa import testing

# Property tests that train torch models get a quarter of the profile's budget
# (tests/conftest.py: 5 examples in the inner loop, 25 under --hypothesis-profile=ci).
FAST = settings(
    max_examples=max(5, settings.default.max_examples // 4),
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# -- the strategies themselves ----------------------------------------------------------


@given(mst.shapes(("B", "T", 4), ("B", "T"), ("B", None), min_side=2, max_side=5))
def test_named_dims_agree_across_tensors(shapes: tuple[tuple[int, ...], ...]) -> None:
    a, b, c = shapes
    assert a[:2] == b and a[0] == c[0] and a[2] == 4
    assert all(2 <= side <= 5 for side in (*b, c[1]))


@given(mst.shapes(("B", 3), fixed={"B": 2}))
def test_fixed_dims(shapes: tuple[tuple[int, ...], ...]) -> None:
    assert shapes == ((2, 3),)


@given(mst.tensors("float32", (3, 2), min_value=-1.0, max_value=1.0))
def test_float_tensors_in_range(t: torch.Tensor) -> None:
    assert t.dtype == torch.float32 and t.shape == (3, 2)
    assert bool(torch.isfinite(t).all()) and float(t.abs().max()) <= 1.0


@given(
    mst.tensors(
        torch.int64, mst.shapes(("B",)).map(lambda s: s[0]), min_value=0, max_value=9
    )
)
def test_int_tensors_from_a_shape_strategy(t: torch.Tensor) -> None:
    assert t.dtype == torch.int64 and t.ndim == 1
    assert int(t.min()) >= 0 and int(t.max()) <= 9


@given(mst.tensors("bfloat16", 4, min_value=-2, max_value=2, requires_grad=True))
def test_bfloat16_and_requires_grad(t: torch.Tensor) -> None:
    assert t.dtype == torch.bfloat16 and t.shape == (4,) and t.requires_grad


@given(mst.tensors("bool", (2, 2)), mst.tensors("float64", (), allow_nan=True))
def test_bool_and_scalar_tensors(b: torch.Tensor, scalar: torch.Tensor) -> None:
    assert b.dtype == torch.bool and scalar.shape == ()


@given(mst.batch_sizes(min_size=2, max_size=4))
def test_batch_sizes(size: int) -> None:
    assert 2 <= size <= 4


@given(mst.mlps(3, 2, max_layers=3, max_width=6))
def test_mlps_map_features(model: nn.Module) -> None:
    assert model(torch.zeros(5, 3)).shape == (5, 2)


@settings(max_examples=5)
@given(st.data())
def test_mlps_do_not_touch_the_global_rng(data: st.DataObject) -> None:
    state = torch.random.get_rng_state()
    data.draw(mst.mlps(3, 2))
    assert torch.equal(state, torch.random.get_rng_state())


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: mst.shapes(("B",), min_side=3, max_side=2),
            "min_side=3 must be <= max_side=2",
        ),
        (lambda: mst.shapes(("B",), min_side=-1), "min_side=-1 must be >= 0"),
        (lambda: mst.shapes(), "at least one spec"),
        (lambda: mst.shapes(("B", 2.5)), "specs[0] dim=2.5 must be an integer"),
        (lambda: mst.shapes("B"), "specs[0]='B' must be a tuple"),
        (lambda: mst.batch_sizes(min_size=0), "min_size=0 must be >= 1"),
        (
            lambda: mst.batch_sizes(min_size=5, max_size=4),
            "min_size=5 must be <= max_size=4",
        ),
        (lambda: mst.tensors("str"), "dtype='str' is not a"),
        (
            lambda: mst.tensors("float32", min_value=2, max_value=1),
            "min_value=2 must be <= max_value=1",
        ),
        (
            lambda: mst.tensors("int64", requires_grad=True),
            "requires_grad=True needs a floating dtype",
        ),
        (lambda: mst.tensors("float32", (2, -1)), "shape dim=-1 must be >= 0"),
        (lambda: mst.mlps(0, 2), "in_features=0 must be >= 1"),
        (lambda: mst.mlps(2, 2, activations=["swish"]), "'swish' is not one of"),
        (
            lambda: mst.dims(["B"], fixed={"B": True}),
            "fixed['B']=True must be an integer",
        ),
    ],
)
def test_invalid_arguments(make: object, message: str) -> None:
    with pytest.raises(InvalidArgument) as excinfo:
        make()  # type: ignore[operator]
    assert message in str(excinfo.value)


def test_strategies_import_torch_lazily() -> None:
    import subprocess
    import sys

    code = "import sys, mlqa.strategies; print('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


# -- property tests of the checks -------------------------------------------------------


@FAST
@given(
    mst.mlps(
        4, 3, max_layers=3, max_width=8, activations=("tanh", "relu", "gelu", "sigmoid")
    ),
    mst.batch_sizes(min_size=2, max_size=6),
    st.data(),
)
def test_any_mlp_is_batch_independent(
    model: nn.Module, size: int, data: st.DataObject
) -> None:
    x = data.draw(mst.tensors("float32", (size, 4), min_value=-3, max_value=3))
    testing.assert_batch_independent(model, x)
    testing.assert_output_shape(model, x, ("B", 3))


@FAST
@given(mst.mlps(4, 3, max_layers=3, max_width=8, activations=("tanh",)), st.data())
def test_any_tanh_mlp_updates_every_parameter_finitely_and_deterministically(
    model: nn.Module, data: st.DataObject
) -> None:
    # inputs away from zero: an all-zero batch gives the first layer a zero gradient
    x = data.draw(mst.tensors("float32", (4, 4), min_value=0.1, max_value=1))
    y = data.draw(mst.tensors("int64", (4,), min_value=0, max_value=2))
    testing.assert_finite(model, (x, y), F.cross_entropy)
    testing.assert_params_update(model, (x, y), F.cross_entropy)
    testing.assert_deterministic(model, (x, y), F.cross_entropy, steps=2)


@FAST
@given(
    mst.mlps(4, 3, max_layers=2, max_width=8, activations=("tanh",)),
    mst.batch_sizes(min_size=2, max_size=6),
    st.data(),
)
def test_mixing_the_batch_is_always_caught(
    model: nn.Module, size: int, data: st.DataObject
) -> None:
    # tanh, not relu: behind a dead relu the mixing has no gradient (nor any effect)
    x = data.draw(mst.tensors("float32", (size, 4), min_value=-3, max_value=3))
    mixed = nn.Sequential(MeanOverBatch(), model)
    with pytest.raises(AssertionError, match="depends on"):
        testing.assert_batch_independent(mixed, x)


class MeanOverBatch(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + x.mean(dim=0)


@FAST
@given(mst.shapes(("B", None, "C"), min_side=1, max_side=4))
def test_output_shape_accepts_what_it_describes(
    shapes: tuple[tuple[int, ...], ...],
) -> None:
    (shape,) = shapes
    testing.assert_output_shape(
        nn.Identity(), torch.zeros(shape), ("N", None, shape[2])
    )
    if shape[2] != shape[0]:
        with pytest.raises(AssertionError, match="named dim 'B'"):
            testing.assert_output_shape(
                nn.Identity(), torch.zeros(shape), ("B", None, "B")
            )
