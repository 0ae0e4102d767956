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

Also fine, because no fallback is needed or possible: code after an early
exit (`if not torch.cuda.is_available(): return`), a multi-GPU branch
(`if ddp:` ... `device = f"cuda:{ddp_local_rank}"`), one GPU per process
(`f"cuda:{local_rank}"`, `torch.device("cuda", rank)`), a Lightning/Fabric run
on several GPUs (`L.Fabric(accelerator="cuda", devices=4)`,
`strategy="ddp"`), xgboost/lightgbm/catboost (`device="cuda"` falls back to
the CPU by itself), an `if __name__ == "__main__":` smoke test, a file that
needs a GPU by design (as in MLQ201), and nanoGPT-style module-level defaults
above `exec(open("configurator.py").read())`.

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
#: Libraries whose ``device="cuda"`` falls back to the CPU when no GPU is visible.
_FALLBACK_LIBRARIES = frozenset({"xgboost", "lightgbm", "catboost"})


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
            and not _per_rank(node)
        ):
            return head.value + "{...}"
    return None


def _per_rank(node: ast.AST) -> bool:
    """Tell whether an expression names a process rank (``f"cuda:{local_rank}"``).

    One GPU per process (DDP, ``torchrun``) is multi-GPU code by design.
    """
    for sub in ast.walk(node):
        name = sub.id if isinstance(sub, ast.Name) else None
        if isinstance(sub, ast.Attribute):
            name = sub.attr
        if name and "rank" in name.lower():
            return True
    return False


def _by_design(ctx: FileContext, node: ast.Call) -> bool:
    """Tell whether a call's device needs no fallback.

    xgboost, lightgbm and catboost fall back to the CPU by themselves; a
    Lightning/Fabric run on several GPUs (``devices=4``, ``strategy="ddp"``)
    and ``torch.device("cuda", rank)`` are multi-GPU by design.
    """
    name = qualified_name(node.func, ctx.imports) or ""
    if name.partition(".")[0] in _FALLBACK_LIBRARIES:
        return True
    for kw in node.keywords:
        value = kw.value
        if kw.arg == "devices" and (
            (
                isinstance(value, ast.Constant)
                and isinstance(value.value, int)
                and not isinstance(value.value, bool)
                and value.value > 1
            )
            or (isinstance(value, (ast.List, ast.Tuple)) and len(value.elts) > 1)
        ):
            return True
        if (
            kw.arg == "strategy"
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
            and any(w in value.value.lower() for w in ("ddp", "fsdp", "deepspeed"))
        ):
            return True
    return len(node.args) > 1 and _per_rank(node.args[1])


def scan_device_strings(source: str, options: Options, starts: list[int]) -> None:
    """Mark ``"cuda..."``, ``"mps"`` and ``"gpu"`` strings.

    Args:
        source: The file's text.
        options: Unused.
        starts: Offsets, updated in place.
    """
    for needle in _DEVICE_TEXTS:
        find_all(source, needle, starts)


def unchecked(ctx: FileContext, state: State, line: int) -> bool:
    """Tell whether the device rules are off here.

    Args:
        ctx: The file.
        state: Where the walk is.
        line: The line of the code checked.

    Returns:
        True under a device test or a device-named function, in a smoke test,
        in a file that needs a GPU by design, and in the module-level settings
        above a configurator that overrides them at run time.
    """
    return (
        state.guarded
        or state.smoke
        or ctx.gpu_only
        or (not state.scopes and not state.in_class and line < ctx.config_line)
    )


def _literal(ctx: FileContext, node: ast.expr | None, state: State, where: str) -> None:
    device = device_literal(node)
    if (
        device is not None
        and node is not None
        and not unchecked(ctx, state, node.lineno)
    ):
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
    if unchecked(ctx, state, node.lineno) or _by_design(ctx, node):
        return
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
