"""Hypothesis strategies for tensors, shapes with named dimensions, batch sizes and MLPs.

Built on :mod:`hypothesis.extra.numpy`: values are drawn as NumPy arrays (so
Hypothesis shrinks them well) and turned into torch tensors at the end. torch is
imported when a strategy is drawn from, not when this module is imported.

Example:
    >>> from hypothesis import given
    >>> from mlqa import strategies as mst
    >>> @given(mst.shapes(("B", 3), ("B",)).flatmap(
    ...     lambda s: st.tuples(mst.tensors("float32", s[0], min_value=-1, max_value=1),
    ...                         mst.tensors("int64", s[1], min_value=0, max_value=9))))
    ... def test_loss(batch): ...

Conventions: value arguments come first and bounds are keyword-only
(``min_side=``, ``max_side=``); unset bounds get defaults; a bad argument raises
:class:`hypothesis.errors.InvalidArgument` with a ``name=value`` message.

GPU use:
    * Turn the deadline off for CUDA: ``@settings(deadline=None)``. The first
      example pays for CUDA context creation and kernel loading (hundreds of ms),
      which Hypothesis would report as a flaky deadline error.
    * Draw on CPU (the default ``device="cpu"``) and move inside the test, or
      pass ``device="cuda"``; either way keep ``max_examples`` small, since every
      example launches kernels.
    * Compare against CPU with tolerances (see
      :func:`mlqa.testing.assert_device_parity`), and use the
      ``mlqa_deterministic`` fixture where bitwise reproducibility matters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra import numpy as hnp

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["batch_sizes", "dims", "mlps", "shapes", "tensors"]

#: Default largest side of a drawn dimension.
MAX_SIDE = 8
#: Default largest batch size.
MAX_BATCH = 32

Dim = int | str | None
_ACTIVATIONS = ("tanh", "relu", "gelu", "sigmoid", "identity")


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidArgument(f"{name}={value!r} must be an integer")
    if value < minimum:
        raise InvalidArgument(f"{name}={value!r} must be >= {minimum}")
    return int(value)


def _check_range(low_name: str, low: int, high_name: str, high: int) -> None:
    if low > high:
        raise InvalidArgument(f"{low_name}={low!r} must be <= {high_name}={high!r}")


def _sides(min_side: int, max_side: int) -> st.SearchStrategy[int]:
    _check_int("min_side", min_side, 0)
    _check_int("max_side", max_side, 0)
    _check_range("min_side", min_side, "max_side", max_side)
    return st.integers(min_side, max_side)


def batch_sizes(
    *, min_size: int = 1, max_size: int = MAX_BATCH
) -> st.SearchStrategy[int]:
    """Batch sizes, shrinking towards ``min_size``.

    Args:
        min_size: The smallest batch (use 2 for checks that compare samples).
        max_size: The largest batch.

    Returns:
        A strategy of ints.
    """
    _check_int("min_size", min_size, 1)
    _check_int("max_size", max_size, 1)
    _check_range("min_size", min_size, "max_size", max_size)
    return st.integers(min_size, max_size)


def dims(
    names: Iterable[str],
    *,
    min_side: int = 1,
    max_side: int = MAX_SIDE,
    fixed: Mapping[str, int] | None = None,
) -> st.SearchStrategy[dict[str, int]]:
    """Sizes for named dimensions: ``{"B": 4, "T": 7}``.

    Args:
        names: The dimension names.
        min_side: The smallest size.
        max_side: The largest size.
        fixed: Sizes that are not drawn, e.g. ``{"C": 3}``.

    Returns:
        A strategy of dicts name -> size.

    Raises:
        InvalidArgument: For a bad argument, as ``name=value`` and the rule broken.
    """
    sides = _sides(min_side, max_side)
    fixed = dict(fixed or {})
    for name, size in fixed.items():
        _check_int(f"fixed[{name!r}]", size, 0)
    ordered = list(dict.fromkeys(names))
    for name in ordered:
        if not isinstance(name, str):
            raise InvalidArgument(f"names={ordered!r}: {name!r} is not a string")
    return st.fixed_dictionaries(
        {name: st.just(fixed[name]) if name in fixed else sides for name in ordered}
    )


def _check_spec(index: int, spec: object) -> tuple[Dim, ...]:
    if not isinstance(spec, (tuple, list)):
        raise InvalidArgument(
            f"specs[{index}]={spec!r} must be a tuple of sizes, names or None"
        )
    for dim in spec:
        if dim is None or isinstance(dim, str):
            continue
        _check_int(f"specs[{index}] dim", dim, 0)
    return tuple(spec)


def shapes(
    *specs: Sequence[Dim],
    min_side: int = 1,
    max_side: int = MAX_SIDE,
    fixed: Mapping[str, int] | None = None,
) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """Shapes for several tensors whose named dimensions agree.

    Each spec is a tuple of ints (fixed sizes), strings (named dims, drawn once
    and shared by every spec that names them) and ``None`` (drawn independently).
    ``shapes(("B", "T", 16), ("B", "T"))`` draws e.g. ``((3, 5, 16), (3, 5))``.

    Args:
        *specs: One pattern per tensor.
        min_side: The smallest drawn size.
        max_side: The largest drawn size.
        fixed: Sizes for some names that are not drawn, e.g. ``{"B": 2}``.

    Returns:
        A strategy of tuples of shapes, one per spec, in order.

    Raises:
        InvalidArgument: For a bad argument, as ``name=value`` and the rule broken.
    """
    checked = [_check_spec(i, spec) for i, spec in enumerate(specs)]
    if not checked:
        raise InvalidArgument("shapes() needs at least one spec")
    sides = _sides(min_side, max_side)
    names = [d for spec in checked for d in spec if isinstance(d, str)]
    named = dims(names, min_side=min_side, max_side=max_side, fixed=fixed)

    @st.composite
    def draw_shapes(draw: st.DrawFn) -> tuple[tuple[int, ...], ...]:
        sizes = draw(named)
        return tuple(
            tuple(
                (
                    d
                    if isinstance(d, int)
                    else sizes[d] if isinstance(d, str) else draw(sides)
                )
                for d in spec
            )
            for spec in checked
        )

    return draw_shapes()


def _numpy_dtype(dtype: object) -> tuple[np.dtype[Any], str]:
    name = str(dtype).removeprefix("torch.")
    if name == "bfloat16":
        return np.dtype("float32"), name
    try:
        np_dtype = np.dtype(name)
    except TypeError:
        raise InvalidArgument(f"dtype={dtype!r} is not a tensor dtype") from None
    if np_dtype.kind not in "biufc":
        raise InvalidArgument(f"dtype={dtype!r} is not a numeric or bool dtype")
    return np_dtype, name


def _inward(value: float | None, dtype: np.dtype[Any], *, up: bool) -> float | None:
    """Round a bound to the nearest value ``dtype`` represents, inside the range."""
    if value is None:
        return None
    rounded = dtype.type(value)
    if up and float(rounded) < value:
        rounded = np.nextafter(rounded, dtype.type(np.inf))
    elif not up and float(rounded) > value:
        rounded = np.nextafter(rounded, dtype.type(-np.inf))
    return float(rounded)


def tensors(
    dtype: Any = "float32",
    shape: int | Sequence[int] | st.SearchStrategy[Sequence[int]] = (),
    *,
    min_value: float | None = None,
    max_value: float | None = None,
    allow_nan: bool = False,
    allow_infinity: bool = False,
    unique: bool = False,
    device: str = "cpu",
    requires_grad: bool = False,
) -> st.SearchStrategy[torch.Tensor]:
    """Tensors of a dtype and shape with values in a range.

    Args:
        dtype: A torch dtype or its name (``"float32"``, ``torch.int64``,
            ``"bfloat16"``: drawn as float32, then rounded).
        shape: A shape, a size for a 1-d tensor, or a strategy of shapes
            (e.g. ``shapes(("B", 3)).map(lambda s: s[0])``).
        min_value: The smallest value (default: the dtype's); rounded inwards to
            the nearest value the dtype represents (0.1 works for float32).
        max_value: The largest value (default: the dtype's), rounded the same way.
        allow_nan: Allow NaN (floats only).
        allow_infinity: Allow +-inf (floats only, when unbounded).
        unique: Draw distinct values.
        device: The device the tensor is moved to.
        requires_grad: Mark float tensors as requiring grad.

    Returns:
        A strategy of tensors.

    Raises:
        InvalidArgument: For a bad argument, as ``name=value`` and the rule broken.
    """
    np_dtype, name = _numpy_dtype(dtype)
    if min_value is not None and max_value is not None and min_value > max_value:
        raise InvalidArgument(
            f"min_value={min_value!r} must be <= max_value={max_value!r}"
        )
    if requires_grad and np_dtype.kind not in "fc":
        raise InvalidArgument(
            f"requires_grad=True needs a floating dtype, not dtype={name!r}"
        )
    if np_dtype.kind == "b":
        elements: st.SearchStrategy[Any] = st.booleans()
    elif np_dtype.kind == "f":
        elements = hnp.from_dtype(
            np_dtype,
            min_value=_inward(min_value, np_dtype, up=True),
            max_value=_inward(max_value, np_dtype, up=False),
            allow_nan=allow_nan,
            allow_infinity=(
                allow_infinity if min_value is None and max_value is None else False
            ),
            allow_subnormal=False,
        )
    elif np_dtype.kind == "c":
        elements = hnp.from_dtype(
            np_dtype, allow_nan=allow_nan, allow_infinity=allow_infinity
        )
    else:
        info = np.iinfo(np_dtype)
        low = info.min if min_value is None else int(np.ceil(min_value))
        high = info.max if max_value is None else int(np.floor(max_value))
        if low > high:
            raise InvalidArgument(
                f"min_value={min_value!r}, max_value={max_value!r}: no {name} value in range"
            )
        elements = st.integers(max(low, int(info.min)), min(high, int(info.max)))
    if isinstance(shape, st.SearchStrategy):
        shape_strategy: Any = shape.map(tuple)
    elif isinstance(shape, (int, np.integer)):
        shape_strategy = (_check_int("shape", shape, 0),)
    else:
        shape_strategy = tuple(_check_int("shape dim", d, 0) for d in shape)
    arrays = hnp.arrays(np_dtype, shape_strategy, elements=elements, unique=unique)

    def to_tensor(array: np.ndarray[Any, Any]) -> torch.Tensor:
        import torch

        tensor = torch.from_numpy(np.array(array, copy=True))
        if name == "bfloat16":
            tensor = tensor.to(torch.bfloat16)
        tensor = tensor.to(device)
        if requires_grad:
            tensor.requires_grad_(True)
        return tensor

    return arrays.map(to_tensor)


def mlps(
    in_features: int,
    out_features: int,
    *,
    min_layers: int = 1,
    max_layers: int = 3,
    min_width: int = 1,
    max_width: int = 16,
    activations: Sequence[str] = ("tanh", "relu", "gelu"),
    seed: int | None = None,
) -> st.SearchStrategy[nn.Module]:
    """Multi-layer perceptrons ``in_features -> ... -> out_features``.

    Depth, widths, activation and (unless ``seed`` is given) the initialisation
    seed are drawn, so a property such as "every MLP is batch independent" is
    tested over architectures and weights.

    Args:
        in_features: The input size.
        out_features: The output size.
        min_layers: The fewest Linear layers.
        max_layers: The most Linear layers.
        min_width: The narrowest hidden layer.
        max_width: The widest hidden layer.
        activations: Names among tanh, relu, gelu, sigmoid, identity.
        seed: A fixed initialisation seed; drawn when None.

    Returns:
        A strategy of ``nn.Sequential`` modules (float32, CPU).

    Raises:
        InvalidArgument: For a bad argument, as ``name=value`` and the rule broken.
    """
    _check_int("in_features", in_features, 1)
    _check_int("out_features", out_features, 1)
    _check_int("min_layers", min_layers, 1)
    _check_int("max_layers", max_layers, 1)
    _check_range("min_layers", min_layers, "max_layers", max_layers)
    _check_int("min_width", min_width, 1)
    _check_int("max_width", max_width, 1)
    _check_range("min_width", min_width, "max_width", max_width)
    chosen = list(activations)
    for act in chosen:
        if act not in _ACTIVATIONS:
            raise InvalidArgument(
                f"activations={chosen!r}: {act!r} is not one of {', '.join(_ACTIVATIONS)}"
            )
    if not chosen:
        raise InvalidArgument("activations=[] must name at least one activation")
    seeds = st.just(seed) if seed is not None else st.integers(0, 2**32 - 1)

    @st.composite
    def draw_mlp(draw: st.DrawFn) -> nn.Module:
        import torch
        from torch import nn

        layers = draw(st.integers(min_layers, max_layers))
        widths = [draw(st.integers(min_width, max_width)) for _ in range(layers - 1)]
        act = draw(st.sampled_from(chosen))
        make_seed = draw(seeds)
        sizes = [in_features, *widths, out_features]
        modules: list[nn.Module] = []
        gen_state = torch.random.get_rng_state()
        try:
            torch.manual_seed(make_seed)
            for i in range(layers):
                modules.append(nn.Linear(sizes[i], sizes[i + 1]))
                if i < layers - 1:
                    modules.append(_activation(act))
        finally:
            torch.random.set_rng_state(gen_state)
        return nn.Sequential(*modules)

    return draw_mlp()


def _activation(name: str) -> nn.Module:
    from torch import nn

    table: dict[str, type[nn.Module]] = {
        "tanh": nn.Tanh,
        "relu": nn.ReLU,
        "gelu": nn.GELU,
        "sigmoid": nn.Sigmoid,
        "identity": nn.Identity,
    }
    return table[name]()
