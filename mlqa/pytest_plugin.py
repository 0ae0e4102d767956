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
from typing import Any

import pytest

#: Device names accepted by --mlqa-devices (checked for availability later).
_DEVICE = re.compile(r"^([a-z][a-z0-9_]*)(:\d+)?$")
#: torch's device types (``torch.device("gpu")`` lists them); others are asked of torch.
TORCH_DEVICE_TYPES = frozenset(
    [
        "cpu",
        "cuda",
        "ipu",
        "xpu",
        "mkldnn",
        "opengl",
        "opencl",
        "ideep",
        "hip",
        "ve",
        "fpga",
        "maia",
        "xla",
        "lazy",
        "vulkan",
        "mps",
        "meta",
        "hpu",
        "mtia",
        "privateuseone",
    ]
)
#: Common names that are not torch device types, and what to write instead.
_DEVICE_HINTS = {"gpu": "cuda", "cuda0": "cuda:0", "nvidia": "cuda", "metal": "mps"}
_DEVICES_KEY = pytest.StashKey[list[str]]()
_ABSENT_KEY = pytest.StashKey[list[tuple[str, str]]]()
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


def _torch_device_type(name: str) -> bool:
    """Ask torch whether ``name`` is a device type (a renamed private-use backend)."""
    import torch

    try:
        torch.device(name)
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


def _devices(value: str) -> list[str]:
    if value == "auto":
        return []
    devices = [d.strip() for d in value.split(",")]
    for device in devices:
        lower = device.lower()
        hint = _DEVICE_HINTS.get(lower)
        match = _DEVICE.match(device)
        if hint is None and match:
            if match[1] in TORCH_DEVICE_TYPES or _torch_device_type(match[1]):
                continue
        elif hint is None and lower != device and _DEVICE.match(lower):
            hint = lower if lower.split(":")[0] in TORCH_DEVICE_TYPES else None
        suggestion = f"did you mean {hint!r}? " if hint else ""
        raise argparse.ArgumentTypeError(
            f"--mlqa-devices={value!r}: {device!r} is not a torch device "
            f"({suggestion}use 'auto' or a list such as 'cpu,cuda:0')"
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
    if config.getoption("mlqa") or config.getoption("mlqa_devices"):
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
            chosen = ["cpu"]
            try:
                import torch
            except ImportError:  # no model checks can run; the user's tests still do
                pass
            else:
                if torch.cuda.is_available():
                    chosen.append("cuda")
                if torch.backends.mps.is_available():
                    chosen.append("mps")
        config.stash[_DEVICES_KEY] = chosen
    return config.stash[_DEVICES_KEY]


def absent_devices(config: pytest.Config) -> list[tuple[str, str]]:
    """Return the devices asked for with ``--mlqa-devices`` that are not usable here.

    Args:
        config: pytest's config.

    Returns:
        ``(device, reason)`` pairs; empty without ``--mlqa-devices``.
    """
    if _ABSENT_KEY not in config.stash:
        absent: list[tuple[str, str]] = []
        if config.getoption("mlqa_devices"):
            from mlqa.testing.device import device_unavailable

            for device in devices(config):
                reason = device_unavailable(device)
                if reason is not None:
                    absent.append((device, reason))
        config.stash[_ABSENT_KEY] = absent
    return config.stash[_ABSENT_KEY]


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
    from mlqa.testing.battery_nodes import MlqaBattery

    root = MlqaBattery.from_parent(session, name=PREFIX, nodeid=PREFIX)
    items.extend(session.genitems(root))


def pytest_report_header(config: pytest.Config) -> str | None:
    """Print the seed and the devices when ``--mlqa`` or ``--mlqa-devices`` is given.

    Args:
        config: pytest's config.

    Returns:
        The header line, or None.
    """
    if not (config.getoption("mlqa") or config.getoption("mlqa_devices")):
        return None
    seed = config.getoption("mlqa_seed")
    absent = [device for device, _ in absent_devices(config)]
    note = f" (ABSENT here: {','.join(absent)})" if absent else ""
    return (
        f"mlqa: seed={seed} (--mlqa-seed={seed} to repeat), "
        f"devices={','.join(devices(config))}{note}"
    )


class _Summary:
    """Prints the battery's outcomes and the absent devices at the end.

    Registered with ``--mlqa`` or ``--mlqa-devices``.

    Args:
        config: pytest's config.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results: dict[str, dict[str, str]] = {}
        self.errors: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Record the outcome of a battery item's phase.

        Args:
            report: A phase's report.
        """
        if not report.nodeid.startswith(f"{PREFIX}::"):
            return
        model, _, check = report.nodeid.removeprefix(f"{PREFIX}::").partition("::")
        results = self.results.setdefault(model, {})
        if report.failed and check in ("", "config"):  # an invalid table
            results["config"] = "error"
            self.errors[model] = report.longreprtext.strip().splitlines()[-1]
        elif report.failed:
            results[check] = "failed"
        elif report.skipped:
            results[check] = "skipped"
        elif report.when == "call":
            results.setdefault(check, "passed")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Print one line per model, then the devices asked for but absent.

        Args:
            terminalreporter: pytest's terminal reporter.
        """
        if self.config.getoption("mlqa"):
            self._models(terminalreporter)
        for device, reason in absent_devices(self.config):
            terminalreporter.write_line(
                f"mlqa: WARNING: --mlqa-devices asked for {device}, which is absent "
                f"here ({reason}): its tests were SKIPPED, nothing ran on {device}",
                yellow=True,
                bold=True,
            )

    def _models(self, terminalreporter: Any) -> None:
        terminalreporter.write_sep("-", "mlqa model checks")
        if not self.results:
            terminalreporter.write_line(
                "no model checks ran (add [tool.mlqa.models.<name>] tables to pyproject.toml)"
            )
            return
        for model, checks in self.results.items():
            if model in self.errors:
                what = "the [tool.mlqa] table" if model == "config" else "its table"
                terminalreporter.write_line(
                    f"{model}: NOT RUN, {what} is invalid: {self.errors[model]}",
                    red=True,
                )
                continue
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
