"""Install mlqa with the lowest versions its pyproject.toml allows and run the demo.

Usage:  python benchmarks/check_min_versions.py [--venv DIR] [--pin NAME==VER ...]

Every core dependency is pinned to the lower bound of its specifier in
``[project] dependencies`` (plus ``black[jupyter]``'s extras at their lower
bounds), in a fresh ``python -m venv`` with pip from the index; mlqa itself is
installed without dependencies. Then ``mlqa run examples/demo-project --skip
types`` must end with exit 0 or 1 (findings) and no traceback, and ``mlqa
--version`` must name every tool. ``--pin`` tries another version of one
dependency (to search for the real minimum). Exit 0 when the lowest versions
work, 1 when they do not (the output says why), 2 when the venv cannot be built.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo-project"
_REQ = re.compile(r"^\s*([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*([^;]*)(;.*)?$")


def lowest_pins(extras: tuple[str, ...] = ("jupyter",)) -> dict[str, str]:
    """Return ``name -> "name[extras]==lower"`` for the core deps and the given extras.

    Args:
        extras: Optional-dependency groups of mlqa to include.

    Returns:
        One pin per dependency that has a ``>=`` lower bound and applies here.
    """
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"].get(extra, [])
    pins: dict[str, str] = {}
    for requirement in requirements:
        match = _REQ.match(requirement)
        if match is None:
            continue
        name, extra, spec, marker = match.groups()
        if (
            marker
            and "python_version < '3.11'" in marker
            and sys.version_info
            >= (
                3,
                11,
            )
        ):
            continue
        lower = re.search(r">=\s*([^,\s]+)", spec)
        if lower:
            key = name.lower().replace("_", "-")
            pins[key] = f"{name}{extra or ''}=={lower[1]}"
    return pins


def run(cmd: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run a command, output captured.

    Args:
        cmd: The command.
        cwd: Its working directory.

    Returns:
        The finished process.
    """
    return subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, check=False, timeout=1800
    )


def check(venv: Path, pins: dict[str, str]) -> int:
    """Build the venv with the pins and run the demo through it.

    Args:
        venv: Where to create the venv.
        pins: The requirement pins.

    Returns:
        0 when the demo runs cleanly, 1 when it does not, 2 on install failure.
    """
    python = venv / "bin" / "python"
    if not python.exists():
        made = run([sys.executable, "-m", "venv", str(venv)])
        if made.returncode != 0:
            print(made.stderr, file=sys.stderr)
            return 2
    print("installing:", " ".join(sorted(pins.values())), flush=True)
    install = run([str(python), "-m", "pip", "install", "-q", *pins.values()])
    if install.returncode != 0:
        print(install.stdout[-3000:], install.stderr[-3000:], file=sys.stderr)
        return 2
    own = run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(ROOT)])
    if own.returncode != 0:
        print(own.stderr[-3000:], file=sys.stderr)
        return 2
    failures = []
    version = run([str(python), "-m", "mlqa", "--version"])
    print(version.stdout.strip())
    if version.returncode != 0 or "Traceback" in version.stderr:
        failures.append(f"mlqa --version: {version.stderr.strip()[-2000:]}")
    demo = run(
        [str(python), "-m", "mlqa", "run", str(DEMO), "--skip", "types"], cwd=DEMO
    )
    output = demo.stdout + demo.stderr
    print(f"mlqa run demo: exit {demo.returncode}, {len(output.splitlines())} lines")
    if demo.returncode not in (0, 1) or "Traceback" in output:
        failures.append(f"mlqa run: exit {demo.returncode}\n{output[-4000:]}")
    for failure in failures:
        print("FAILED", failure, file=sys.stderr)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and check the lowest versions.

    Args:
        argv: Command-line arguments.

    Returns:
        The exit code of :func:`check`.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, help="reuse or create this venv")
    parser.add_argument("--pin", action="append", default=[], help="NAME==VERSION")
    args = parser.parse_args(argv)
    pins = lowest_pins()
    for pin in args.pin:
        name = re.split(r"[\[=<>~!]", pin, maxsplit=1)[0].lower().replace("_", "-")
        pins[name] = pin
    if args.venv is not None:
        return check(args.venv, pins)
    with tempfile.TemporaryDirectory(prefix="mlqa-min-") as tmp:
        return check(Path(tmp) / "venv", pins)


if __name__ == "__main__":
    raise SystemExit(main())
