"""``mlqa docstrings``: Google-style docstrings, layout and signature consistency.

ruff's ``D`` rules check the layout the Google Python Style Guide asks for;
pydoclint checks that docstrings agree with the signature. With mlqa's preset
the findings are refined to the guide's own rules (docs/docstrings.md quotes
them): one finding per problem, plain messages, ``# noqa: DOCxxx`` honoured on
the ``def`` lines or the docstring's last line. A project's own ``[tool.ruff]``
/ ``[tool.pydoclint]`` wins. pydoclint's private ``pydoclint.main._checkFile``
(and its ``Violation``) is used here only; the tests pin that contract.
"""

from __future__ import annotations

import ast
import inspect
import io
import os
import re
import tokenize
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from mlqa.config import Config
from mlqa.diagnostics import Finding, InputError
from mlqa.files import display, is_test, read_lines, relative
from mlqa.runner import Result
from mlqa.tools._common import noqa_codes, preset, run_command
from mlqa.tools.docstring_guide import (
    guide_keeps,
    names_list,
    one_layout_finding,
    sectionless,
)
from mlqa.tools.layering import pydoclint_scope
from mlqa.tools.ruff import run_ruff, uses_own_config

NAME = "docstrings"

#: pydoclint options mlqa uses when the project has no ``[tool.pydoclint]``
#: (``mlqa init`` writes this table; unchanged, it keeps mlqa's refinements).
PYDOCLINT_PRESET: dict[str, Any] = {
    "style": "google",
    "arg-type-hints-in-docstring": False,
    "check-return-types": False,
    "check-yield-types": False,
    "allow-init-docstring": True,
    "skip-checking-raises": True,
    "check-class-attributes": False,
    "omit-stars-when-documenting-varargs": True,
    "check-arg-order": False,
}

#: The Args codes that describe one problem together (one finding for all).
ARGS_CODES = ("DOC101", "DOC102", "DOC103", "D417")

_DOC103_PARTS = re.compile(
    r"in the function signature but not in the docstring: \[(?P<missing>.*?)\]\."
    r"|in the docstring but not in the function signature: \[(?P<extra>.*?)\]\."
)
_ARG_NAME = re.compile(r"(?:^|, )(\*{0,2}[A-Za-z_]\w*): ")
_UNREAD = re.compile(
    r"Potential formatting errors in docstring\. Error message: (?P<detail>.*?)"
    r"(?: \(Note: DOC001.*)?$",
    re.S,
)
_OPTION = re.compile(
    r"The option `--(?P<key>[\w-]+)` is `(?P<value>\w+)` but (?P<rest>.*)"
)


class Pydoclint(NamedTuple):
    """How pydoclint runs for one project.

    Attributes:
        kwargs: Keyword arguments for ``pydoclint.main._checkFile``.
        preset: Whether mlqa's preset (and its refinements) applies.
        table: The ``[tool.pydoclint]`` keys the project set itself.
    """

    kwargs: dict[str, Any]
    preset: bool
    table: Mapping[str, Any]


def pydoclint_options(config: Config) -> Pydoclint:
    """Return pydoclint's options for the project: its own table or the preset.

    Args:
        config: The project config; its ``[tool.pydoclint]`` replaces the preset.

    Returns:
        The checker's keyword arguments, and whether they are mlqa's preset.

    Raises:
        InputError: If ``[tool.pydoclint]`` has a key pydoclint does not know.
    """
    from pydoclint.main import _checkFile, main

    table: Mapping[str, Any] = {}
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
    for key, value in (table or PYDOCLINT_PRESET).items():
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
    return Pydoclint(kwargs, not table or dict(table) == PYDOCLINT_PRESET, table)


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
        pydoclint = pydoclint_options(config)
        scope = pydoclint_scope(config)  # [tool.pydoclint] exclude and baseline
    except InputError as exc:
        result.errors.append(exc)
        return result
    broken = {err.path for err in result.errors}
    for path in files:
        shown, rel = display(path), relative(path, config.root)
        skip = shown in broken or is_test(rel) or scope.skips(rel)
        if path.suffix == ".py" and not skip:
            known = scope.baseline.get(rel, frozenset())
            result.findings += check_file(path, shown, pydoclint, known)
    result.findings = _one_per_problem(one_layout_finding(result.findings, _Lines()))
    return result


class _Lines(dict[str, list[str]]):
    """Lines of the files findings name, each file read once, on first use."""

    def __call__(self, path: str, number: int) -> str:
        if path not in self:
            self[path] = read_lines(path)
        lines = self[path]
        return lines[number - 1] if 0 < number <= len(lines) else ""


def check_file(
    path: Path, shown: str, pydoclint: Pydoclint, known: frozenset[str] = frozenset()
) -> list[Finding]:
    """Run pydoclint on one file, keep what the guide asks for, honour noqa.

    Args:
        path: The file.
        shown: The file as findings name it.
        pydoclint: The options from :func:`pydoclint_options`.
        known: Findings in the project's pydoclint baseline (``CODE: message``).

    Returns:
        pydoclint's findings (Args ones are merged later, with ruff's D417).
    """
    from pydoclint.main import _checkFile

    source = path.read_text(encoding="utf-8", errors="replace")
    try:
        tree = ast.parse(source)
    except SyntaxError:  # ruff reported it as an input error already
        return []
    defs = {
        node.lineno: node
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }
    raw = [
        Finding(shown, max(int(v.line), 1), 1, v.fullErrorCode, str(v.msg))
        for v in _checkFile(path, **pydoclint.kwargs)
        if v.code != 2  # pydoclint could not parse: ruff said so already
        and str(v).strip() not in known
    ]
    if pydoclint.preset:
        raw = [f for f in raw if guide_keeps(f, defs.get(f.line))] + list(
            sectionless(shown, defs.values())
        )
    raw = [f._replace(message=_plain(f.message, pydoclint.table)) for f in raw]
    noqa = _noqa_lines(source)
    hidden = {
        (f.line, f.code in ARGS_CODES or f.code)
        for f in raw
        if _suppressed(f, defs.get(f.line), noqa)
    }  # a noqa on one Args code covers the problem, whatever code it is shown as
    return [f for f in raw if (f.line, f.code in ARGS_CODES or f.code) not in hidden]


