"""mlqa's pytest plugin (entry point ``pytest11``): options only, nothing heavy at import."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register ``--mlqa``.

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
