"""The wrapper every assertion shares, and the small helpers they all need.

Like chex, each check raises one :class:`AssertionError` with one prefix
(``mlqa.<check> failed``) that lists every problem found, not just the first,
and runs inside :func:`~mlqa.testing._state.preserved_state`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

from mlqa.testing._copy import fresh_copy as fresh_copy
from mlqa.testing._state import preserved_state

if TYPE_CHECKING:
    import torch
    from torch import nn

P = ParamSpec("P")
R = TypeVar("R")

#: Problems listed in full; the rest are counted.
MAX_LISTED = 20

SPARKS = "▁▂▃▄▅▆▇█"


class CheckFailure(Exception):
    """Raised inside a check to stop it; the wrapper turns it into an AssertionError.

    Args:
        problems: One line per mismatch found.
        hint: What to try next, printed after the problems.
    """

    def __init__(self, problems: Sequence[str], hint: str | None = None) -> None:
        self.problems = list(problems)
        self.hint = hint
        super().__init__("; ".join(self.problems))


def fail(problems: str | Sequence[str], hint: str | None = None) -> NoReturn:
    """Stop the current check with one or more problems.

    Args:
        problems: A line, or one line per mismatch.
        hint: What to try next.

    Raises:
        CheckFailure: Always.
    """
    raise CheckFailure([problems] if isinstance(problems, str) else problems, hint)


def format_report(check: str, problems: Sequence[str], hint: str | None = None) -> str:
    """Render the one report format every check uses.

    Args:
        check: The assertion's name.
        problems: One line per mismatch.
        hint: What to try next.

    Returns:
        ``mlqa.<check> failed (N problems):`` followed by one bullet per problem.
    """
    count = len(problems)
    noun = "problem" if count == 1 else "problems"
    lines = [f"mlqa.{check} failed ({count} {noun}):"]
    for problem in problems[:MAX_LISTED]:
        first, *rest = problem.splitlines() or [""]
        lines.append(f"  - {first}")
        lines.extend(f"    {line}" for line in rest)
    if count > MAX_LISTED:
        lines.append(f"  ... and {count - MAX_LISTED} more")
    if hint:
        lines.append(f"  hint: {hint}")
    return "\n".join(lines)


def check(func: Callable[P, R]) -> Callable[P, R]:
    """Make ``func`` an mlqa check: state preserved, failures reported uniformly.

    Inside the check grad mode is on (a check called under ``torch.no_grad()``
    still trains its copy); the caller's grad mode is restored afterwards.

    Args:
        func: The check body; it calls :func:`fail` on a mismatch.

    Returns:
        The wrapped check, raising AssertionError with the shared report.
    """
    name = func.__name__

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        __tracebackhide__ = True  # pytest shows the caller's frame, not this one
        import torch

        with preserved_state():
            torch.set_grad_enabled(True)
            try:
                return func(*args, **kwargs)
            except CheckFailure as failure:
                report = format_report(name, failure.problems, failure.hint)
                raise AssertionError(report) from None

    return wrapper


# -- inputs and outputs ---------------------------------------------------------------


def call_model(model: nn.Module, inputs: Any) -> Any:
    """Call ``model`` the way the conventions say: tensor, tuple (positional), dict (keywords).

    Args:
        model: The module.
        inputs: A Tensor, a tuple/list of positional arguments, or a dict of keywords.

    Returns:
        Whatever the model returns.
    """
    if isinstance(inputs, Mapping):
        return model(**inputs)
    if isinstance(inputs, (tuple, list)):
        return model(*inputs)
    return model(inputs)


def iter_tensors(obj: Any, path: str = "") -> Iterator[tuple[str, torch.Tensor]]:
    """Yield ``(path, tensor)`` for every tensor in a nested output.

    Args:
        obj: A tensor, or tuples/lists/dicts of them.
        path: The prefix for the paths, e.g. ``output``.

    Yields:
        The path of each tensor (``output[0]``, ``output['logits']``) and the tensor.
    """
    import torch

    if isinstance(obj, torch.Tensor):
        yield path, obj
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            yield from iter_tensors(value, f"{path}[{key!r}]")
    elif isinstance(obj, (tuple, list)):
        for index, value in enumerate(obj):
            yield from iter_tensors(value, f"{path}[{index}]")


def map_tensors(obj: Any, func: Callable[[torch.Tensor], torch.Tensor]) -> Any:
    """Apply ``func`` to every tensor in a nested structure, keeping the structure.

    Args:
        obj: A tensor, or tuples/lists/dicts of them; other leaves are kept.
        func: The function to apply.

    Returns:
        The same structure with every tensor replaced by ``func(tensor)``.
    """
    import torch

    if isinstance(obj, torch.Tensor):
        return func(obj)
    if isinstance(obj, Mapping):
        return {key: map_tensors(value, func) for key, value in obj.items()}
    if isinstance(obj, tuple):
        return tuple(map_tensors(value, func) for value in obj)
    if isinstance(obj, list):
        return [map_tensors(value, func) for value in obj]
    return obj


class SameRandomness:
    """Start each forward pass from the same random state (Python, NumPy, torch).

    Python's and NumPy's global generators are reseeded (microseconds); torch's
    are restored to the state saved at construction, because
    ``torch.manual_seed`` costs a fraction of a millisecond. The check's wrapper
    restores the caller's state afterwards.
    """

    SEED = 0

    def __init__(self) -> None:
        import torch

        self._torch = torch.random.get_rng_state()
        ready = torch.cuda.is_initialized()  # type: ignore[no-untyped-call]
        self._cuda = torch.cuda.get_rng_state_all() if ready else None

    def restore(self) -> None:
        """Put every generator in the same state as at the previous call."""
        import random
        import sys

        import torch

        random.seed(self.SEED)
        numpy = sys.modules.get("numpy")
        if numpy is not None:
            numpy.random.seed(self.SEED)
        torch.random.set_rng_state(self._torch)
        if self._cuda is not None:
            torch.cuda.set_rng_state_all(self._cuda)


def eval_forward(model: nn.Module, inputs: Any) -> Any:
    """Run ``model`` on ``inputs`` without gradients.

    Args:
        model: The module, already in the mode wanted (usually an eval copy).
        inputs: A Tensor, tuple or dict of tensors.

    Returns:
        The outputs.
    """
    import torch

    with torch.no_grad():
        return call_model(model, inputs)


def slice_batch(inputs: Any, size: int, stop: int, start: int = 0) -> Any:
    """Take samples ``start:stop`` of every tensor whose first dimension is ``size``.

    Args:
        inputs: A Tensor, tuple or dict of tensors.
        size: The batch size; tensors with another leading size are kept whole.
        stop: One past the last sample kept.
        start: The first sample kept.

    Returns:
        The same structure, with the batched tensors sliced.
    """

    def take(tensor: torch.Tensor) -> torch.Tensor:
        if tensor.ndim and tensor.shape[0] == size:
            return tensor[start:stop]
        return tensor

    return map_tensors(inputs, take)


def mismatch(
    a: torch.Tensor, b: torch.Tensor, rtol: float = 0.0, atol: float = 0.0
) -> str | None:
    """Describe how ``a`` differs from ``b``, or None when they agree.

    NaN equals NaN and an infinity equals the same infinity; elsewhere
    ``|a - b| <= atol + rtol * |b|`` counts as equal.

    Args:
        a: A tensor.
        b: The reference tensor.
        rtol: Relative tolerance.
        atol: Absolute tolerance.

    Returns:
        ``"3 of 80 values differ, max |difference| 0.25 at (0, 2)"``, a shape or
        dtype difference, or None.
    """
    import torch

    if a.shape != b.shape:
        return f"shape {tuple(a.shape)} vs {tuple(b.shape)}"
    if a.dtype != b.dtype:
        return f"dtype {describe(a)} vs {describe(b)}"
    a, b = a.detach(), b.detach()
    if torch.equal(a, b):
        return None
    if not (a.is_floating_point() or a.is_complex()):
        bad = a != b
        return f"{int(bad.sum())} of {a.numel()} values differ"
    if a.is_complex():
        a, b = torch.view_as_real(a), torch.view_as_real(b)
    a, b = a.double(), b.double()
    diff = (a - b).abs()
    same = (a == b) | (torch.isnan(a) & torch.isnan(b))
    bad = ~same & ~(diff <= atol + rtol * b.abs())
    if not bool(bad.any()):
        return None
    worst = torch.where(bad, diff.nan_to_num(nan=float("inf")), 0.0)
    index = tuple(int(i) for i in torch.unravel_index(worst.argmax(), worst.shape))
    return (
        f"{int(bad.sum())} of {a.numel()} values differ, "
        f"max |difference| {float(worst.max()):.3g} at {index}"
    )


def crash(exc: BaseException) -> str:
    """Describe an exception in one line, for a report.

    Args:
        exc: The exception a model raised.

    Returns:
        ``IndexError: index 1 is out of bounds ...`` (its first line).
    """
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def batch_size(inputs: Any) -> int:
    """Return the leading dimension of the first tensor in ``inputs``.

    Args:
        inputs: A Tensor, tuple or dict of tensors.

    Returns:
        The batch size.
    """
    for path, tensor in iter_tensors(inputs, "inputs"):
        if tensor.ndim == 0:
            fail(f"{path} is a 0-d tensor: it has no batch dimension")
        return int(tensor.shape[0])
    fail("inputs contain no tensor")


def unpack_batch(batch: Any) -> tuple[Any, Any]:
    """Split a batch into ``(inputs, targets)``, with a clear error when it is not a pair.

    Args:
        batch: The ``(inputs, targets)`` pair.

    Returns:
        inputs and targets.
    """
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        fail(f"batch must be a pair (inputs, targets), got {type(batch).__name__}")
    return batch[0], batch[1]


def compute_loss(
    loss_fn: Callable[[Any, Any], torch.Tensor], outputs: Any, targets: Any
) -> torch.Tensor:
    """Call ``loss_fn`` and check it returned a scalar tensor.

    Args:
        loss_fn: ``loss_fn(outputs, targets)``.
        outputs: The model's outputs.
        targets: The batch's targets.

    Returns:
        The scalar loss.
    """
    import torch

    loss = loss_fn(outputs, targets)
    if not isinstance(loss, torch.Tensor):
        fail(f"loss_fn returned {type(loss).__name__}, expected a scalar Tensor")
    if loss.numel() != 1:
        fail(
            f"loss_fn returned a tensor of shape {tuple(loss.shape)}, expected a scalar"
        )
    return loss.reshape(())


def make_optimizer(
    factory: Callable[[Iterable[torch.nn.Parameter]], torch.optim.Optimizer] | None,
    model: nn.Module,
    lr: float,
) -> torch.optim.Optimizer:
    """Build the optimizer for a check: the user's factory, else Adam.

    Args:
        factory: ``optimizer_factory(params)`` or None.
        model: The module whose parameters are optimised.
        lr: Adam's learning rate when there is no factory.

    Returns:
        The optimizer.
    """
    import torch

    if factory is not None:
        return factory(model.parameters())
    return torch.optim.Adam(model.parameters(), lr=lr)


def describe(tensor: torch.Tensor) -> str:
    """Return ``shape (..), dtype`` for messages.

    Args:
        tensor: Any tensor.

    Returns:
        A short description.
    """
    dtype = str(tensor.dtype).removeprefix("torch.")
    return f"shape {tuple(tensor.shape)}, {dtype}"


def sparkline(values: Sequence[float], width: int = 40) -> str:
    """Draw ``values`` as a one-line sparkline (non-finite values as ``!``).

    Args:
        values: The series, e.g. a loss curve.
        width: The most characters to draw; longer series are subsampled.

    Returns:
        The sparkline.
    """
    import math

    if not values:
        return ""
    if len(values) > width:
        step = (len(values) - 1) / (width - 1)
        values = [values[round(i * step)] for i in range(width)]
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return "!" * len(values)
    low, high = min(finite), max(finite)
    span = high - low or 1.0
    chars = []
    for value in values:
        if not math.isfinite(value):
            chars.append("!")
        else:
            chars.append(
                SPARKS[min(len(SPARKS) - 1, int((value - low) / span * len(SPARKS)))]
            )
    return "".join(chars)
