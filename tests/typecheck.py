"""Run ``mlqa types`` as a user does and read back its json findings.

Shared by the tests of the mypy filters (tests/test_mypy_*.py): a real
process in a project directory, so config discovery and the preset are the
ones a user gets.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def mlqa_types(root: Path, *files: str) -> tuple[int, list[dict[str, Any]], str]:
    """Run ``mlqa types --format json FILES`` in ``root``.

    Args:
        root: The project directory (the working directory).
        files: The files to check, relative to ``root``.

    Returns:
        The exit code, the findings, and stderr (for assertion messages).
    """
    proc = subprocess.run(
        [sys.executable, "-m", "mlqa", "types", "--format", "json", *files],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    items = json.loads(proc.stdout or "[]")
    assert isinstance(items, list), proc.stdout
    return proc.returncode, items, proc.stderr
