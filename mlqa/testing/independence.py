"""``assert_batch_independent``: no sample's output depends on another sample's input."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlqa.testing._core import (
    batch_size,
    call_model,
    check,
    fail,
    fresh_copy,
    iter_tensors,
    map_tensors,
)

if TYPE_CHECKING:
    import torch
    from torch import nn


def _batched_outputs(outputs: Any, size: int) -> list[torch.Tensor]:
    found = [
        t
        for _, t in iter_tensors(outputs)
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


def _gradient_pairs(
    model: nn.Module, inputs: Any, size: int
) -> dict[int, tuple[list[int], float]]:
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
        outputs = _batched_outputs(call_model(model, prepared), size)
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
    pairs: dict[int, tuple[list[int], float]] = {}
    if not bool(strength.any()):
        return pairs
    for i in range(size):
        others = strength[i].nonzero().flatten().tolist()
        if others:
            pairs[i] = (others, float(strength[i].max()))
    return pairs


def _perturbation_pairs(
    model: nn.Module, inputs: Any, size: int
) -> dict[int, tuple[list[int], float]]:
    """For integer-only inputs: change sample j, see which other outputs move."""
    import torch

    with torch.no_grad():
        base = _batched_outputs(call_model(model, inputs), size)
        pairs: dict[int, tuple[list[int], float]] = {}
        for j in range(size):
            source = (j + 1) % size

            def swap(
                tensor: torch.Tensor, j: int = j, source: int = source
            ) -> torch.Tensor:
                if tensor.ndim and tensor.shape[0] == size:
                    tensor = tensor.clone()
                    tensor[j] = tensor[source]
                return tensor

            changed = _batched_outputs(
                call_model(model, map_tensors(inputs, swap)), size
            )
            for a, b in zip(base, changed, strict=True):
                delta = (a - b).abs().reshape(size, -1).amax(dim=1).double().cpu()
                delta[j] = 0
                for i in delta.nonzero().flatten().tolist():
                    others, worst = pairs.get(i, ([], 0.0))
                    if j not in others:
                        others.append(j)
                    pairs[i] = (others, max(worst, float(delta[i])))
    return pairs


@check
def assert_batch_independent(model: nn.Module, inputs: Any) -> None:
    """Assert, in eval mode, that sample i's output does not depend on sample j's input.

    For floating-point inputs the check takes the gradient of each sample's
    (randomly weighted) output with respect to every input; any non-zero gradient
    on another sample is a dependency. Integer-only inputs (token ids) are checked
    by changing one sample at a time and watching the others' outputs.

    Fails (AssertionError) naming the sample pairs where output i depends on
    input j.

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
    has_float = any(
        t.is_floating_point() and t.ndim and t.shape[0] == size
        for _, t in iter_tensors(inputs)
    )
    pairs = (
        _gradient_pairs(copy, inputs, size)
        if has_float
        else _perturbation_pairs(copy, inputs, size)
    )
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
        fail(
            problems,
            hint="something mixes the batch: a reduction or normalisation over dim 0 "
            "(x.mean(0), softmax(dim=0)), a view/reshape that moves the batch dim, or "
            "BatchNorm used in eval mode without running statistics",
        )
