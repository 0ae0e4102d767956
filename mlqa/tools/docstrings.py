"""``mlqa docstrings``: Google-style docstrings, layout and signature consistency.

Two tools, one report: ruff's ``D`` rules (Google convention) check that public
code has docstrings and that they are laid out right; pydoclint checks that
they agree with the signature (missing, extra or misordered arguments,
Returns, Yields, Raises). pydoclint runs in process with Google-correct
defaults, so a valid Google docstring on an annotated function gets no
finding. A project's own ``[tool.ruff]`` / ``[tool.pydoclint]`` settings win.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlqa.config import Config
from mlqa.diagnostics import Finding, InputError
from mlqa.files import display, is_test, relative
from mlqa.runner import Result
from mlqa.tools._common import preset, run_command
from mlqa.tools.ruff import run_ruff, uses_own_config

NAME = "docstrings"

#: pydoclint options mlqa uses when the project has no ``[tool.pydoclint]``.
PYDOCLINT_PRESET: dict[str, Any] = {
    "style": "google",
    "arg-type-hints-in-docstring": False,
    "check-return-types": False,
    "check-yield-types": False,
}


#: pydoclint codes the preset drops: DOC502 ("Raises" documented but no
#: ``raise`` in the body) flags exceptions that propagate from a callee, which
#: Google style asks to document.
PYDOCLINT_PRESET_IGNORE = frozenset({"DOC502"})


def pydoclint_options(config: Config) -> dict[str, Any]:
    """Return pydoclint's options as keyword arguments of its checker.

    Args:
        config: The project config; its ``[tool.pydoclint]`` replaces the preset.

    Returns:
        Keyword arguments for ``pydoclint.main._checkFile``.

    Raises:
        InputError: If ``[tool.pydoclint]`` has a key pydoclint does not know.
    """
    from pydoclint.main import _checkFile, main

    table: Mapping[str, Any] = PYDOCLINT_PRESET
    if config.has_tool_config("pydoclint"):
        table = config.raw["tool"]["pydoclint"]
    accepted = {name.lower(): name for name in inspect.signature(_checkFile).parameters}
    by_option = {
        opt[2:]: str(param.name)
        for param in main.params
        for opt in param.opts
        if opt[:2] == "--"
    }
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        if key in {"exclude", "quiet", "baseline", "config", "include-stub-files"}:
            continue
        name = by_option.get(key)
        if name is None:
            raise InputError(
                display(config.pyproject or config.root),
                f"[tool.pydoclint] unknown key {key!r}",
            )
        target = accepted.get(name.replace("_", "").lower())
        if target is not None:
            kwargs[target] = value
    return kwargs


def run(files: list[Path], config: Config, *, fix: bool) -> Result:
    """Check docstrings with ruff's D rules and pydoclint.

    Args:
        files: The files to check.
        config: The project config.
        fix: Unused: docstrings are never rewritten.

    Returns:
        The findings of both tools, with unreadable files as input errors.
    """
    del fix
    own = uses_own_config(config)
    if own:
        options = _own_config_options(config)
    else:
        options = ["--config", os.fspath(preset("ruff-docstrings.toml"))]
    result = run_ruff(files, config, options, NAME)
    if own:  # the project's other rules are `mlqa lint`'s business
        result.findings = [f for f in result.findings if _is_pydocstyle(f.code)]
    try:
        kwargs = pydoclint_options(config)
    except InputError as exc:
        result.errors.append(exc)
        return result
    from pydoclint.main import _checkFile

    ignored = not config.has_tool_config("pydoclint")
    broken = {err.path for err in result.errors}
    for path in files:
        shown = display(path)
        if (
            shown in broken
            or path.suffix != ".py"
            or is_test(relative(path, config.root))
        ):
            continue
        for violation in _checkFile(path, **kwargs):
            if violation.code == 2:  # pydoclint could not parse: ruff said so already
                continue
            if ignored and violation.fullErrorCode in PYDOCLINT_PRESET_IGNORE:
                continue
            line = max(int(violation.line), 1)
            result.findings.append(
                Finding(shown, line, 1, violation.fullErrorCode, str(violation.msg))
            )
    return result


def _ruff_table(config: Config) -> dict[str, Any]:
    """Return the project's ruff settings, from pyproject.toml or ruff.toml."""
    path = config.tool_config("ruff")
    if path is not None and path != config.pyproject:
        from mlqa.config import parse_pyproject

        return parse_pyproject(path)[0]
    table = config.raw.get("tool", {}).get("ruff", {})
    return table if isinstance(table, dict) else {}


def _own_config_options(config: Config) -> list[str]:
    """Add the D rules to the project's own ruff selection, keeping its ignores.

    On the command line ``--extend-select D`` would re-enable D rules the
    project ignores, so those ignores are passed again after it.
    """
    table = _ruff_table(config)
    lint = table.get("lint", {}) if isinstance(table.get("lint"), dict) else {}
    ignored = [
        code
        for scope in (table, lint)
        for key in ("ignore", "extend-ignore")
        for code in scope.get(key, [])
        if isinstance(code, str) and code.startswith("D")
    ]
    options = ["--extend-select", "D"]
    if ignored:
        options += ["--ignore", ",".join(ignored)]
    pydocstyle = lint.get("pydocstyle", table.get("pydocstyle", {}))
    if not isinstance(pydocstyle, dict) or "convention" not in pydocstyle:
        options += ["--config", "lint.pydocstyle.convention = 'google'"]
    return options


def _is_pydocstyle(code: str) -> bool:
    return code.startswith("D") and code[1:].isdigit()


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mlqa docstrings``.

    Args:
        argv: Command arguments: ``[--format FMT] [PATHS...]``.

    Returns:
        0 clean, 1 findings, 2 unreadable input or bad config.
    """
    return run_command(
        "docstrings",
        argv,
        prog="mlqa docstrings",
        description="Check Google-style docstrings (ruff D rules + pydoclint).",
        fixer=False,
    )
