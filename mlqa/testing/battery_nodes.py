"""The battery's pytest nodes: ``mlqa`` > one collector per model > one item per check.

Imported by the plugin only with ``--mlqa``. A model table that is invalid
becomes one error item, ``mlqa::<name>::config``, so the user's own tests and
the other models still run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mlqa.pytest_plugin import PREFIX, devices
from mlqa.testing.battery import display_path

if TYPE_CHECKING:
    from mlqa.testing.battery import ModelSpec


class _MlqaCollector(pytest.Collector):
    """A collector whose config errors are reported as their one line."""

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> Any:
        """Report a config error as its one line.

        Args:
            excinfo: The failure.
            style: The traceback style (pytest's collectors use their own).

        Returns:
            The report.
        """
        return _config_failure(excinfo) or super().repr_failure(excinfo)


class MlqaBattery(_MlqaCollector):
    """The root of the battery: one child per ``[tool.mlqa.models.<name>]`` table."""

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        """Read the config and make one collector per model.

        Returns:
            The model collectors.
        """
        from mlqa.config import load
        from mlqa.diagnostics import InputError
        from mlqa.testing.battery import model_names

        try:
            config = load(self.config.rootpath)
            names = model_names(config)
        except InputError as error:
            return [MlqaConfigError.from_parent(self, name="config", error=error)]
        return [
            MlqaModel.from_parent(
                self, name=name, nodeid=f"{PREFIX}::{name}", mlqa_config=config
            )
            for name in names
        ]


class MlqaModel(_MlqaCollector):
    """One model table: validated on collection, one item per check.

    Args:
        mlqa_config: The project config.
        **kwargs: For pytest's Collector.
    """

    def __init__(self, *, mlqa_config: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mlqa_config = mlqa_config

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        """Validate the table and make its items.

        Returns:
            One item per check (device parity: one per accelerator).
        """
        from mlqa.diagnostics import InputError
        from mlqa.testing.battery import accelerators, load_spec

        try:
            spec = load_spec(self.mlqa_config, self.name)
        except InputError as error:
            return [MlqaConfigError.from_parent(self, name="config", error=error)]
        items: list[pytest.Item | pytest.Collector] = []
        for check in spec.checks:
            targets: list[str | None] = [None]
            if check == "device_parity":
                present = accelerators(devices(self.config))
                targets = (
                    list(present)
                    if len(present) > 1
                    else [present[0] if present else None]
                )
            for target in targets:
                name = (
                    check
                    if target is None or len(targets) == 1
                    else f"{check}[{target}]"
                )
                items.append(
                    MlqaItem.from_parent(
                        self, name=name, spec=spec, check=check, device=target
                    )
                )
        return items


class MlqaConfigError(pytest.Item):
    """A model table (or the ``[tool.mlqa]`` table) that is invalid: an error item.

    Its setup raises the config error, so pytest counts one error for the
    model and goes on with the user's tests and the other models.

    Args:
        error: The config error.
        **kwargs: For pytest's Item.
    """

    def __init__(self, *, error: Exception, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error
        self.add_marker("mlqa")

    def setup(self) -> None:
        """Fail with the config error's one line (no traceback): an error item."""
        __tracebackhide__ = True
        from mlqa.diagnostics import InputError

        error = self.error
        if isinstance(error, InputError):
            error = InputError(
                display_path(Path(error.path)), error.message, error.line, error.column
            )
        pytest.fail(str(error), pytrace=False)

    def runtest(self) -> None:
        """Nothing: setup already failed."""

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Point reports at pyproject.toml.

        Returns:
            The path, the 0-based line and the item's name.
        """
        path = getattr(self.error, "path", "pyproject.toml")
        line = getattr(self.error, "line", None)
        return Path(path), None if line is None else line - 1, self.nodeid


def _config_failure(excinfo: pytest.ExceptionInfo[BaseException]) -> str | None:
    from mlqa.diagnostics import InputError

    error = excinfo.value
    if not isinstance(error, InputError):
        return None
    return str(
        InputError(
            display_path(Path(error.path)), error.message, error.line, error.column
        )
    )


class MlqaItem(pytest.Item):
    """One check of one model: ``mlqa::<name>::<check>``.

    Args:
        spec: The model.
        check: The check's name.
        device: The device for device parity (None: CUDA, skipped when absent).
        **kwargs: For pytest's Item.
    """

    def __init__(
        self, *, spec: ModelSpec, check: str, device: str | None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.check = check
        self.device = device
        self.add_marker("mlqa")

    def runtest(self) -> None:
        """Run the check."""
        from mlqa.testing.battery_items import run_check

        run_check(
            self.spec,
            self.check,
            seed=self.config.getoption("mlqa_seed"),
            device=self.device or "cuda",
        )

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> Any:
        """Show a failed check's report without the traceback through mlqa.

        Args:
            excinfo: The failure.
            style: The traceback style.

        Returns:
            The report.
        """
        if isinstance(excinfo.value, AssertionError) and str(excinfo.value).startswith(
            "mlqa"
        ):
            return f"model {self.spec.name!r}: {excinfo.value}"
        if isinstance(excinfo.value, (ValueError, TypeError)) and _raised_by_mlqa(
            excinfo
        ):  # an assertion rejected a setting of the table (frozen, tied, dim ...)
            path, line = self.spec.source
            where = f"{display_path(path)}:{line}: " if line else ""
            return (
                f"{where}[tool.mlqa.models.{self.spec.name}] {self.check}: "
                f"{type(excinfo.value).__name__}: {excinfo.value}"
            )
        if not self.config.getoption("fulltrace", False):
            excinfo.traceback = _user_frames(excinfo)
            if style is None and self.config.getoption("tbstyle", "auto") == "auto":
                style = "short"  # file:line and source, no arguments (whole tensors)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Point reports at the model's table in pyproject.toml.

        Returns:
            The path, the 0-based line and the item's name.
        """
        path, line = self.spec.source
        return path, None if line is None else line - 1, self.nodeid


def _mlqa_root() -> Path:
    import inspect

    import mlqa

    return Path(inspect.getfile(mlqa)).parent.resolve()


def _raised_by_mlqa(excinfo: pytest.ExceptionInfo[BaseException]) -> bool:
    """Tell whether the innermost frame of a failure is mlqa's own code."""
    last = Path(str(excinfo.traceback[-1].path)).resolve()
    return last.is_relative_to(_mlqa_root())


def _user_frames(excinfo: pytest.ExceptionInfo[BaseException]) -> Any:
    """The traceback without the frames of mlqa, pytest, pluggy and nn.Module's call.

    Args:
        excinfo: A failure inside a battery item.

    Returns:
        The frames of the user's code and the libraries it calls (the whole
        traceback if none is left).
    """
    import inspect

    import pluggy
    from torch.nn.modules import module

    hidden = (_mlqa_root(),) + tuple(
        Path(inspect.getfile(obj)).parent.resolve()
        for obj in (pytest.Item, pluggy.PluginManager)
    )
    plumbing = Path(inspect.getfile(module)).resolve()  # Module.__call__ -> forward

    def keep(entry: Any) -> bool:
        path = Path(str(entry.path)).resolve()
        return path != plumbing and not any(path.is_relative_to(r) for r in hidden)

    frames = excinfo.traceback.filter(excinfo).filter(keep)
    return frames if len(frames) else excinfo.traceback
