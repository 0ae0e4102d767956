"""MLQ202 hardcoded-device: a literal GPU device string without a CPU fallback.

A fallback in the same expression (``"cuda" if torch.cuda.is_available() else
"cpu"``), an enclosing ``if`` about the device, code named for the device or a
``device`` parameter makes it fine (the walker tracks these as ``guarded``).
"""

from __future__ import annotations

import ast
import re

from mlqa.rules.context import FileContext, Options, State
from mlqa.rules.registry import Rule, define, register
from mlqa.rules.resolve import qualified_name
from mlqa.rules.scan import find_all

RULE = define(
    Rule(
        "MLQ202",
        "hardcoded-device",
        "Literal 'cuda' device string without a CPU fallback.",
        """## What it does
Flags a literal GPU device string (`"cuda"`, `"cuda:0"`, `f"cuda:{rank}"`,
`"mps"`) given to `.to(...)`, `torch.device(...)`,
`torch.set_default_device(...)`, a `device=`, `map_location=`, `device_map=`
or `accelerator=` keyword, or assigned to a variable or attribute named like
`device`, when there is no CPU fallback in the same expression or an
enclosing device check. `torch.device("cuda" if torch.cuda.is_available()
else "cpu")` is fine, and so is a `device` parameter or config field, and
code in a function or class named for the device (`def gpu(i)`).

## Why is this bad?
A hardcoded device makes the code fail wherever that device is missing: on
a laptop, on CI runners and on machines with a different GPU layout. The
device is a property of where the code runs, not of the code.

## Example
```python
device = "cuda"
model = Net().to("cuda:0")
state = torch.load("model.pt", map_location="cuda")
```

## Use instead
```python
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
model = Net().to(device)
state = torch.load("model.pt", map_location=device)
```
""",
    )
)

#: The advice every device finding ends with.
FALLBACK_HINT = (
    "no CPU fallback; use a device parameter or "
    "'cuda' if torch.cuda.is_available() else 'cpu'"
)
_DEVICE = re.compile(r"(cuda|gpu|mps)(:\d+)?", re.IGNORECASE)
_DEVICE_KEYWORDS = frozenset({"device", "map_location", "accelerator", "device_map"})
_DEVICE_CALLS = frozenset({"torch.device", "torch.set_default_device"})
_DEVICE_TEXTS = ('"cuda', "'cuda", '"mps"', "'mps'", '"gpu"', "'gpu'")


def device_literal(node: ast.expr | None) -> str | None:
    """Return the device a literal names, if it is a GPU device string.

    Args:
        node: An expression.

    Returns:
        ``"cuda"``, ``"cuda:0"``, ``"mps"`` ... for a literal string (or an
        f-string starting with ``cuda:``); None otherwise.
    """
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value if _DEVICE.fullmatch(node.value) else None
    if isinstance(node, ast.JoinedStr) and node.values:
        head = node.values[0]
        if (
            isinstance(head, ast.Constant)
            and isinstance(head.value, str)
            and head.value.lower().startswith("cuda:")
        ):
            return head.value + "{...}"
    return None


def scan_device_strings(source: str, options: Options, starts: list[int]) -> None:
    """Mark ``"cuda..."``, ``"mps"`` and ``"gpu"`` strings.

    Args:
        source: The file's text.
        options: Unused.
        starts: Offsets, updated in place.
    """
    for needle in _DEVICE_TEXTS:
        find_all(source, needle, starts)


def _literal(ctx: FileContext, node: ast.expr | None, state: State, where: str) -> None:
    device = device_literal(node)
    if device is not None and node is not None and not state.guarded:
        ctx.report(node, RULE, f"hardcoded device {device!r} {where}: {FALLBACK_HINT}")


@register(ast.Call, rules=(RULE,), scan=scan_device_strings)
def check_call(ctx: FileContext, node: ast.Call, state: State) -> None:
    """Check ``.to("cuda")``, ``torch.device("cuda")`` and ``device="cuda"``.

    Args:
        ctx: The file.
        node: The call.
        state: Where the walk is.
    """
    func = node.func
    if isinstance(func, ast.Attribute) and node.args:
        if func.attr == "to":
            _literal(ctx, node.args[0], state, "in .to()")
        elif (
            func.attr in ("device", "set_default_device")
            and qualified_name(func, ctx.imports) in _DEVICE_CALLS
        ):
            _literal(ctx, node.args[0], state, f"in {func.attr}()")
    for kw in node.keywords:
        if kw.arg in _DEVICE_KEYWORDS:
            _literal(ctx, kw.value, state, f"as {kw.arg}=")


@register(ast.Assign, ast.AnnAssign, rules=(RULE,), scan=scan_device_strings)
def check_assign(
    ctx: FileContext, node: ast.Assign | ast.AnnAssign, state: State
) -> None:
    """Check ``device = "cuda"`` (not in class bodies: those are config fields).

    Args:
        ctx: The file.
        node: The assignment.
        state: Where the walk is.
    """
    if state.class_body:
        return
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    for target in targets:
        name = target.id if isinstance(target, ast.Name) else None
        if isinstance(target, ast.Attribute):
            name = target.attr
        if name and "device" in name.lower():
            _literal(ctx, node.value, state, f"assigned to {name}")
            return
