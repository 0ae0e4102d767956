"""``assert_output_shape``: the model's output has the shape you expect."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mlqa.testing._core import call_model, check, fail, fresh_copy

if TYPE_CHECKING:
    from torch import nn

#: One expected dimension: a size, None for any size, or a name that must agree.
Dim = int | str | None


def shape_problems(actual: Sequence[int], expected: Sequence[Dim]) -> list[str]:
    """Compare a shape with an expected pattern.

    Args:
        actual: The shape found.
        expected: Sizes, ``None`` (any size) or names (equal sizes for equal names).

    Returns:
        One line per mismatch; empty when the shape matches.
    """
    if len(actual) != len(expected):
        return [f"rank {len(actual)} != expected rank {len(expected)}"]
    problems = []
    bound: dict[str, tuple[int, int]] = {}
    for axis, (size, want) in enumerate(zip(actual, expected, strict=True)):
        if want is None:
            continue
        if isinstance(want, str):
            if want in bound and bound[want][1] != size:
                first_axis, first_size = bound[want]
                problems.append(
                    f"dim {axis} is {size} but named dim {want!r} was {first_size} at dim {first_axis}"
                )
            bound.setdefault(want, (axis, size))
        elif size != want:
            problems.append(f"dim {axis} is {size}, expected {want}")
    return problems


def _validate(expected: object) -> tuple[Dim, ...]:
    if not isinstance(expected, (tuple, list)):
        raise TypeError(f"expected={expected!r} must be a tuple of ints, None or names")
    for dim in expected:
        if dim is not None and (
            isinstance(dim, bool) or not isinstance(dim, (int, str))
        ):
            raise TypeError(
                f"expected={tuple(expected)!r}: {dim!r} is not an int, None or a name"
            )
        if isinstance(dim, int) and dim < 0:
            raise TypeError(f"expected={tuple(expected)!r}: size {dim} is negative")
    return tuple(expected)


@check
def assert_output_shape(model: nn.Module, inputs: Any, expected: Sequence[Dim]) -> None:
    """Assert the model's output (in eval mode) has the expected shape.

    Fails (AssertionError) when the output is not a single tensor or its
    shape differs, listing each mismatching dimension; raises TypeError when
    ``expected`` is not a valid pattern.

    Args:
        model: The module; a deep copy is run in eval mode without gradients.
        inputs: A Tensor, a tuple of Tensors (positional) or a dict (keywords).
        expected: A tuple of ints, ``None`` (any size) or strings: named dims that
            must agree with each other, e.g. ``("B", 10)`` or ``("B", "T", "T")``.
    """
    import torch

    pattern = _validate(expected)
    copy = fresh_copy(model, train=False)
    with torch.no_grad():
        output = call_model(copy, inputs)
    if not isinstance(output, torch.Tensor):
        fail(
            f"model returned {type(output).__name__}, expected a Tensor of shape {pattern}"
        )
    problems = shape_problems(tuple(output.shape), pattern)
    if problems:
        fail(
            [
                f"output shape {tuple(output.shape)} does not match {pattern}: {p}"
                for p in problems
            ],
            hint="check the last layer's size and any reshape/squeeze/flatten in forward()",
        )
