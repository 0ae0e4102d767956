"""``assert_device_parity``: the model computes the same thing on an accelerator as on CPU."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlqa.testing._core import (
    call_model,
    check,
    describe,
    fail,
    fresh_copy,
    iter_tensors,
    map_tensors,
)

if TYPE_CHECKING:
    import torch
    from torch import nn

#: Default (rtol, atol) per dtype, as in torch.testing.assert_close.
TOLERANCES: dict[str, tuple[float, float]] = {
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
    "complex64": (1.3e-6, 1e-5),
    "complex128": (1e-7, 1e-7),
}
#: float32 tolerance when TF32 is on (a 10-bit mantissa in matmuls/convolutions).
TF32_TOLERANCE = (1e-2, 1e-3)


def device_unavailable(device: str) -> str | None:
    """Tell why ``device`` cannot be used here, or None when it can.

    Args:
        device: A torch device string: ``cpu``, ``cuda``, ``cuda:1``, ``mps`` ...

    Returns:
        A reason such as ``"CUDA is not available (torch 2.3.0+cpu)"``, or None.
    """
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        return f"{device!r} is not a torch device ({exc})"
    if parsed.type == "cpu":
        return None
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            return f"CUDA is not available (torch {torch.__version__})"
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            return (
                f"{device} is not present ({torch.cuda.device_count()} CUDA device(s))"
            )
        return None
    if parsed.type == "mps":
        return None if torch.backends.mps.is_available() else "MPS is not available"
    try:
        torch.zeros(1, device=parsed)
    except Exception as exc:  # noqa: BLE001 - any backend failure means "unavailable"
        return f"{device} is not usable: {exc}"
    return None


def tf32_enabled(device: torch.device) -> bool:
    """Tell whether float32 matmuls or convolutions on ``device`` may use TF32.

    Args:
        device: The target device.

    Returns:
        True on CUDA when ``torch.backends.cuda.matmul.allow_tf32`` or
        ``torch.backends.cudnn.allow_tf32`` is on.
    """
    import torch

    return device.type == "cuda" and bool(
        torch.backends.cuda.matmul.allow_tf32 or torch.backends.cudnn.allow_tf32
    )


def tolerance(
    dtype: torch.dtype, tf32: bool, rtol: float | None, atol: float | None
) -> tuple[float, float]:
    """Return the (rtol, atol) to compare tensors of ``dtype``.

    Args:
        dtype: The tensors' dtype.
        tf32: Whether TF32 may be used on the device.
        rtol: The caller's rtol, or None for the default.
        atol: The caller's atol, or None for the default.

    Returns:
        The tolerances; 0, 0 (exact) for integer and bool tensors.
    """
    name = str(dtype).removeprefix("torch.")
    default = TOLERANCES.get(name, (0.0, 0.0))
    if tf32 and name in ("float32", "complex64"):
        default = TF32_TOLERANCE
    return (default[0] if rtol is None else rtol, default[1] if atol is None else atol)


def _run(
    model: nn.Module, inputs: Any, weights: list[torch.Tensor] | None
) -> tuple[list[tuple[str, torch.Tensor]], list[torch.Tensor]]:
    import torch

    with torch.enable_grad():
        outputs = list(iter_tensors(call_model(model, inputs), "output"))
        if weights is None:
            weights = [
                (
                    torch.rand(t.shape, dtype=t.dtype)
                    if t.is_floating_point()
                    else torch.zeros(0)
                )
                for _, t in outputs
            ]
        total = sum(
            (t * w.to(t.device)).sum()
            for (_, t), w in zip(outputs, weights, strict=True)
            if t.is_floating_point() and t.requires_grad
        )
        record = [(path, t.detach().cpu()) for path, t in outputs]
        if isinstance(total, torch.Tensor):
            torch.autograd.backward(total)
        for name, param in model.named_parameters():
            if param.grad is not None:
                record.append((f"gradient of {name!r}", param.grad.detach().cpu()))
    return record, weights


@check
def assert_device_parity(
    model: nn.Module,
    inputs: Any,
    *,
    device: str = "cuda",
    rtol: float | None = None,
    atol: float | None = None,
) -> None:
    """Assert outputs and parameter gradients on ``device`` match the CPU's.

    Both copies run in eval mode; the gradients are those of a fixed random
    weighting of the outputs. Default tolerances depend on the dtype, as in
    :func:`torch.testing.assert_close`, loosened for float32 when TF32 is on.

    Fails (AssertionError) listing every output and gradient that differs;
    calls ``pytest.skip`` when ``device`` is not available here.

    Args:
        model: The module (on any device); deep copies are moved to CPU and ``device``.
        inputs: A Tensor, a tuple of Tensors (positional) or a dict (keywords).
        device: The device to compare with the CPU.
        rtol: Relative tolerance; None for the dtype's default.
        atol: Absolute tolerance; None for the dtype's default.
    """
    import pytest
    import torch

    reason = device_unavailable(device)
    if reason is not None:
        pytest.skip(f"assert_device_parity(device={device!r}) skipped: {reason}")
    target = torch.device(device)
    tf32 = tf32_enabled(target)
    cpu_model = fresh_copy(model, train=False).cpu()
    dev_model = fresh_copy(model, train=False).to(target)
    cpu_record, weights = _run(cpu_model, map_tensors(inputs, lambda t: t.cpu()), None)
    dev_record, _ = _run(
        dev_model, map_tensors(inputs, lambda t: t.to(target)), weights
    )
    problems = []
    for (name, expected), (_, actual) in zip(cpu_record, dev_record, strict=True):
        if expected.shape != actual.shape or expected.dtype != actual.dtype:
            problems.append(
                f"{name}: cpu gives {describe(expected)}, {device} gives {describe(actual)}"
            )
            continue
        r, a = tolerance(expected.dtype, tf32, rtol, atol)
        if expected.is_floating_point() or expected.is_complex():
            close = torch.isclose(actual, expected, rtol=r, atol=a, equal_nan=True)
        else:
            close = actual == expected
        if bool(close.all()):
            continue
        bad = int((~close).sum())
        diff = (actual.double() - expected.double()).abs().nan_to_num(nan=float("inf"))
        where = tuple(int(i) for i in torch.unravel_index(diff.argmax(), diff.shape))
        problems.append(
            f"{name}: {bad} of {expected.numel()} values differ beyond rtol={r:g}, atol={a:g} "
            f"(max |difference| {float(diff.max()):.3g} at {where}: cpu {expected[where].item():.6g}, "
            f"{device} {actual[where].item():.6g})"
        )
    if len(cpu_record) != len(dev_record):
        problems.append(
            f"cpu recorded {len(cpu_record)} tensors, {device} {len(dev_record)}"
        )
    if problems:
        note = (
            " TF32 is on (torch.backends.cuda.matmul/cudnn.allow_tf32): float32 tolerance is 1e-2."
            if tf32
            else ""
        )
        fail(
            problems,
            hint="device-dependent code paths, uninitialised memory (torch.empty), or "
            "precision: pass rtol=/atol= if the difference is expected." + note,
        )
