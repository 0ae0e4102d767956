"""MLQ2xx: devices hardcoded without a CPU fallback.

``model.cuda()`` or ``torch.device("cuda")`` with no fallback is why code
written on a GPU box fails on a laptop and in CI. A fallback in the same
expression (``"cuda" if torch.cuda.is_available() else "cpu"``), an enclosing
``if`` about the device (``if torch.cuda.is_available():``, ``if args.gpu:``)
or a ``device`` parameter makes it fine.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from mlqa.rules.registry import Rule
from mlqa.rules.resolve import qualified_name

if TYPE_CHECKING:
    from mlqa.rules.engine import FileContext, State

_DEVICE = re.compile(r"(cuda|gpu|mps)(:\d+)?", re.IGNORECASE)
_DEVICE_KEYWORDS = frozenset({"device", "map_location", "accelerator", "device_map"})
_DEVICE_CALLS = frozenset({"torch.device", "torch.set_default_device"})


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


_HINT = "no CPU fallback; use a device parameter or 'cuda' if torch.cuda.is_available() else 'cpu'"


class DeviceRules:
    """The MLQ2xx hooks the engine calls on calls and assignments; they only collect."""

    def _literal(
        self, ctx: FileContext, node: ast.expr | None, state: State, where: str
    ) -> None:
        device = device_literal(node)
        if device is not None and node is not None and not state.guarded:
            ctx.report(node, "MLQ202", f"hardcoded device {device!r} {where}: {_HINT}")

    def on_call(self, ctx: FileContext, node: ast.Call, state: State) -> None:
        """Check ``.cuda()``, ``.to("cuda")``, ``torch.device("cuda")``, ``device="cuda"``.

        Args:
            ctx: The file.
            node: The call.
            state: Where the walk is.
        """
        func = node.func
        if isinstance(func, ast.Attribute):
            if func.attr == "cuda" and not state.guarded:
                # ``obj.cuda(x, device=d)``: a method given its device, not Tensor.cuda()
                given = any(kw.arg == "device" for kw in node.keywords)
                if not given and qualified_name(func, ctx.imports) != "torch.cuda":
                    value = func.value
                    where = ast.Constant(value=None)
                    where.lineno = value.end_lineno or value.lineno
                    where.col_offset = value.end_col_offset or value.col_offset
                    ctx.report(where, "MLQ201", f".cuda() call with {_HINT}")
            elif func.attr == "to" and node.args:
                self._literal(ctx, node.args[0], state, "in .to()")
        if (
            node.args
            and isinstance(func, ast.Attribute)
            and func.attr in ("device", "set_default_device")
            and qualified_name(func, ctx.imports) in _DEVICE_CALLS
        ):
            self._literal(ctx, node.args[0], state, f"in {func.attr}()")
        for kw in node.keywords:
            if kw.arg in _DEVICE_KEYWORDS:
                self._literal(ctx, kw.value, state, f"as {kw.arg}=")

    def on_assign(
        self, ctx: FileContext, node: ast.Assign | ast.AnnAssign, state: State
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
                self._literal(ctx, node.value, state, f"assigned to {name}")
                return


RULES = (
    Rule(
        "MLQ201",
        "hardcoded-cuda-call",
        ".cuda() call without a CPU fallback.",
        """## What it does
Flags `x.cuda()` (and `x.cuda(0)`, `x.cuda(args.gpu)`) unless a CPU fallback
is in sight: an enclosing `if` whose test is about the device
(`if torch.cuda.is_available():`, `if args.gpu is not None:`,
`if use_cuda:`) or a conditional expression
(`model.cuda() if use_cuda else model`). Code whose job is the device is
not flagged either: a function or class named for it (`def cuda(self)`,
`class CUDAAccelerator`, `def try_gpu()`). Tests and config files are not
checked.

## Why is this bad?
`.cuda()` fails with "Torch not compiled with CUDA enabled" or "no CUDA GPUs
are available" on a laptop, on Apple silicon and in CI, so code that ran on
the GPU box cannot even be smoke-tested elsewhere.

## Example
```python
model = Net().cuda()
for images, labels in loader:
    images, labels = images.cuda(), labels.cuda()
```

## Use instead
```python
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
model = Net().to(device)
for images, labels in loader:
    images, labels = images.to(device), labels.to(device)
```
""",
    ),
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
    ),
)
