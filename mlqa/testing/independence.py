"""``assert_batch_independent``: no sample's output depends on another sample's input."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlqa.testing._core import (
    SameRandomness,
    batch_size,
    call_model,
    check,
    crash,
    fail,
    fresh_copy,
    iter_tensors,
    map_tensors,
    mismatch,
    slice_batch,
)

if TYPE_CHECKING:
    import torch
    from torch import nn

#: (rtol, atol per unit of output scale) when a batch of one is compared with its
#: row of the full batch: other batch sizes may pick other kernels.
ROW_TOLERANCE = {"float16": (1e-2, 1e-3), "bfloat16": (5e-2, 1e-2)}
DEFAULT_ROW_TOLERANCE = (1e-4, 1e-5)
#: (rtol, atol per unit of output scale) for the other samples when one changes.
SAME_SHAPE_TOLERANCE = {"float16": (1e-3, 1e-4), "bfloat16": (1e-2, 1e-3)}
DEFAULT_SAME_SHAPE_TOLERANCE = (1e-6, 1e-7)

Outputs = list[tuple[str, "torch.Tensor"]]


def _forward(model: nn.Module, inputs: Any, rng: SameRandomness) -> Any:
    rng.restore()
    return call_model(model, inputs)


def _batched(outputs: Any, size: int) -> Outputs:
    """The floating outputs with the batch as their first dimension, by path."""
    found = [
        (path, t)
        for path, t in iter_tensors(outputs, "output")
        if t.ndim and t.shape[0] == size and t.is_floating_point()
    ]
    if not found:
        fail(
            f"no floating-point output has the batch size {size} as its first dimension"
        )
    return found


def _list(samples: list[int]) -> str:
    shown = ", ".join(str(s) for s in samples[:8])
    return shown + (f" (+{len(samples) - 8} more)" if len(samples) > 8 else "")


Pairs = dict[int, tuple[list[int], float]]


def _gradient_pairs(
    model: nn.Module, inputs: Any, size: int, rng: SameRandomness
) -> tuple[Pairs, Outputs]:
    """For each sample i, the other samples whose input gets a gradient from output i."""
    import torch

    leaves: list[torch.Tensor] = []

    def leaf(tensor: torch.Tensor) -> torch.Tensor:
        if tensor.is_floating_point() and tensor.ndim and tensor.shape[0] == size:
            tensor = tensor.detach().clone().requires_grad_(True)
            leaves.append(tensor)
        return tensor

    prepared = map_tensors(inputs, leaf)
    with torch.enable_grad():
        named = _batched(_forward(model, prepared, rng), size)
        outputs = [t for _, t in named]
        base = [(path, t.detach()) for path, t in named]
        weights = [
            torch.rand(o.shape[1:], dtype=o.dtype, device=o.device) + 0.5
            for o in outputs
        ]
        # strength[i, j]: the largest |d output_i / d input_j|, kept on the device
        rows = []
        for i in range(size):
            total = sum(
                (out[i] * w).sum() for out, w in zip(outputs, weights, strict=True)
            )
            if not isinstance(total, torch.Tensor) or not total.requires_grad:
                rows.append(
                    torch.zeros(size, dtype=torch.float64, device=leaves[0].device)
                )
                continue
            grads = torch.autograd.grad(
                total, leaves, retain_graph=i < size - 1, allow_unused=True
            )
            row = sum(
                g.detach().abs().reshape(size, -1).amax(dim=1).double()
                for g in grads
                if g is not None
            )
            if not isinstance(row, torch.Tensor):
                row = torch.zeros(size, dtype=torch.float64, device=leaves[0].device)
            rows.append(row)
    strength = torch.stack(rows).cpu()
    strength.fill_diagonal_(0)
    pairs: Pairs = {}
    if not bool(strength.any()):
        return pairs, base
    for i in range(size):
        others = strength[i].nonzero().flatten().tolist()
        if others:
            pairs[i] = (others, float(strength[i].max()))
    return pairs, base


def _perturbation_pairs(
    model: nn.Module, inputs: Any, size: int, rng: SameRandomness
) -> tuple[Pairs, Outputs]:
    """For integer-only inputs: change sample j, see which other outputs move."""
    import torch

    with torch.no_grad():
        named = _batched(_forward(model, inputs, rng), size)
        base = [t for _, t in named]
        pairs: Pairs = {}
        for j in range(size):
            source = (j + 1) % size

            def swap(
                tensor: torch.Tensor, j: int = j, source: int = source
            ) -> torch.Tensor:
                if tensor.ndim and tensor.shape[0] == size:
                    tensor = tensor.clone()
                    tensor[j] = tensor[source]
                return tensor

            changed = [
                t
                for _, t in _batched(
                    _forward(model, map_tensors(inputs, swap), rng), size
                )
            ]
            for a, b in zip(base, changed, strict=True):
                delta = (a - b).abs().reshape(size, -1).amax(dim=1).double().cpu()
                delta[j] = 0
                for i in delta.nonzero().flatten().tolist():
                    others, worst = pairs.get(i, ([], 0.0))
                    if j not in others:
                        others.append(j)
                    pairs[i] = (others, max(worst, float(delta[i])))
    return pairs, named


def _tolerance(
    table: dict[str, tuple[float, float]],
    default: tuple[float, float],
    reference: torch.Tensor,
) -> tuple[float, float]:
    rtol, atol = table.get(str(reference.dtype).removeprefix("torch."), default)
    finite = reference[reference.isfinite()]
    scale = max(1.0, float(finite.abs().max())) if finite.numel() else 1.0
    return rtol, atol * scale


def _rows_moved(
    a: torch.Tensor, b: torch.Tensor, rtol: float, atol: float
) -> list[int]:
    """The samples whose rows differ (NaN equals NaN)."""
    import torch

    a, b = a.double().reshape(a.shape[0], -1), b.double().reshape(b.shape[0], -1)
    same = (a == b) | (torch.isnan(a) & torch.isnan(b))
    close = same | ((a - b).abs() <= atol + rtol * b.abs())
    return [int(i) for i in (~close.all(dim=1)).nonzero().flatten().tolist()]


def _changed_sample(
    model: nn.Module, inputs: Any, size: int, base: Outputs, rng: SameRandomness
) -> list[str]:
    """Give sample 0 another input; the other samples' outputs must not move."""
    import torch

    def change(tensor: torch.Tensor) -> torch.Tensor:
        if tensor.ndim and tensor.shape[0] == size and tensor.dtype != torch.bool:
            tensor = tensor.clone()
            tensor[0] = tensor[1] + 0.5 if tensor.is_floating_point() else tensor[1]
        return tensor

    with torch.no_grad():
        changed = dict(
            _batched(_forward(model, map_tensors(inputs, change), rng), size)
        )
    problems = []
    for path, before in base:
        after = changed.get(path)
        if after is None or after.shape != before.shape:
            continue
        if torch.equal(after[1:], before[1:]):
            continue  # the common case: bit-identical, one op
        rtol, atol = _tolerance(
            SAME_SHAPE_TOLERANCE, DEFAULT_SAME_SHAPE_TOLERANCE, before
        )
        moved = [i for i in _rows_moved(after, before, rtol, atol) if i != 0]
        if moved:
            others = after.clone()
            others[0] = before[0]  # sample 0 was changed on purpose
            worst = mismatch(others, before, rtol, atol)
            problems.append(
                f"changing the input of sample 0 moved {path} of sample(s) "
                f"{_list(moved)} though no gradient shows it (detached or "
                f"non-differentiable mixing): {worst}"
            )
    return problems


