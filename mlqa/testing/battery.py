"""The zero-test battery: ``[tool.mlqa.models.<name>]`` tables turned into checks.

This module validates the tables without importing torch (the user's own
modules may, when their ``module:callable`` references are resolved);
:mod:`mlqa.testing.battery_items` runs one check of one model on request. The
pytest plugin turns every (model, check) pair into a test item
``mlqa::<name>::<check>``.

A table::

    [tool.mlqa.models.mlp]
    factory = "mypkg.models:make_mlp"      # () -> a fresh nn.Module
    batch = "mypkg.data:tiny_batch"        # () -> (inputs, targets)
    loss = "torch.nn.functional:cross_entropy"  # (outputs, targets) -> scalar
    output_shape = ["B", 10]               # ints, names, "*" for any size
    output_dtype = "float32"               # checked with output_shape
    batch_sizes = [1, 2]                   # extra batch sizes for output_shape
    loss_at_init = 2.302585                # or {expected = 2.3026, rtol = 0.1}
    causal_dim = 1                         # adds the causal check
    frozen = ["encoder.*"]                 # parameters meant to stay frozen
    tied = [["tok.weight", "head.weight"]] # parameters meant to be shared
    checks = ["params_update", "overfit"]  # default: every check that applies
    overfit = {max_steps = 100, target_ratio = 0.1}
    optimizer = "mypkg.train:make_optimizer"  # (params) -> optimizer; default Adam
"""

from __future__ import annotations

import importlib
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlqa.config import Config, line_of
from mlqa.diagnostics import InputError

#: Every check, in the order items are generated.
CHECKS = (
    "output_shape",
    "finite",
    "params_update",
    "loss_at_init",
    "overfit",
    "batch_independent",
    "eval_mode",
    "dtype_consistent",
    "causal",
    "checkpoint_roundtrip",
    "shared_params",
    "deterministic",
    "device_parity",
)
REQUIRED = ("factory", "batch", "loss")
OPTIONAL = (
    "output_shape",
    "output_dtype",
    "batch_sizes",
    "loss_at_init",
    "causal_dim",
    "frozen",
    "tied",
    "checks",
    "overfit",
    "optimizer",
)
#: Checks that are on by default only when their setting is given.
NEEDS = {
    "output_shape": "output_shape",
    "loss_at_init": "loss_at_init",
    "causal": "causal_dim",
}
#: Checks that cannot run at all without their setting (``causal`` defaults to dim 1).
REQUIRES = ("output_shape", "loss_at_init")
#: Keys of the ``overfit`` table.
OVERFIT_KEYS = ("max_steps", "target_loss", "target_ratio")
#: ``output_dtype`` values (torch dtype names).
DTYPES = (
    "float16",
    "bfloat16",
    "float32",
    "float64",
    "complex64",
    "complex128",
    "uint8",
    "int8",
    "int16",
    "int32",
    "int64",
    "bool",
)


@dataclass(frozen=True)
class ModelSpec:
    """One validated ``[tool.mlqa.models.<name>]`` table.

    Attributes:
        name: The table's name.
        factory: Returns a fresh model.
        batch: Returns ``(inputs, targets)``.
        loss: ``loss(outputs, targets)``.
        checks: The checks to run, in CHECKS order.
        output_shape: The expected output shape (``None`` for ``"*"``), if given.
        loss_at_init: ``(expected, rtol or None)``, if given.
        overfit: Keyword arguments for assert_overfits_batch.
        optimizer: ``optimizer(params)``, or None for each check's default.
        source: ``(pyproject path, line)`` of the table, for reports.
        output_dtype: The expected output dtype name (``"float32"``), if given.
        batch_sizes: Extra batch sizes for output_shape; None for its default.
        causal_dim: The sequence dimension for the causal check.
        frozen: Name patterns of parameters meant to stay frozen; None: undeclared.
        tied: Groups of parameter names meant to be one shared parameter.
    """

    name: str
    factory: Callable[[], Any]
    batch: Callable[[], Any]
    loss: Callable[[Any, Any], Any]
    checks: tuple[str, ...]
    output_shape: tuple[int | str | None, ...] | None = None
    loss_at_init: tuple[float, float | None] | None = None
    overfit: Mapping[str, Any] = field(default_factory=dict)
    optimizer: Callable[[Any], Any] | None = None
    source: tuple[Path, int | None] = (Path("pyproject.toml"), None)
    output_dtype: str | None = None
    batch_sizes: tuple[int, ...] | None = None
    causal_dim: int = 1
    frozen: tuple[str, ...] | None = None
    tied: tuple[tuple[str, ...], ...] = ()


