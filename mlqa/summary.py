"""What ``mlqa run`` prints around the findings: tables, totals, statistics.

Per step: files, findings, fixable, errors, seconds, status. Per code: how many
findings, how many the step's own fix removes and the command that does it
(``mlqa format``, ``mlqa lint --fix``, ``mlqa strip``). ``--statistics`` is
ruff's view: one line per code with its count, a ``[*]`` marker when some are
fixable, and the code's name.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from mlqa.diagnostics import Finding
    from mlqa.runner import Result

#: The command that fixes a step's fixable findings.
FIX_COMMANDS = {
    "format": "mlqa format",
    "lint": "mlqa lint --fix",
    "notebooks": "mlqa strip",
}
#: Steps whose every finding their fix command removes.
ALWAYS_FIXABLE = frozenset({"format", "notebooks"})
_SUBJECT = re.compile(r"^(?:Function|Method|Class|Function/method|Module) `[^`]*`:? ")
_QUOTED = re.compile(r"`[^`]*`")
#: Names of the codes no tool names itself.
NAMES = {"format": "unformatted-file (black)", "NB001": "notebook-not-stripped"}


class CodeStats(NamedTuple):
    """Counts for one code of one step.

    Attributes:
        step: The step that reported it.
        code: The code.
        total: How many findings.
        fixable: How many the step's fix command removes.
        command: That command, or "" when there is none.
    """

    step: str
    code: str
    total: int
    fixable: int
    command: str


def is_fixable(step: str, finding: Finding) -> bool:
    """Tell whether a step's fix command removes a finding.

    Args:
        step: The step's name.
        finding: The finding.

    Returns:
        True for every format and notebooks finding, and for findings the
        tool marks as safely fixable (ruff's ``fix.applicability == "safe"``).
    """
    return step in FIX_COMMANDS and (step in ALWAYS_FIXABLE or finding.fixable)


def by_code(results: Sequence[Result]) -> list[CodeStats]:
    """Count findings per step and code.

    Args:
        results: One result per step, findings as they will be reported.

    Returns:
        One entry per (step, code), in step order, most frequent code first.
    """
    rows = []
    for result in results:
        counts = Counter(f.code for f in result.findings)
        fixable = Counter(f.code for f in result.findings if is_fixable(result.tool, f))
        for code, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            command = FIX_COMMANDS[result.tool] if fixable[code] else ""
            rows.append(CodeStats(result.tool, code, count, fixable[code], command))
    return rows


def _render(table: Any, ascii_only: bool) -> str:
    from rich import box
    from rich.console import Console

    if ascii_only:
        table.box = box.ASCII2
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, force_terminal=False, color_system=None)
    console.print(table)
    return buffer.getvalue()


def steps_table(results: Sequence[Result], *, ascii_only: bool = False) -> str:
    """Render the per-step table (files, findings, fixable, errors, seconds).

    Args:
        results: One result per step.
        ascii_only: Draw with ASCII characters (for consoles that lack box
            drawing characters).

    Returns:
        The table as plain text.
    """
    from rich.table import Table

    table = Table(title="mlqa run", title_justify="left")
    columns = ("tool", "files", "findings", "fixable", "errors", "seconds", "status")
    for column in columns:
        table.add_column(
            column, justify="left" if column in ("tool", "status") else "right"
        )
    for r in results:
        status = "error" if r.errors else ("fail" if r.findings else "ok")
        fixable = sum(is_fixable(r.tool, f) for f in r.findings)
        table.add_row(
            r.tool, str(r.files), str(len(r.findings)), str(fixable),
            str(len(r.errors)), f"{r.seconds:.2f}", status,
        )  # fmt: skip
    return _render(table, ascii_only)


def codes_table(rows: Sequence[CodeStats], *, ascii_only: bool = False) -> str:
    """Render the per-code table (tool, code, count, fixable, fix with).

    Args:
        rows: From :func:`by_code`.
        ascii_only: Draw with ASCII characters.

    Returns:
        The table as plain text; empty when there are no findings.
    """
    if not rows:
        return ""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="findings by code", title_justify="left")
    for column in ("tool", "code", "count", "fixable", "fix with"):
        table.add_column(
            column, justify="right" if column in ("count", "fixable") else "left"
        )
    for row in rows:
        cells = (row.step, row.code, str(row.total), str(row.fixable), row.command)
        table.add_row(*(Text(cell) for cell in cells))  # mypy[x] is not markup
    return _render(table, ascii_only)


def totals(
    rows: Sequence[CodeStats], path: str = ".", baselined: int = 0, stale: int = 0
) -> str:
    """Say in one line how many findings there are and what fixes them.

    Args:
        rows: From :func:`by_code` (new findings only).
        path: The path ``mlqa run`` was given, appended to the fix commands.
        baselined: How many findings a baseline held.
        stale: How many baseline entries matched nothing any more.

    Returns:
        The line, with a trailing newline.
    """
    count = sum(row.total for row in rows)
    commands: Counter[str] = Counter()
    for row in rows:
        if row.fixable:
            commands[row.command] += row.fixable
    text = f"Found {count} finding{'' if count == 1 else 's'}"
    if commands:
        where = "" if path in (".", "") else f" {path}"
        fixes = ", ".join(f"`{c}{where}` fixes {n}" for c, n in commands.items())
        text += f" ({sum(commands.values())} fixable: {fixes})"
    if baselined or stale:
        text += f"; {baselined} more in the baseline"
        if stale:
            text += f", {stale} baseline entries fixed (--write-baseline drops them)"
    return text + ".\n"


def names(codes: Sequence[str], findings: Sequence[Finding]) -> dict[str, str]:
    """Name each code: ruff's rule names, mlqa's rules, mypy's error codes.

    Args:
        codes: The codes to name.
        findings: The findings (a code no tool names, such as pydoclint's,
            is named by its most common message, without the names in it).

    Returns:
        A name or one-line summary per code.
    """
    found: dict[str, str] = {}
    wanted = set(codes)
    if any(c[:1].isupper() and not c.startswith(("MLQ", "NB")) for c in wanted):
        found.update(_ruff_names())
    if any(c.startswith("MLQ") for c in wanted):
        from mlqa.rules.registry import all_rules

        found.update({code: rule.name for code, rule in all_rules().items()})
    if any(c.startswith("mypy[") for c in wanted):
        from mypy.errorcodes import error_codes

        for name, error_code in error_codes.items():
            found[f"mypy[{name}]"] = error_code.description
    found.update(NAMES)
    usual: dict[str, Counter[str]] = {}
    for f in findings:
        if f.code in wanted and f.code not in found:
            usual.setdefault(f.code, Counter())[_generic(f.message)] += 1
    for code, messages in usual.items():
        found[code] = messages.most_common(1)[0][0]
    return {code: found.get(code, "") for code in codes}


def _generic(message: str) -> str:
    """A message without its specifics: the object it names, quoted names."""
    return _QUOTED.sub("`...`", _SUBJECT.sub("", message, count=1))


def _ruff_names() -> dict[str, str]:
    import subprocess

    from mlqa.tools.ruff import ruff_binary

    proc = subprocess.run(
        [ruff_binary(), "rule", "--all", "--output-format=json"],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        return {str(r["code"]): str(r["name"]) for r in json.loads(proc.stdout)}
    except (json.JSONDecodeError, KeyError, TypeError):  # pragma: no cover
        return {}


def statistics(
    rows: Sequence[CodeStats], findings: Sequence[Finding], fmt: str = "text"
) -> str:
    """Render ruff-style statistics: one line per code, no findings.

    Args:
        rows: From :func:`by_code`.
        findings: The findings counted (to name codes no tool names).
        fmt: ``json`` for a list of objects; anything else for text lines
            ``COUNT  CODE  [*] name``.

    Returns:
        The statistics; empty text when there are no findings.
    """
    merged: dict[str, list[int]] = {}
    commands: dict[str, str] = {}
    for row in rows:
        counts = merged.setdefault(row.code, [0, 0])
        counts[0] += row.total
        counts[1] += row.fixable
        commands[row.code] = commands.get(row.code) or row.command
    order = sorted(merged, key=lambda code: (-merged[code][0], code))
    named = names(order, findings)
    if fmt == "json":
        items = [
            {
                "code": code,
                "name": named[code],
                "count": merged[code][0],
                "fixable": merged[code][1],
                "fix": commands[code] or None,
            }
            for code in order
        ]
        return json.dumps(items, indent=2, ensure_ascii=False) + "\n"
    if not order:
        return ""
    width = max(len(str(merged[c][0])) for c in order)
    code_width = max(len(c) for c in order)
    return "".join(
        f"{merged[c][0]:>{width}}  {c:<{code_width}}  "
        f"{'[*]' if merged[c][1] else '   '} {named[c]}\n"
        for c in order
    )
