"""The battery's items: one function per check, each calling one public assertion.

Every item receives the model and batch built (seeded) for it and the model's
:class:`~mlqa.testing.battery.ModelSpec`; the assertions are looked up by their
public names in :mod:`mlqa.testing`, on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlqa.testing.battery import CHECKS, ModelSpec

#: ``item(model, batch, spec, seed, device)``.
Item = Callable[[Any, Any, ModelSpec, int, str], None]


def _api() -> Any:
    import mlqa.testing

    return mlqa.testing


def _output_shape(
    model: Any, batch: Any, spec: ModelSpec, seed: int, device: str
) -> None:
    __tracebackhide__ = True
    import torch

    assert spec.output_shape is not None
    options: dict[str, Any] = {}
    if spec.output_dtype is not None:
        options["dtype"] = getattr(torch, spec.output_dtype)
    if spec.batch_sizes is not None:
        options["batch_sizes"] = spec.batch_sizes
    _api().assert_output_shape(model, batch[0], spec.output_shape, **options)


def _finite(model: Any, batch: Any, spec: ModelSpec, seed: int, device: str) -> None:
    __tracebackhide__ = True
    _api().assert_finite(model, batch, spec.loss, edge_cases=True)


def _params_update(
    model: Any, batch: Any, spec: ModelSpec, seed: int, device: str
) -> None:
    __tracebackhide__ = True
    options: dict[str, Any] = {"optimizer_factory": spec.optimizer}
    if spec.frozen is not None:
        options["frozen"] = list(spec.frozen)
    _api().assert_params_update(model, batch, spec.loss, **options)


def _loss_at_init(
    model: Any, batch: Any, spec: ModelSpec, seed: int, device: str
) -> None:
    __tracebackhide__ = True
    from mlqa.testing.init_loss import INIT_RTOL

    assert spec.loss_at_init is not None
    expected, rtol = spec.loss_at_init
    _api().assert_loss_at_init(
        model, batch, spec.loss, expected, rtol=INIT_RTOL if rtol is None else rtol
    )


def _overfit(model: Any, batch: Any, spec: ModelSpec, seed: int, device: str) -> None:
    __tracebackhide__ = True
    _api().assert_overfits_batch(
        model, batch, spec.loss, optimizer_factory=spec.optimizer, **spec.overfit
    )


def _batch_independent(
    model: Any, batch: Any, spec: ModelSpec, seed: int, device: str
) -> None:
    __tracebackhide__ = True
    _api().assert_batch_independent(model, batch[0])


def _eval_mode(model: Any, batch: Any, spec: ModelSpec, seed: int, device: str) -> None:
    __tracebackhide__ = True
    _api().assert_eval_mode(model, batch[0])


def _dtype_consistent(
    model: Any, batch: Any, spec: ModelSpec, seed: int, device: str
) -> None:
    __tracebackhide__ = True
    _api().assert_dtype_consistent(model, batch[0])


def _causal(model: Any, batch: Any, spec: ModelSpec, seed: int, device: str) -> None:
    __tracebackhide__ = True
    _api().assert_causal(model, batch[0], dim=spec.causal_dim)


def _checkpoint_roundtrip(
    model: Any, batch: Any, spec: ModelSpec, seed: int, device: str
) -> None:
    __tracebackhide__ = True
    _api().assert_checkpoint_roundtrip(spec.factory, batch[0])


def _shared_params(
    model: Any, batch: Any, spec: ModelSpec, seed: int, device: str
) -> None:
    __tracebackhide__ = True
    _api().assert_no_shared_params(model, tied=[list(group) for group in spec.tied])


def _deterministic(
    model: Any, batch: Any, spec: ModelSpec, seed: int, device: str
) -> None:
    __tracebackhide__ = True
    _api().assert_deterministic(spec.factory, batch, spec.loss, seed=seed)


def _device_parity(
    model: Any, batch: Any, spec: ModelSpec, seed: int, device: str
) -> None:
    __tracebackhide__ = True
    _api().assert_device_parity(model, batch[0], device=device)


#: check name -> item.
ITEMS: dict[str, Item] = {
    "output_shape": _output_shape,
    "finite": _finite,
    "params_update": _params_update,
    "loss_at_init": _loss_at_init,
    "overfit": _overfit,
    "batch_independent": _batch_independent,
    "eval_mode": _eval_mode,
    "dtype_consistent": _dtype_consistent,
    "causal": _causal,
    "checkpoint_roundtrip": _checkpoint_roundtrip,
    "shared_params": _shared_params,
    "deterministic": _deterministic,
    "device_parity": _device_parity,
}
assert tuple(ITEMS) == CHECKS


def _build(spec: ModelSpec) -> tuple[Any, Any]:
    from torch import nn

    model = spec.factory()
    if not isinstance(model, nn.Module):
        raise AssertionError(
            f"mlqa: factory of model {spec.name!r} returned {type(model).__name__}, not an nn.Module"
        )
    batch = spec.batch()
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise AssertionError(
            f"mlqa: batch of model {spec.name!r} returned {type(batch).__name__}, not (inputs, targets)"
        )
    return model, batch


def run_check(
    spec: ModelSpec, check: str, *, seed: int = 0, device: str = "cuda"
) -> None:
    """Run one check of one model, seeded, restoring global state afterwards.

    Args:
        spec: The model.
        check: A name from CHECKS.
        seed: Seeds Python, NumPy and torch before the model and batch are built.
        device: The device for ``device_parity``.

    Raises:
        ValueError: For an unknown check name.
    """
    __tracebackhide__ = True
    from mlqa.testing._state import preserved_state, seed_everything

    if check not in ITEMS:
        raise ValueError(f"check={check!r} must be one of {', '.join(CHECKS)}")
    with preserved_state():
        seed_everything(seed)
        model, batch = _build(spec)
        ITEMS[check](model, batch, spec, seed, device)