def _batch_of_one(
    model: nn.Module, inputs: Any, size: int, base: Outputs, rng: SameRandomness
) -> list[str]:
    """Run sample 0 alone; its output must match its row of the full batch."""
    import torch

    try:
        with torch.no_grad():
            alone = dict(
                iter_tensors(
                    _forward(model, slice_batch(inputs, size, 1), rng), "output"
                )
            )
    except Exception as exc:  # noqa: BLE001 - a crash on a batch of one is the finding
        return [f"with a batch of one (inputs[:1]) forward() raised {crash(exc)}"]
    problems = []
    for path, full in base:
        want = (1, *full.shape[1:])
        single = alone.get(path)
        if single is None:
            problems.append(f"with a batch of one (inputs[:1]) the model has no {path}")
            continue
        if tuple(single.shape) != want:
            problems.append(
                f"with a batch of one (inputs[:1]) {path} has shape "
                f"{tuple(single.shape)}, expected {want}"
            )
            continue
        if torch.equal(single, full[:1]):
            continue
        rtol, atol = _tolerance(ROW_TOLERANCE, DEFAULT_ROW_TOLERANCE, full[:1])
        difference = mismatch(single.to(full.dtype), full[:1], rtol, atol)
        if difference:
            problems.append(
                f"{path} of sample 0 alone (inputs[:1]) differs from its row in the "
                f"batch of {size}: {difference}"
            )
    return problems


