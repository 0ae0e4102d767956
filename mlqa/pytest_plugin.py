"""mlqa's pytest plugin (entry point ``pytest11``): cheap to load, heavy only on demand.

Always: the ``--mlqa*`` options, the ``mlqa`` marker and the fixtures
``mlqa_seed``, ``mlqa_device`` and ``mlqa_deterministic`` (torch is imported
inside them, when a test asks for one). With ``--mlqa``: one test item per
model and check, ``mlqa::<name>::<check>``, from the ``[tool.mlqa.models.<name>]``
tables of ``pyproject.toml``, the seed and devices in the report header and a
summary of the model checks at the end.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mlqa.testing.battery import ModelSpec

#: Device names accepted by --mlqa-devices (checked for availability later).
_DEVICE = re.compile(r"^[a-z][a-z0-9_]*(:\d+)?$")
_DEVICES_KEY = pytest.StashKey[list[str]]()
PREFIX = "mlqa"


def _seed(value: str) -> int:
    try:
        seed = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--mlqa-seed={value!r} must be an integer in [0, 2**32)"
        ) from None
    if not 0 <= seed < 2**32:
        raise argparse.ArgumentTypeError(
            f"--mlqa-seed={value!r} must be an integer in [0, 2**32)"
        )
    return seed


def _devices(value: str) -> list[str]:
    if value == "auto":
        return []
    devices = [d.strip() for d in value.split(",")]
    for device in devices:
        if not _DEVICE.match(device):
            raise argparse.ArgumentTypeError(
                f"--mlqa-devices={value!r}: {device!r} is not a device (use 'auto' or e.g. 'cpu,cuda:0')"
            )
    return list(dict.fromkeys(devices))


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``--mlqa`` options.

    Args:
        parser: pytest's option parser.
    """
    group = parser.getgroup("mlqa", "mlqa model checks")
    group.addoption(
        "--mlqa",
        action="store_true",
        default=False,
        help="run the zero-test battery for the models in [tool.mlqa.models]",
    )
    group.addoption(
        "--mlqa-seed",
        type=_seed,
        default=0,
        metavar="SEED",
        help="seed for the battery and the mlqa_seed fixture (default: 0)",
    )
    group.addoption(
        "--mlqa-devices",
        type=_devices,
        default=[],
        metavar="LIST",
        help="devices for mlqa_device and device parity: 'auto' (default: cpu plus "
        "the accelerators present) or a comma list such as 'cpu,cuda'",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``mlqa`` marker.

    Args:
        config: pytest's config.
    """
    config.addinivalue_line(
        "markers", "mlqa: an item of the mlqa model battery (pytest --mlqa)"
    )
    if config.getoption("mlqa"):
        config.pluginmanager.register(_Summary(config), "mlqa-summary")


def devices(config: pytest.Config) -> list[str]:
    """Return the devices the run uses: the option's, or CPU plus those present.

    Args:
        config: pytest's config.

    Returns:
        Device strings, ``cpu`` first when included.
    """
    if _DEVICES_KEY not in config.stash:
        chosen: list[str] = list(config.getoption("mlqa_devices") or [])
        if not chosen:
            import torch

            chosen = ["cpu"]
            if torch.cuda.is_available():
                chosen.append("cuda")
            if torch.backends.mps.is_available():
                chosen.append("mps")
        config.stash[_DEVICES_KEY] = chosen
    return config.stash[_DEVICES_KEY]


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def mlqa_seed(request: pytest.FixtureRequest) -> Iterator[int]:
    """Seed Python, NumPy and torch with ``--mlqa-seed``; restore every RNG after.

    Args:
        request: pytest's request.

    Yields:
        The seed.
    """
    from mlqa.testing._state import preserved_state, seed_everything

    seed: int = request.config.getoption("mlqa_seed")
    with preserved_state():
        seed_everything(seed)
        yield seed


@pytest.fixture
def mlqa_deterministic() -> Iterator[None]:
    """Turn deterministic algorithms on for the test; restore the settings after.

    Yields:
        Nothing.
    """
    from mlqa.testing._state import enable_determinism, preserved_state

    with preserved_state():
        enable_determinism()
        yield


@pytest.fixture
def mlqa_device(request: pytest.FixtureRequest) -> Any:
    """The device of this test instance, a ``torch.device``.

    Tests using it are parametrized over the devices of the run (``cpu`` always,
    ``cuda``/``mps`` when present, or ``--mlqa-devices``), with the device in the
    test id: ``test_forward[cuda]``.

    Args:
        request: pytest's request.

    Returns:
        The ``torch.device``.
    """
    import torch

    from mlqa.testing.device import device_unavailable

    name: str = getattr(request, "param", "cpu")
    reason = device_unavailable(name)
    if reason is not None:
        pytest.skip(f"mlqa_device={name}: {reason}")
    return torch.device(name)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``mlqa_device`` over the run's devices.

    Args:
        metafunc: The test function being parametrized.
    """
    if "mlqa_device" in metafunc.fixturenames:
        chosen = devices(metafunc.config)
        metafunc.parametrize("mlqa_device", chosen, indirect=True, ids=chosen)


# -- the battery ------------------------------------------------------------------------


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
        from mlqa.testing.battery import model_names

        config = load(self.config.rootpath)
        return [
            MlqaModel.from_parent(
                self, name=name, nodeid=f"{PREFIX}::{name}", mlqa_config=config
            )
            for name in model_names(config)
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
        from mlqa.testing.battery import accelerators, load_spec

        spec = load_spec(self.mlqa_config, self.name)
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


def _config_failure(excinfo: pytest.ExceptionInfo[BaseException]) -> str | None:
    from mlqa.diagnostics import InputError
    from mlqa.testing.battery import display_path

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
        from mlqa.testing.battery import run_check

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
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Point reports at the model's table in pyproject.toml.

        Returns:
            The path, the 0-based line and the item's name.
        """
        path, line = self.spec.source
        return path, None if line is None else line - 1, self.nodeid


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """With ``--mlqa``, add the battery's items (before ``-k``/``-m`` select).

    Args:
        session: The session.
        config: pytest's config.
        items: The collected items, extended in place.
    """
    if not config.getoption("mlqa"):
        return
    root = MlqaBattery.from_parent(session, name=PREFIX, nodeid=PREFIX)
    items.extend(session.genitems(root))


def pytest_report_header(config: pytest.Config) -> str | None:
    """Print the seed and the devices when ``--mlqa`` is on.

    Args:
        config: pytest's config.

    Returns:
        The header line, or None.
    """
    if not config.getoption("mlqa"):
        return None
    seed = config.getoption("mlqa_seed")
    return f"mlqa: seed={seed} (--mlqa-seed={seed} to repeat), devices={','.join(devices(config))}"


class _Summary:
    """Collects the battery's outcomes and prints them at the end (``--mlqa`` only).

    Args:
        config: pytest's config.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results: dict[str, dict[str, str]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Record the outcome of a battery item's phase.

        Args:
            report: A phase's report.
        """
        if not report.nodeid.startswith(f"{PREFIX}::"):
            return
        _, model, check = report.nodeid.split("::", 2)
        results = self.results.setdefault(model, {})
        if report.failed:
            results[check] = "failed"
        elif report.skipped:
            results[check] = "skipped"
        elif report.when == "call":
            results.setdefault(check, "passed")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Print one line per model.

        Args:
            terminalreporter: pytest's terminal reporter.
        """
        terminalreporter.write_sep("-", "mlqa model checks")
        if not self.results:
            terminalreporter.write_line(
                "no model checks ran (add [tool.mlqa.models.<name>] tables to pyproject.toml)"
            )
            return
        for model, checks in self.results.items():
            by_outcome: dict[str, list[str]] = {}
            for check, outcome in checks.items():
                by_outcome.setdefault(outcome, []).append(check)
            parts = []
            for outcome in ("passed", "failed", "skipped"):
                if outcome in by_outcome:
                    names = (
                        ""
                        if outcome == "passed"
                        else f" ({', '.join(by_outcome[outcome])})"
                    )
                    parts.append(f"{len(by_outcome[outcome])} {outcome}{names}")
            terminalreporter.write_line(f"{model}: {', '.join(parts)}")