class _Table:
    """Error helper bound to one model table."""

    def __init__(self, config: Config, name: str, text: str) -> None:
        self.config = config
        self.name = name
        self.text = text
        self.path = config.pyproject or Path("pyproject.toml")
        self.header = f"tool.mlqa.models.{name}"

    def line(self, key: str | None = None) -> int | None:
        if key is None:
            for number, line in enumerate(self.text.splitlines(), 1):
                if (
                    line.strip().replace('"', "").replace("'", "").replace(" ", "")
                    == f"[{self.header}]"
                ):
                    return number
            return line_of(self.text, self.name, "tool.mlqa.models")
        return line_of(self.text, key, self.header) or self.line()

    def error(self, key: str | None, message: str) -> InputError:
        where = f"[{self.header}]" + (f" {key}" if key else "")
        return InputError(
            display_path(self.path), f"{where}: {message}", self.line(key)
        )


def display_path(path: Path) -> str:
    """Show ``path`` relative to the current directory when it is below it.

    Args:
        path: A file.

    Returns:
        The relative or, failing that, the given path.
    """
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def resolve(reference: str, root: Path | None = None) -> Any:
    """Import ``"package.module:attribute"`` (the attribute may be dotted).

    Args:
        reference: The reference.
        root: A directory put on ``sys.path`` (at the end) first, so project
            modules import without being installed.

    Returns:
        The object.

    Raises:
        ValueError: If the reference is malformed or cannot be imported.
    """
    module_name, sep, attribute = reference.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"{reference!r} is not of the form 'module:callable'")
    if root is not None and str(root) not in sys.path:
        sys.path.append(str(root))
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any import failure is a config error
        raise ValueError(
            f"cannot import {reference!r} ({type(exc).__name__}: {exc})"
        ) from None
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(
                f"cannot import {reference!r} (module {module_name!r} has no attribute {attribute!r})"
            ) from None
    return obj


def _callable(table: _Table, raw: Mapping[str, Any], key: str) -> Callable[..., Any]:
    value = raw[key]
    if not isinstance(value, str):
        raise table.error(
            key,
            f"must be a string 'module:callable', got {type(value).__name__} {value!r}",
        )
    try:
        obj = resolve(value, table.config.root)
    except ValueError as exc:
        raise table.error(key, str(exc)) from None
    if not callable(obj):
        raise table.error(key, f"{value!r} is a {type(obj).__name__}, not callable")
    return obj  # type: ignore[no-any-return]


