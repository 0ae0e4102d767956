"""``assert_checkpoint_roundtrip``: a saved state_dict brings the model back, outputs and all."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from mlqa.testing._core import (
    SameRandomness,
    check,
    eval_forward,
    fail,
    fresh_copy,
    iter_tensors,
    mismatch,
)
from mlqa.testing._state import seed_everything
from mlqa.testing.device import tolerance

if TYPE_CHECKING:
    import torch
    from torch import nn

#: The saved model is built under this seed, the fresh one under the next.
SEED = 0


def _build(
    model_or_factory: nn.Module | Callable[[], nn.Module], seed: int
) -> nn.Module:
    from torch import nn

    seed_everything(seed)
    if isinstance(model_or_factory, nn.Module):
        kind = type(model_or_factory)
        try:
            made: object = kind()
        except TypeError as exc:
            raise TypeError(
                f"{kind.__name__}() cannot be built without arguments ({exc}): pass "
                f"a factory instead, e.g. lambda: {kind.__name__}(...)"
            ) from None
    else:
        made = model_or_factory()
    if not isinstance(made, nn.Module):
        fail(f"the factory returned {type(made).__name__}, expected an nn.Module")
    return made


def _hidden(model: nn.Module) -> Iterator[tuple[str, str, Any]]:
    """``(kind, path, value)`` for module state that ``state_dict`` does not save."""
    import torch
    from torch import nn

    for name, module in model.named_modules():
        prefix = f"{name}." if name else ""
        for buffer in sorted(module._non_persistent_buffers_set):
            value = module._buffers.get(buffer)
            if value is not None:
                yield "a non-persistent buffer (persistent=False)", prefix + buffer, value
        for attr, value in vars(module).items():
            if attr.startswith("_") or attr == "training":
                continue
            items = value if isinstance(value, (list, tuple)) else [value]
            if isinstance(value, dict):
                items = list(value.values())
            modules = sum(isinstance(v, nn.Module) for v in items)
            kind = type(value).__name__
            if modules:
                better = "nn.ModuleDict" if isinstance(value, dict) else "nn.ModuleList"
                yield f"a plain Python {kind} of {modules} modules (use {better})", prefix + attr, value
            elif any(isinstance(v, torch.Tensor) for v in items):
                yield (
                    "a tensor attribute, neither parameter nor buffer (use "
                    "nn.Parameter or register_buffer)",
                    prefix + attr,
                    value,
                )


def _tensors(value: Any) -> list[torch.Tensor]:
    import torch
    from torch import nn

    found: list[torch.Tensor] = []
    items = value if isinstance(value, (list, tuple)) else [value]
    if isinstance(value, dict):
        items = list(value.values())
    for item in items:
        if isinstance(item, nn.Module):
            found += [t.detach() for t in item.state_dict().values()]
        elif isinstance(item, torch.Tensor):
            found.append(item.detach())
    return found


def _suspects(saved: nn.Module, loaded: nn.Module) -> list[str]:
    """The unsaved state whose value differs between the saved and the loaded model."""
    other = {path: value for _, path, value in _hidden(loaded)}
    suspects = []
    for kind, path, value in _hidden(saved):
        mine, theirs = _tensors(value), _tensors(other.get(path))
        if len(mine) != len(theirs) or any(
            a.shape != b.shape or mismatch(a, b)
            for a, b in zip(mine, theirs, strict=True)
        ):
            suspects.append(
                f"{path!r} is {kind}: not saved, and it differs after loading"
            )
    return suspects


def _roundtrip(state: dict[str, Any]) -> dict[str, Any]:
    """Save and load ``state`` as a file would, with ``torch.load``'s defaults."""
    import torch

    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    try:
        loaded: dict[str, Any] = torch.load(buffer, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling error is the finding
        fail(
            "torch.load(weights_only=True) (the default since torch 2.6) cannot "
            f"read the state_dict back: {type(exc).__name__}: {str(exc).splitlines()[0]}",
            hint="keep only tensors and plain values in state_dict/get_extra_state()",
        )
    return loaded


@check
def assert_checkpoint_roundtrip(
    model_or_factory: nn.Module | Callable[[], nn.Module],
    inputs: Any,
    *,
    rtol: float | None = None,
    atol: float | None = None,
) -> None:
    """Assert a model saved with ``state_dict`` and loaded into a fresh one gives the same outputs.

    The model (built by the factory under seed 0, or a deep copy of the module
    given) runs one forward pass in training mode, so state that forward updates
    is included; its ``state_dict`` goes through ``torch.save`` and
    ``torch.load(weights_only=True)`` into a fresh model built under another
    seed with ``load_state_dict(strict=True)``; both then run ``inputs`` in
    eval mode and the outputs must agree.

    Fails (AssertionError) naming missing or unexpected keys, or the outputs
    that differ and the suspects: modules kept in a plain Python list or dict
    (use ``nn.ModuleList``/``nn.ModuleDict``), non-persistent buffers and tensor
    attributes (neither parameter nor buffer) whose values differ after loading.

    Args:
        model_or_factory: A zero-argument factory returning a fresh module, or a
            module whose class can be built without arguments.
        inputs: A Tensor, a tuple of Tensors (positional) or a dict (keywords).
        rtol: Relative tolerance; None for the dtype's default (as
            ``torch.testing.assert_close``).
        atol: Absolute tolerance; None for the dtype's default.

    Raises:
        TypeError: If a module is given whose class needs arguments.
    """
    from torch import nn

    source = (
        model_or_factory
        if isinstance(model_or_factory, nn.Module)
        else _build(model_or_factory, SEED)
    )
    saved = fresh_copy(source, train=True)
    rng = SameRandomness()  # the passes below start from one random state
    rng.restore()
    eval_forward(saved, inputs)  # train mode: updates running statistics and the like
    saved.eval()
    state = _roundtrip(saved.state_dict())
    fresh = _build(model_or_factory, SEED + 1)
    if fresh is source:  # a factory returning one shared module: load into a copy
        fresh = fresh_copy(fresh)
    try:
        fresh.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        lines = [line.strip() for line in str(exc).splitlines()[1:] if line.strip()]
        fail(
            lines or [str(exc).splitlines()[0]],
            hint="the fresh model's structure differs from the saved one: a module "
            "built differently on each call (random sizes, a config read at init)?",
        )
    fresh.eval()
    rng.restore()
    expected = list(iter_tensors(eval_forward(saved, inputs), "output"))
    rng.restore()
    got = list(iter_tensors(eval_forward(fresh, inputs), "output"))
    problems = []
    for (path, want), (_, have) in zip(expected, got, strict=False):
        r, a = tolerance(want.dtype, False, rtol, atol)
        difference = mismatch(have, want, r, a)
        if difference:
            problems.append(f"{path} of the loaded model differs: {difference}")
    if len(expected) != len(got):
        problems.append(
            f"the loaded model returns {len(got)} tensors, not {len(expected)}"
        )
    if not problems:
        return
    suspects = _suspects(saved, fresh)
    problems += [f"suspect {s}" for s in suspects]
    fail(
        problems,
        hint="state_dict() saves parameters and persistent buffers of registered "
        "submodules only: keep submodules in nn.ModuleList/nn.ModuleDict, tensors "
        "as nn.Parameter or register_buffer(...) (persistent unless rebuilt "
        "identically in __init__)",
    )
