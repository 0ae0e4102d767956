"""Uses of a value that may be None: the findings ``report-optional-uses`` keeps.

In training code the guarantee that an ``Optional`` value is set is almost
always one mypy cannot see (set in ``__init__`` when a flag is on, on rank 0
only, by the first loop iteration); :func:`optional_use` tells such findings
apart from those about where a ``None`` comes from, which stay reported.
"""

from __future__ import annotations

import re

from mlqa.diagnostics import Finding

# Messages about a use of a value whose type includes None, by mypy code.
_NONE_USES = {
    "union-attr": re.compile(r'^Item "None" of "[^"]*" has no attribute '),
    "attr-defined": re.compile(r'^"None" has no attribute '),
    "index": re.compile(r'^Value of type "[^"]* \| None" is not indexable$'),
    "operator": re.compile(
        r'^Unsupported (?:left |right )?operand types? for \S+ \((?:"None"'
        r'|"[^"]* \| None")(?: and "[^"]*")?\)$|^Unsupported operand types for \S+ '
        r'\("[^"]*" and "None"\)$'
    ),
    "misc": re.compile(r'^"None" (?:not callable|object is not iterable)$'),
}
# ``Argument 1 to "f" has incompatible type "T | None"; expected "T"``, and the
# same for a return value: the complaint is the None and nothing else.
_NONE_ARGUMENT = re.compile(
    r"^(?:Argument .* has incompatible type|Incompatible return value type \(got)"
    r' "(?P<got>[^"]*)"\)?[;,] expected "(?P<expected>[^"]*)"\)?$'
)


def optional_use(finding: Finding) -> bool:
    """Tell whether a finding's only complaint is the ``None`` in a type.

    Args:
        finding: A mypy finding, its code without the ``mypy[]`` wrapper.

    Returns:
        True for a use of a possibly-None value (see the module docstring).
    """
    pattern = _NONE_USES.get(finding.code)
    if pattern is not None:
        return pattern.search(finding.message) is not None
    if finding.code not in ("arg-type", "return-value"):
        return False
    match = _NONE_ARGUMENT.match(finding.message)
    if match is None:
        return False
    got = [t for t in match["got"].split(" | ") if t != "None"]
    if len(got) == len(match["got"].split(" | ")):
        return False  # no None in it: a real mismatch
    expected = match["expected"].split(" | ")
    return bool(got) and all(t in expected or t == "Any" for t in got)