@check
def assert_batch_independent(model: nn.Module, inputs: Any) -> None:
    """Assert, in eval mode, that sample i's output does not depend on sample j's input.

    Three tests, all in eval mode with every forward pass started from the same
    seed (so noise, seeded or not, is no false alarm when eval mode turns it off):

    - floating-point inputs: the gradient of each sample's (randomly weighted)
      output with respect to every input; a non-zero gradient on another sample
      is a dependency. Integer-only inputs (token ids): each sample is changed in
      turn and the others' outputs watched.
    - values, past autograd: sample 0 gets another input and the other samples'
      outputs must not move (catches mixing through ``detach()``, ``no_grad``
      or integer ops, which no gradient shows).
    - a batch of one: sample 0 alone must give an output of shape
      ``(1, ...)`` that matches its row of the full batch.

    NaN compares equal to NaN. Fails (AssertionError) naming the sample pairs
    where output i depends on input j, the samples that moved, and a batch of one
    with the wrong shape or values.

    Args:
        model: The module; a deep copy is run in eval mode.
        inputs: A Tensor, a tuple of Tensors (positional) or a dict (keywords), all
            with the batch as their first dimension (at least 2 samples).

    Raises:
        ValueError: If the batch has fewer than 2 samples.
    """
    size = batch_size(inputs)
    if size < 2:
        raise ValueError(
            f"inputs have batch size {size}: batch independence needs at least 2 samples"
        )
    copy = fresh_copy(model, train=False)
    rng = SameRandomness()  # every pass starts from the same random state
    has_float = any(
        t.is_floating_point() and t.ndim and t.shape[0] == size
        for _, t in iter_tensors(inputs)
    )
    if has_float:
        pairs, base = _gradient_pairs(copy, inputs, size, rng)
    else:
        pairs, base = _perturbation_pairs(copy, inputs, size, rng)
    problems = []
    if pairs:
        if len(pairs) == size and all(
            len(others) == size - 1 for others, _ in pairs.values()
        ):
            worst = max(w for _, w in pairs.values())
            problems = [
                f"every sample's output depends on every other sample's input "
                f"(all {size * (size - 1)} pairs; max |effect| {worst:.3g})"
            ]
        else:
            problems = [
                f"output of sample {i} depends on the input of sample(s) {_list(others)} "
                f"(max |effect| {worst:.3g})"
                for i, (others, worst) in sorted(pairs.items())
            ]
    elif has_float:
        problems = _changed_sample(copy, inputs, size, base, rng)
    problems += _batch_of_one(copy, inputs, size, base, rng)
    if problems:
        fail(
            problems,
            hint="something mixes the batch: a reduction or normalisation over dim 0 "
            "(x.mean(0), softmax(dim=0)), a view/reshape that moves the batch dim, "
            "BatchNorm used in eval mode without running statistics; or squeeze() "
            "drops a batch of one",
        )
