"""``assert_causal``: the output at position t does not depend on inputs after t."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlqa.testing._core import (
    call_model,
    check,
    fail,
    fresh_copy,
    iter_tensors,
    map_tensors,
)
from mlqa.testing._state import seed_everything

if TYPE_CHECKING:
    import torch
    from torch import nn

#: Every forward pass starts from this seed, so noise is the same in each pass.
SEED = 0
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
    model: nn.Module, inputs: Any, dim: int, length: int
) -> list[torch.Tensor]:
    seed_everything(SEED)
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


def _perturb(tensor: torch.Tensor, dim: int, position: int) -> torch.Tensor:
    """Give ``tensor`` another value at ``position`` along ``dim``."""
    import torch

    tensor = tensor.clone()
    index = [slice(None)] * tensor.ndim
    index[dim] = slice(position, position + 1)
    part = tensor[tuple(index)]
    if tensor.is_floating_point() or tensor.is_complex():
        gen = torch.Generator().manual_seed(position)
        noise = torch.randn(part.shape, generator=gen, dtype=torch.float64)
        scale = float(tensor.double().std()) if tensor.numel() > 1 else 1.0
        tensor[tuple(index)] = part + (noise * (scale or 1.0) + 1.0).to(part)
    else:  # token ids: another id already in the tensor, so it is in range
        high, low = tensor.max(), tensor.min()
        other = torch.where(part != high, high, low)
        if bool((high == low).all()):
            other = torch.where(part == 0, 1, 0).to(part)
        tensor[tuple(index)] = other
    return tensor


def _value_leaks(model: nn.Module, inputs: Any, dim: int, length: int) -> Leaks:
    import torch

    leaks: Leaks = {}
    with torch.no_grad():
        base = _forward(model, inputs, dim, length)
        for later in _positions(length)[1:]:

            def change(tensor: torch.Tensor, later: int = later) -> torch.Tensor:
                if _is_sequence(tensor, dim, length):
                    return _perturb(tensor, dim, later)
                return tensor

            changed = _forward(model, map_tensors(inputs, change), dim, length)
            for before, after in zip(base, changed, strict=True):
                a, b = after.double(), before.double()
                same = (a == b) | (torch.isnan(a) & torch.isnan(b))
                finite = b[b.isfinite()]
                scale = max(1.0, float(finite.abs().max())) if finite.numel() else 1.0
                diff = torch.where(
                    same, 0.0, (a - b).abs().nan_to_num(nan=float("inf"))
                )
                bad = diff > RTOL * b.abs().nan_to_num() + ATOL * scale
                worst = _per_position(torch.where(bad, diff, 0.0), dim)
                for t in (worst[:later] > 0).nonzero().flatten().tolist():
                    effect = float(worst[t])
                    leaks[(t, later)] = max(leaks.get((t, later), 0.0), effect)
    return leaks


def _gradient_leaks(model: nn.Module, inputs: Any, dim: int, length: int) -> Leaks:
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
        outputs = [o for o in _forward(model, prepared, dim, length) if o.requires_grad]
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
    leaks = _value_leaks(copy, inputs, dim, length)
    seen_in_values = set(leaks)
    for pair, effect in _gradient_leaks(copy, inputs, dim, length).items():
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