def _number(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _shape(table: _Table, value: object) -> tuple[int | str | None, ...]:
    if not isinstance(value, list) or not all(
        (isinstance(d, int) and not isinstance(d, bool) and d >= 0)
        or isinstance(d, str)
        for d in value
    ):
        raise table.error(
            "output_shape",
            f'must be a list of sizes, names or "*" (any size), e.g. ["B", 10], got {value!r}',
        )
    return tuple(None if d == "*" else d for d in value)


def _loss_at_init(table: _Table, value: object) -> tuple[float, float | None]:
    if _number(value):
        return float(value), None  # type: ignore[arg-type]
    if (
        isinstance(value, dict)
        and set(value) <= {"expected", "rtol"}
        and _number(value.get("expected"))
    ):
        rtol = value.get("rtol")
        if rtol is None or (_number(rtol) and rtol >= 0):
            return float(value["expected"]), None if rtol is None else float(rtol)
    raise table.error(
        "loss_at_init",
        f"must be a number or {{expected = <number>, rtol = <number >= 0>}}, got {value!r}",
    )


def _overfit(table: _Table, value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise table.error(
            "overfit",
            f"must be a table {{max_steps, target_loss, target_ratio}}, got {value!r}",
        )
    unknown = set(value) - set(OVERFIT_KEYS)
    if unknown:
        raise table.error(
            "overfit",
            f"unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(OVERFIT_KEYS)})",
        )
    steps = value.get("max_steps", 1)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise table.error(
            "overfit", f"max_steps must be a positive integer, got {steps!r}"
        )
    if "target_loss" in value and not _number(value["target_loss"]):
        raise table.error(
            "overfit", f"target_loss must be a number, got {value['target_loss']!r}"
        )
    ratio = value.get("target_ratio", 0.0)
    if not _number(ratio) or not 0 <= ratio < 1:
        raise table.error(
            "overfit", f"target_ratio must be a number in [0, 1), got {ratio!r}"
        )
    if "target_loss" in value and "target_ratio" in value:
        raise table.error("overfit", "give target_loss or target_ratio, not both")
    return dict(value)


def _output_dtype(table: _Table, value: object) -> str:
    name = value.removeprefix("torch.") if isinstance(value, str) else None
    if name not in DTYPES:
        raise table.error(
            "output_dtype",
            f"must be a dtype name such as \"float32\" (known: {', '.join(DTYPES)}), got {value!r}",
        )
    return name


def _batch_sizes(table: _Table, value: object) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in value
    ):
        raise table.error(
            "batch_sizes",
            f"must be a list of positive batch sizes, e.g. [1, 2] ([] for none), got {value!r}",
        )
    return tuple(value)


def _causal_dim(table: _Table, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise table.error(
            "causal_dim",
            f"must be the integer dimension of the sequence, e.g. 1, got {value!r}",
        )
    return value


def _frozen(table: _Table, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise table.error(
            "frozen",
            f'must be a list of parameter name patterns, e.g. ["encoder.*"] ([] for none), got {value!r}',
        )
    return tuple(value)


def _tied(table: _Table, value: object) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list) or not all(
        isinstance(group, list)
        and len(group) >= 2
        and all(isinstance(n, str) for n in group)
        for group in value
    ):
        raise table.error(
            "tied",
            "must be a list of groups of parameter names, e.g. "
            f'[["tok.weight", "head.weight"]], got {value!r}',
        )
    return tuple(tuple(group) for group in value)


def _checks(table: _Table, raw: Mapping[str, Any]) -> tuple[str, ...]:
    if "checks" not in raw:
        return tuple(c for c in CHECKS if NEEDS.get(c, "factory") in raw)
    value = raw["checks"]
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise table.error("checks", f"must be a list of check names, got {value!r}")
    for name in value:
        if name not in CHECKS:
            raise table.error(
                "checks", f"unknown check {name!r} (known: {', '.join(CHECKS)})"
            )
        if name in REQUIRES and NEEDS[name] not in raw:
            raise table.error("checks", f"{name!r} needs the {NEEDS[name]} key")
    return tuple(c for c in CHECKS if c in value)


def _check_keys(table: _Table, raw: object) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise table.error(None, f"must be a table, got {type(raw).__name__}")
    for key in raw:
        if key not in REQUIRED + OPTIONAL:
            known = ", ".join(REQUIRED + OPTIONAL)
            raise table.error(key, f"unknown key (known: {known})")
    for key in REQUIRED:
        if key not in raw:
            raise table.error(key, "missing (required: factory, batch, loss)")
    return raw


def model_spec(config: Config, name: str, raw: object, text: str = "") -> ModelSpec:
    """Validate one model table and resolve its references.

    The first problem is an :class:`~mlqa.diagnostics.InputError` naming the
    table and key: ``pyproject.toml:7: [tool.mlqa.models.mlp] factory: ...``.

    Args:
        config: The project config (for the root and the pyproject path).
        name: The table's name.
        raw: The table as parsed.
        text: The pyproject text, for line numbers.

    Returns:
        The spec.
    """
    table = _Table(config, name, text)
    table_dict = _check_keys(table, raw)
    checks = _checks(table, table_dict)
    if "output_dtype" in table_dict and "output_shape" not in table_dict:
        raise table.error(
            "output_dtype",
            'is checked with the output shape: add output_shape (e.g. ["B", "*"])',
        )
    loss: Callable[..., Any] = _callable(table, table_dict, "loss")
    if isinstance(loss, type):
        loss = loss()

    def optional(key: str, parse: Callable[[_Table, object], Any]) -> Any:
        return parse(table, table_dict[key]) if key in table_dict else None

    return ModelSpec(
        name=name,
        factory=_callable(table, table_dict, "factory"),
        batch=_callable(table, table_dict, "batch"),
        loss=loss,
        checks=checks,
        output_shape=optional("output_shape", _shape),
        loss_at_init=optional("loss_at_init", _loss_at_init),
        overfit=optional("overfit", _overfit) or {},
        optimizer=(
            _callable(table, table_dict, "optimizer")
            if "optimizer" in table_dict
            else None
        ),
        source=(table.path, table.line()),
        output_dtype=optional("output_dtype", _output_dtype),
        batch_sizes=optional("batch_sizes", _batch_sizes),
        causal_dim=_causal_dim(table, table_dict.get("causal_dim", 1)),
        frozen=optional("frozen", _frozen),
        tied=optional("tied", _tied) or (),
    )


def model_names(config: Config) -> list[str]:
    """Return the names of the configured models, in file order.

    Args:
        config: The project config.

    Returns:
        The ``[tool.mlqa.models.<name>]`` names.
    """
    return list(config.get("models"))


def load_spec(config: Config, name: str) -> ModelSpec:
    """Validate and resolve the model table ``name`` of ``config``.

    Args:
        config: The project config.
        name: A name from :func:`model_names`.

    Returns:
        The spec.
    """
    text = config.pyproject.read_text(encoding="utf-8") if config.pyproject else ""
    return model_spec(config, name, config.get("models")[name], text)


def accelerators(devices: Sequence[str]) -> list[str]:
    """Return the non-CPU devices of a device list.

    Args:
        devices: Device strings.

    Returns:
        Those that are not ``cpu``.
    """
    return [d for d in devices if d != "cpu"]
