"""Findings inside functions that have no annotations: the ones that rest on guesses.

mypy leaves a function with no annotations at all unchecked by default; mlqa's
preset sets ``check_untyped_defs`` so that an undefined name, a missing module
attribute, a broken override, a redefinition or an invalid type there is still
caught.
Everything else mypy says about such a body rests on types it inferred from
values (``params = {"blocks": [...]}``, then ``target = params["blocks"][0]``;
``start = 0`` then ``start = time.time()``), which a research repo's author
never wrote and would not accept as errors: on four held-out repositories
nearly all such findings were false (``docs/types.md``).

:func:`drop_untyped_guesses` keeps, in those bodies, only the findings whose
codes do not depend on an inferred type (:data:`DECLARATION_CODES`, and
``attr-defined`` about a module); ``[tool.mlqa] report-untyped-guesses = true``
keeps all of them, and so does a project whose own mypy config sets
``check_untyped_defs`` or ``strict`` (:func:`project_asks`): it asked mypy
for exactly those findings. Module-level code and functions with any annotation are
checked as mypy checks them.
"""

from __future__ import annotations

import ast
import configparser
import re

from mlqa.config import Config
from mlqa.diagnostics import Finding
from mlqa.tools.mypy_source import Source, Sources, parameters

#: Codes that hold whatever types mypy inferred for the values involved.
DECLARATION_CODES = frozenset(
    {
        "name-defined",  # NameError at run time
        "used-before-def",
        "no-redef",  # a second def or class of one name
        "override",  # a method whose signature breaks its base's
        "valid-type",
        "import",
        "import-not-found",
        "import-untyped",
    }
)
#: A module's missing attribute (``Module "numpy" has no attribute "in1d"``): the
#: module is the one imported, not a type mypy guessed. Not ``(not iterable)``,
#: which mypy also says of an ``nn.Module`` value.
MODULE_ATTRIBUTE = re.compile(
    r'^Module (?:"[^"]+" )?has no attribute "(?P<name>[^"]+)"(?!.*\(not iterable\)$)'
)
_FUNCTION = (ast.FunctionDef, ast.AsyncFunctionDef)


_ASKING = ("check_untyped_defs", "strict")


def project_asks(config: Config) -> bool:
    """Tell whether the project's own mypy config checks unannotated bodies.

    Args:
        config: The project config.

    Returns:
        True when its ``[tool.mypy]``, ``mypy.ini``, ``.mypy.ini`` or
        ``setup.cfg`` ``[mypy]`` sets ``check_untyped_defs`` or ``strict``
        true.
    """
    own = config.tool_config("mypy")
    if own is None:
        return False
    if own == config.pyproject:
        table = config.raw.get("tool", {}).get("mypy", {})
        return any(table.get(key) is True for key in _ASKING)
    parser = configparser.ConfigParser()
    try:
        parser.read(own, encoding="utf-8")
        return any(parser.getboolean("mypy", key, fallback=False) for key in _ASKING)
    except (configparser.Error, ValueError, UnicodeDecodeError):
        return False  # mypy itself reports a config it cannot read


def drop_untyped_guesses(findings: list[Finding], sources: Sources) -> list[Finding]:
    """Drop the findings about inferred types inside unannotated functions.

    Args:
        findings: mypy's findings, codes without the ``mypy[]`` wrapper.
        sources: The parsed files, shared with the other filters.

    Returns:
        The findings kept, in order.
    """
    return [
        finding
        for finding in findings
        if declaration_level(finding)
        or not in_untyped_function(sources[finding.path], finding.line)
    ]


def declaration_level(finding: Finding) -> bool:
    """Tell whether a finding holds whatever types mypy inferred.

    Args:
        finding: A mypy finding.

    Returns:
        True for the codes in :data:`DECLARATION_CODES` and a missing
        attribute of a module.
    """
    if finding.code in DECLARATION_CODES:
        return True
    return finding.code == "attr-defined" and bool(
        MODULE_ATTRIBUTE.match(finding.message)
    )


def in_untyped_function(source: Source, line: int) -> bool:
    """Tell whether ``line`` is in the body of a function mypy calls untyped.

    Args:
        source: The parsed file.
        line: A 1-based line number.

    Returns:
        True when the innermost function or class around the line is a
        function with no annotation at all (arguments, return, type comment).
    """
    scopes = source.scopes_at(line)
    innermost = scopes[-1] if len(scopes) > 1 else None
    if not isinstance(innermost, _FUNCTION) or line < _body_start(innermost):
        return False
    if innermost.returns is not None or any(
        a.annotation for a in parameters(innermost)
    ):
        return False
    signature = range(innermost.lineno, _body_start(innermost))
    return not any(
        "# type:" in text and "# type: ignore" not in text
        for text in map(source.line, signature)
    )


def _body_start(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """The first line of the body (a docstring counts), past the signature."""
    return function.body[0].lineno