def _plain(message: str, table: Mapping[str, Any]) -> str:
    """Say what pydoclint says without naming an option the user did not set."""
    unread = _UNREAD.search(message)
    if unread is not None:  # DOC001: pydoclint could not read a section
        return (
            f"{message[: unread.start()]}a section entry is not `name: description`"
            f" with a hanging indent (guide 3.8.3): {unread['detail']}"
        )
    match = _OPTION.search(message)
    if match is None:
        return message
    rest = match["rest"]
    said = f"{rest[:1].upper()}{rest[1:]}"
    if match["key"] in table:
        said += f" ([tool.pydoclint] {match['key']} = {match['value'].lower()})"
    return message[: match.start()] + said


def _one_per_problem(findings: Sequence[Finding]) -> list[Finding]:
    """Merge the Args findings of one definition (DOC101-103, D417) into one."""
    groups: dict[tuple[str, int], list[Finding]] = {}
    out: list[Finding] = []
    for finding in findings:
        if finding.code in ARGS_CODES:
            groups.setdefault((finding.path, finding.line), []).append(finding)
        else:
            out.append(finding)
    for group in groups.values():
        out.append(_merge_args(group))
    return out


def _merge_args(group: list[Finding]) -> Finding:
    doc103 = next((f for f in group if f.code == "DOC103"), None)
    if doc103 is None:  # DOC101/DOC102 alone, or ruff's D417 alone
        return min(group, key=lambda f: f.code == "D417")
    missing: list[str] = []
    extra: list[str] = []
    for part in _DOC103_PARTS.finditer(doc103.message):
        names = _ARG_NAME.findall((part["missing"] or part["extra"]) + ": ")
        (missing if part["missing"] is not None else extra).extend(names)
    who = doc103.message.split(":", 1)[0]
    if missing and not extra:
        code, what = "DOC101", f"Args does not document {names_list(missing)}"
    elif extra and not missing:
        code, what = (
            "DOC102",
            f"Args documents {names_list(extra)}, not in the signature",
        )
    elif extra:
        code = "DOC103"
        what = f"Args lists {names_list(extra)} but the signature has {names_list(missing)}"
    else:  # the same names on both sides: one listed twice, or an unread entry
        code, what = (
            "DOC103",
            "Args lists a parameter twice or has an entry it cannot read",
        )
    return doc103._replace(code=code, message=f"{who}: {what}")


def _noqa_lines(source: str) -> dict[int, frozenset[str] | None]:
    """Map lines to the codes their ``# noqa`` comment names (None: all)."""
    lines: dict[int, frozenset[str] | None] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):  # it parsed
        codes = noqa_codes(tok.string) if tok.type == tokenize.COMMENT else frozenset()
        if codes is None or codes:  # a bare noqa, or one naming codes
            lines[tok.start[0]] = codes
    return lines


def _suppressed(
    finding: Finding, node: ast.AST | None, noqa: Mapping[int, frozenset[str] | None]
) -> bool:
    """Tell whether a ``# noqa`` on the definition or docstring end covers a finding."""
    lines = {finding.line}
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        first = node.body[0]
        lines.update(range(node.lineno, first.lineno))
        if ast.get_docstring(node) is not None:
            lines.add(first.end_lineno or first.lineno)
    for line in lines:
        codes = noqa.get(line, frozenset())
        if codes is None or any(finding.code.startswith(c) for c in codes):
            return True
    return False


def _ruff_table(config: Config) -> dict[str, Any]:
    """Return the project's ruff settings, from pyproject.toml or ruff.toml."""
    path = config.tool_config("ruff")
    if path is not None and path != config.pyproject:
        from mlqa.config import parse_pyproject

        return parse_pyproject(path)[0]
    table = config.raw.get("tool", {}).get("ruff", {})
    return table if isinstance(table, dict) else {}


def _own_config_options(config: Config) -> list[str]:
    """Add the guide's D rules to the project's own ruff config, keeping its ignores.

    A project whose ``select`` has D rules keeps its selection; otherwise the
    preset's codes are added to it (and to its ``extend-select``). Since
    ``--extend-select`` would re-enable D rules the project ignores, those
    ignores are passed again after it.
    """
    table = _ruff_table(config)
    lint = table.get("lint", {}) if isinstance(table.get("lint"), dict) else {}
    selected = [str(c) for scope in (table, lint) for c in scope.get("select", [])]
    ignored = [
        code
        for scope in (table, lint)
        for key in ("ignore", "extend-ignore")
        for code in scope.get(key, [])
        if isinstance(code, str) and code.startswith("D")
    ]
    options: list[str] = []
    if not any(_is_pydocstyle(c) or c in ("D", "ALL") for c in selected):
        from mlqa.config import parse_pyproject

        guide = parse_pyproject(preset("ruff-docstrings.toml"))[0]["lint"]["select"]
        options = ["--extend-select", ",".join(guide)]
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
