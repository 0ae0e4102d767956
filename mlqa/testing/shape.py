"""``assert_output_shape``: the model's output has the shape you expect."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mlqa.testing._core import (
    CheckFailure,
    batch_size,
    check,
    crash,
    describe,
    eval_forward,
    fail,
    fresh_copy,
    slice_batch,
)

if TYPE_CHECKING:
    import torch
    from torch import nn

#: One expected dimension: a size, None for any size, or a name that must agree.
Dim = int | str | None
#: Extra batch sizes assert_output_shape tries when the first dim is a name.
BATCH_SIZES = (1, 2)


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


def _dtype(dtype: object) -> torch.dtype | None:
    import torch

    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    found = getattr(torch, dtype, None) if isinstance(dtype, str) else None
    if not isinstance(found, torch.dtype):
        raise TypeError(f"dtype={dtype!r} is not a torch dtype (e.g. torch.float32)")
    return found


def _output(model: nn.Module, inputs: Any, pattern: tuple[Dim, ...]) -> torch.Tensor:
    import torch

    output = eval_forward(model, inputs)
    if not isinstance(output, torch.Tensor):
        fail(
            f"model returned {type(output).__name__}, expected a Tensor of shape {pattern}"
        )
    return output


@check
def assert_output_shape(
    model: nn.Module,
    inputs: Any,
    expected: Sequence[Dim],
    *,
    dtype: torch.dtype | str | None = None,
    batch_sizes: Sequence[int] = BATCH_SIZES,
) -> None:
    """Assert the model's output (in eval mode) has the expected shape (and dtype).

    When the first expected dimension is a name (``"B"``), the batch dimension,
    the model is also run on ``inputs[:n]`` for each ``n`` in ``batch_sizes``
    (smaller than the batch) and that output must match too with size ``n``:
    this catches ``squeeze()`` and ``view(B, ...)`` bugs that only a batch of one
    shows.

    Fails (AssertionError) when the output is not a single tensor, or its
    shape or dtype differs, listing each mismatch; raises TypeError when
    ``expected`` is not a valid pattern or ``dtype`` not a dtype.

    Args:
        model: The module; a deep copy is run in eval mode without gradients.
        inputs: A Tensor, a tuple of Tensors (positional) or a dict (keywords).
        expected: A tuple of ints, ``None`` (any size) or strings: named dims that
            must agree with each other, e.g. ``("B", 10)`` or ``("B", "T", "T")``.
        dtype: The output's dtype (``torch.float32`` or ``"float32"``); None to
            accept any.
        batch_sizes: The extra batch sizes tried when the first dim is a name;
            ``()`` to try none.
    """
    pattern = _validate(expected)
    want_dtype = _dtype(dtype)
    sizes = tuple(batch_sizes)
    if any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in sizes):
        raise TypeError(f"batch_sizes={sizes!r} must be positive integers")
    copy = fresh_copy(model, train=False)
    output = _output(copy, inputs, pattern)
    runs: list[tuple[str, int | None, torch.Tensor]] = [("", None, output)]
    problems = []
    if pattern and isinstance(pattern[0], str):
        full = batch_size(inputs)
        for extra in sorted({n for n in sizes if n < full}):
            label = f"with a batch of {extra} (inputs[:{extra}]): "
            try:
                sliced = _output(copy, slice_batch(inputs, full, extra), pattern)
            except CheckFailure as failure:
                problems += [label + p for p in failure.problems]
                continue
            except Exception as exc:  # noqa: BLE001 - a crash is the finding
                problems.append(f"{label}forward() raised {crash(exc)}")
                continue
            runs.append((label, extra, sliced))
    for label, size, out in runs:
        shape = tuple(out.shape)
        found = shape_problems(shape, pattern)
        if not found and size is not None and shape[0] != size:
            found = [f"dim 0 is {shape[0]}, expected {size}"]
        problems += [
            f"{label}output shape {shape} does not match {pattern}: {p}" for p in found
        ]
    if want_dtype is not None and output.dtype != want_dtype:
        name = str(want_dtype).removeprefix("torch.")
        problems.append(f"output dtype is {describe(output)}, expected {name}")
    if problems:
        fail(
            problems,
            hint="check the last layer's size and any reshape/squeeze/flatten in "
            "forward() (squeeze() also drops a batch dim of 1), and casts of the output",
        )
