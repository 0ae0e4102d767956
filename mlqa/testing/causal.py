"""``assert_causal``: the output at position t does not depend on inputs after t."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlqa.testing._core import (
    SameRandomness,
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

#: Longer sequences are probed at this many evenly spaced positions.
MAX_POSITIONS = 32
#: Output changes below ``RTOL * |output| + ATOL * scale`` are rounding, not a leak.
RTOL, ATOL = 1e-6, 1e-7

#: (t, t') -> the largest effect of input t' on output t.
Leaks = dict[tuple[int, int], float]


def _is_sequence(tensor: torch.Tensor, dim: int, length: int | None = None) -> bool:
    import torch

    return (
        tensor.dtype != torch.bool
        and tensor.ndim > dim
        and (length is None or tensor.shape[dim] == length)
    )


def _length(inputs: Any, dim: int) -> int:
    for _, tensor in iter_tensors(inputs, "inputs"):
        if _is_sequence(tensor, dim):
            return int(tensor.shape[dim])
    raise ValueError(f"dim={dim}: no input tensor has a dimension {dim}")


def _positions(length: int) -> list[int]:
    if length <= MAX_POSITIONS:
        return list(range(length))
    step = (length - 1) / (MAX_POSITIONS - 1)
    return sorted({round(i * step) for i in range(MAX_POSITIONS)})


def _forward(
    model: nn.Module, inputs: Any, dim: int, length: int, rng: SameRandomness
) -> list[torch.Tensor]:
    rng.restore()
    outputs = [
        t
        for _, t in iter_tensors(call_model(model, inputs), "output")
        if t.is_floating_point() and _is_sequence(t, dim, length)
    ]
    if not outputs:
        fail(
            f"no floating-point output has the sequence length {length} in dim {dim}",
            hint="pass dim= for the sequence dimension of inputs and outputs",
        )
    return outputs


def _per_position(tensor: torch.Tensor, dim: int) -> torch.Tensor:
    """The largest value at each position along ``dim`` (float64, on the CPU)."""
    moved = tensor.detach().movedim(dim, 0)
    return moved.reshape(moved.shape[0], -1).amax(dim=1).double().cpu()


def _replacement(tensor: torch.Tensor) -> torch.Tensor:
    """Other values for every position of ``tensor``: ids from the tensor, or noise."""
    import torch

    if tensor.is_floating_point() or tensor.is_complex():
        gen = torch.Generator().manual_seed(0)
        noise = torch.randn(tensor.shape, generator=gen, dtype=torch.float64)
        scale = float(tensor.double().std()) if tensor.numel() > 1 else 1.0
        return tensor + (noise * (scale or 1.0) + 1.0).to(tensor)
    high, low = tensor.max(), tensor.min()  # ids already in the tensor are in range
    if bool(high == low):
        return torch.where(tensor == 0, 1, 0).to(tensor)
    return torch.where(tensor != high, high, low)


class _Reference:
    """One output of the unchanged inputs, ready to compare changed outputs with."""

    def __init__(self, base: torch.Tensor) -> None:
        self.base = base
        self._tolerance: torch.Tensor | None = None

    def moved(self, other: torch.Tensor) -> torch.Tensor:
        """Where ``other`` differs beyond rounding (NaN equals NaN)."""
        import torch

        base = self.base
        if self._tolerance is None:  # built only once something moved
            finite = base[base.isfinite()]
            scale = float(finite.abs().max()) if finite.numel() else 1.0
            self._tolerance = RTOL * base.abs().nan_to_num() + ATOL * max(1.0, scale)
        close = (other - base).abs() <= self._tolerance
        return ~(close | (torch.isnan(base) & torch.isnan(other)))


def _value_leaks(
    model: nn.Module, inputs: Any, dim: int, length: int, rng: SameRandomness
) -> Leaks:
    import torch

    leaks: Leaks = {}
    with torch.no_grad():
        references = [_Reference(t) for t in _forward(model, inputs, dim, length, rng)]
        others = map_tensors(
            inputs,
            lambda t: _replacement(t) if _is_sequence(t, dim, length) else t,
        )
        for later in _positions(length)[1:]:

            def change(
                tensor: torch.Tensor, other: torch.Tensor, later: int = later
            ) -> torch.Tensor:
                if not _is_sequence(tensor, dim, length):
                    return tensor
                tensor = tensor.clone()
                tensor.narrow(dim, later, 1).copy_(other.narrow(dim, later, 1))
                return tensor

            changed = _zip_map(inputs, others, change)
            outputs = _forward(model, changed, dim, length, rng)
            if all(
                torch.equal(out.narrow(dim, 0, later), ref.base.narrow(dim, 0, later))
                for ref, out in zip(references, outputs, strict=True)
            ):
                continue  # bit-identical past: the common case, one op per output
            moved = [
                ref.moved(out).narrow(dim, 0, later)
                for ref, out in zip(references, outputs, strict=True)
            ]
            if not bool(torch.stack([m.any() for m in moved]).any()):
                continue
            for ref, out, bad in zip(references, outputs, moved, strict=True):
                diff = torch.where(
                    bad,
                    (out.narrow(dim, 0, later) - ref.base.narrow(dim, 0, later))
                    .abs()
                    .nan_to_num(nan=float("inf")),
                    0.0,
                )
                worst = _per_position(diff, dim)
                for t in (worst > 0).nonzero().flatten().tolist():
                    effect = float(worst[t])
                    leaks[(t, later)] = max(leaks.get((t, later), 0.0), effect)
    return leaks


def _zip_map(first: Any, second: Any, func: Any) -> Any:
    """``map_tensors`` over two structures of the same shape."""
    import torch

    if isinstance(first, torch.Tensor):
        return func(first, second)
    if isinstance(first, dict):
        return {k: _zip_map(v, second[k], func) for k, v in first.items()}
    if isinstance(first, (tuple, list)):
        return type(first)(
            _zip_map(a, b, func) for a, b in zip(first, second, strict=True)
        )
    return first


def _gradient_leaks(
    model: nn.Module, inputs: Any, dim: int, length: int, rng: SameRandomness
) -> Leaks:
    import torch

    leaves: list[torch.Tensor] = []

    def leaf(tensor: torch.Tensor) -> torch.Tensor:
        if tensor.is_floating_point() and _is_sequence(tensor, dim, length):
            tensor = tensor.detach().clone().requires_grad_(True)
            leaves.append(tensor)
        return tensor

    prepared = map_tensors(inputs, leaf)
    leaks: Leaks = {}
    if not leaves:
        return leaks
    with torch.enable_grad():
        outputs = [
            o for o in _forward(model, prepared, dim, length, rng) if o.requires_grad
        ]
        if not outputs:
            return leaks
        positions = _positions(length)[:-1]
        for number, t in enumerate(positions):
            total = sum(
                (o.select(dim, t) * (torch.rand_like(o.select(dim, t)) + 0.5)).sum()
                for o in outputs
            )
            assert isinstance(total, torch.Tensor)
            grads = torch.autograd.grad(
                total,
                leaves,
                retain_graph=number < len(positions) - 1,
                allow_unused=True,
            )
            strength = sum(
                _per_position(g.abs().nan_to_num(nan=0.0), dim)
                for g in grads
                if g is not None
            )
            if not isinstance(strength, torch.Tensor):
                continue
            for later in (strength[t + 1 :] > 0).nonzero().flatten().tolist():
                leaks[(t, t + 1 + later)] = float(strength[t + 1 + later])
    return leaks


@check
def assert_causal(model: nn.Module, inputs: Any, *, dim: int = 1) -> None:
    """Assert, in eval mode, that the output at position t ignores inputs after t.

    Each later position t' of the sequence inputs (every non-bool input tensor
    with the sequence length in ``dim``) is changed in turn and the outputs at
    positions t < t' must not move: token ids are replaced by another id of the
    same tensor, floats get noise. For floating-point inputs the gradient of the
    output at t with respect to every later input position must also be zero,
    which catches leaks too small to see in the values. Every forward pass
    starts from the same seed. Outputs checked: every floating tensor with the
    sequence length in ``dim``. Sequences longer than 32 are probed at 32
    evenly spaced positions.

    Fails (AssertionError) naming the first leaking (t, t') pair (the smallest
    t, then the smallest t') and how many pairs leak.

    Args:
        model: The module; a deep copy is run in eval mode.
        inputs: A Tensor, a tuple of Tensors (positional) or a dict (keywords).
        dim: The sequence dimension of the inputs and outputs (1 for
            ``(batch, time, ...)``).

    Raises:
        ValueError: If no input tensor has the dimension ``dim``.
    """
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 0:
        raise ValueError(f"dim={dim!r} must be a non-negative integer")
    length = _length(inputs, dim)
    copy = fresh_copy(model, train=False)
    rng = SameRandomness()  # every pass starts from the same random state
    leaks = _value_leaks(copy, inputs, dim, length, rng)
    seen_in_values = set(leaks)
    for pair, effect in _gradient_leaks(copy, inputs, dim, length, rng).items():
        leaks[pair] = max(leaks.get(pair, 0.0), effect)
    if not leaks:
        return
    t, later = min(leaks)
    how = "its value" if (t, later) in seen_in_values else "its gradient"
    problems = [
        f"first leaking pair (t, t') = ({t}, {later}): the output at position {t} "
        f"depends on the input at position {later} in dim {dim} "
        f"({how} moves, max |effect| {leaks[(t, later)]:.3g})"
    ]
    outputs = sorted({pair[0] for pair in leaks})
    shown = ", ".join(str(p) for p in outputs[:10])
    more = f" (+{len(outputs) - 10} more)" if len(outputs) > 10 else ""
    problems.append(
        f"{len(leaks)} leaking (t, t') pairs in all; outputs that see the future: "
        f"{shown}{more}"
    )
    fail(
        problems,
        hint="check the attention mask (triu(diagonal=1) masked to -inf, built for "
        "the right length and applied before softmax), padding of convolutions (pad "
        "on the left only), and pooling or normalisation over the time dimension",
    )
