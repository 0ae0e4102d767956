"""The zero-test battery: ``[tool.mlqa.models.<name>]`` tables turned into checks.

This module validates the tables without importing torch (the user's own
modules may, when their ``module:callable`` references are resolved) and runs
one check of one model on request. The pytest plugin turns every (model, check)
pair into a test item ``mlqa::<name>::<check>``.

A table::

    [tool.mlqa.models.mlp]
    factory = "mypkg.models:make_mlp"      # () -> a fresh nn.Module
    batch = "mypkg.data:tiny_batch"        # () -> (inputs, targets)
    loss = "torch.nn.functional:cross_entropy"  # (outputs, targets) -> scalar
    output_shape = ["B", 10]               # ints, names, "*" for any size
    loss_at_init = 2.302585                # or {expected = 2.3026, rtol = 0.1}
    checks = ["params_update", "overfit"]  # default: every check that applies
    overfit = {max_steps = 100, target_loss = 0.05}
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
    "deterministic",
    "device_parity",
)
REQUIRED = ("factory", "batch", "loss")
OPTIONAL = ("output_shape", "loss_at_init", "checks", "overfit", "optimizer")
#: Checks that only run when their setting is given.
NEEDS = {"output_shape": "output_shape", "loss_at_init": "loss_at_init"}


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
            "overfit", f"must be a table {{max_steps, target_loss}}, got {value!r}"
        )
    unknown = set(value) - {"max_steps", "target_loss"}
    if unknown:
        raise table.error(
            "overfit",
            f"unknown key(s) {', '.join(sorted(unknown))} (known: max_steps, target_loss)",
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
    return dict(value)


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
        if name in NEEDS and NEEDS[name] not in raw:
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
    loss: Callable[..., Any] = _callable(table, table_dict, "loss")
    if isinstance(loss, type):
        loss = loss()
    return ModelSpec(
        name=name,
        factory=_callable(table, table_dict, "factory"),
        batch=_callable(table, table_dict, "batch"),
        loss=loss,
        checks=checks,
        output_shape=(
            _shape(table, table_dict["output_shape"])
            if "output_shape" in table_dict
            else None
        ),
        loss_at_init=(
            _loss_at_init(table, table_dict["loss_at_init"])
            if "loss_at_init" in table_dict
            else None
        ),
        overfit=(
            _overfit(table, table_dict["overfit"]) if "overfit" in table_dict else {}
        ),
        optimizer=(
            _callable(table, table_dict, "optimizer")
            if "optimizer" in table_dict
            else None
        ),
        source=(table.path, table.line()),
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


def _build(spec: ModelSpec) -> tuple[Any, Any]:
    from torch import nn

    model = spec.factory()
    if not isinstance(model, nn.Module):
        raise AssertionError(
            f"mlqa: factory of model {spec.name!r} returned {type(model).__name__}, not an nn.Module"
        )
    batch = spec.batch()
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise AssertionError(
            f"mlqa: batch of model {spec.name!r} returned {type(batch).__name__}, not (inputs, targets)"
        )
    return model, batch


def run_check(
    spec: ModelSpec, check: str, *, seed: int = 0, device: str = "cuda"
) -> None:
    """Run one check of one model, seeded, restoring global state afterwards.

    Args:
        spec: The model.
        check: A name from CHECKS.
        seed: Seeds Python, NumPy and torch before the model and batch are built.
        device: The device for ``device_parity``.

    Raises:
        ValueError: For an unknown check name.
    """
    from mlqa.testing._state import preserved_state, seed_everything
    from mlqa.testing.determinism import assert_deterministic
    from mlqa.testing.device import assert_device_parity
    from mlqa.testing.independence import assert_batch_independent
    from mlqa.testing.init_loss import INIT_RTOL, assert_loss_at_init
    from mlqa.testing.shape import assert_output_shape
    from mlqa.testing.training import (
        OVERFIT_MAX_STEPS,
        OVERFIT_TARGET_LOSS,
        assert_finite,
        assert_overfits_batch,
        assert_params_update,
    )

    if check not in CHECKS:
        raise ValueError(f"check={check!r} must be one of {', '.join(CHECKS)}")
    with preserved_state():
        seed_everything(seed)
        model, batch = _build(spec)
        inputs = batch[0]
        opt = spec.optimizer
        if check == "output_shape":
            assert spec.output_shape is not None
            assert_output_shape(model, inputs, spec.output_shape)
        elif check == "finite":
            assert_finite(model, batch, spec.loss)
        elif check == "params_update":
            assert_params_update(model, batch, spec.loss, optimizer_factory=opt)
        elif check == "loss_at_init":
            assert spec.loss_at_init is not None
            expected, rtol = spec.loss_at_init
            assert_loss_at_init(
                model,
                batch,
                spec.loss,
                expected,
                rtol=INIT_RTOL if rtol is None else rtol,
            )
        elif check == "overfit":
            assert_overfits_batch(
                model,
                batch,
                spec.loss,
                max_steps=int(spec.overfit.get("max_steps", OVERFIT_MAX_STEPS)),
                target_loss=float(spec.overfit.get("target_loss", OVERFIT_TARGET_LOSS)),
                optimizer_factory=opt,
            )
        elif check == "batch_independent":
            assert_batch_independent(model, inputs)
        elif check == "deterministic":
            assert_deterministic(spec.factory, batch, spec.loss, seed=seed)
        else:
            assert_device_parity(model, inputs, device=device)


def accelerators(devices: Sequence[str]) -> list[str]:
    """Return the non-CPU devices of a device list.

    Args:
        devices: Device strings.

    Returns:
        Those that are not ``cpu``.
    """
    return [d for d in devices if d != "cpu"]
