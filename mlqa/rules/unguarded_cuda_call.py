"""MLQ203 unguarded-cuda-call: a ``torch.cuda`` function that raises where CUDA is absent.

Only the functions that really raise without CUDA are flagged:
:data:`RAISES_WITHOUT_CUDA` was measured by calling each candidate on a
CPU-only torch build, and ``tests/test_unguarded_cuda_call.py`` calls them
again whenever torch is installed and CUDA is not, so the table follows
torch. The ones that quietly do nothing there (``empty_cache()``,
``memory_allocated()``, ``manual_seed()``, ``device_count()``,
``amp.autocast()``) and ``torch.backends.cudnn`` settings are not flagged.
"""

from __future__ import annotations

import ast
import re

from mlqa.rules.context import FileContext, Options, State, mentions_device
from mlqa.rules.registry import Rule, define, register
from mlqa.rules.resolve import qualified_name
from mlqa.rules.scan import find_all, trie_regex

RULE = define(
    Rule(
        "MLQ203",
        "unguarded-cuda-call",
        "torch.cuda call that raises without CUDA (`torch.cuda.synchronize()`,"
        " `set_device(0)`, streams, events, peak-memory stats) with no guard.",
        """## What it does
Flags calls to the `torch.cuda` functions that raise when CUDA is absent:
`torch.cuda.synchronize()`, `set_device()`, `current_device()`,
`get_device_name()`/`get_device_properties()`/`get_device_capability()`,
`mem_get_info()`, `reset_peak_memory_stats()`, `memory_summary()`,
`set_per_process_memory_fraction()`, `Stream()`, `current_stream()`,
`Event()`, `torch.cuda.device(0)`, `CUDAGraph()`, `nvtx` ranges and the
memory-snapshot helpers, unless a guard is in sight: an enclosing
`if torch.cuda.is_available():` or `if device.type == "cuda":` (any test
about the device), an earlier `if not torch.cuda.is_available(): return`
(or `raise`, `sys.exit()`, `pytest.skip()`) or `assert
torch.cuda.is_available()`, a `try` that handles the failure, a conditional
expression, `torch.cuda.is_available() and ...`, a loop over
`range(torch.cuda.device_count())`, a function or class named for the device
(`def sync_cuda()`), or code that needs a GPU by design: multi-process GPU
code (`if ddp:`, `def setup(rank, world_size)`,
`torch.cuda.set_device(local_rank)`), GPU-only kernel paths
(`if self.flash:`, fp8, triton), and a function (or script) that already
calls `.cuda()`, where MLQ201 reports the cause once. Calls that quietly do
nothing without CUDA are not flagged:
`torch.cuda.empty_cache()`, `memory_allocated()`, `max_memory_allocated()`,
`manual_seed()`, `device_count()`, `is_available()`, `torch.cuda.amp`, and
`torch.backends.cudnn` settings. Tests and config files are not checked.

## Why is this bad?
These calls fail with "Torch not compiled with CUDA enabled" (or a similar
error) on a laptop, on Apple silicon and on CI runners, even when the rest of
the script moves everything to a `device` that falls back to the CPU, so a
script that would run anywhere crashes on its timing or memory bookkeeping.

## Example
```python
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.cuda.set_device(0)
start = time.perf_counter()
model(x.to(device))
torch.cuda.synchronize()
print(torch.cuda.max_memory_allocated(), time.perf_counter() - start)
```

## Use instead
```python
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
start = time.perf_counter()
model(x.to(device))
if device.type == "cuda":
    torch.cuda.synchronize()
print(torch.cuda.max_memory_allocated(), time.perf_counter() - start)
```
""",
    )
)

#: ``torch.cuda`` functions (relative names) that raise on a CPU-only torch
#: build (measured with torch 2.13; pinned by tests/test_unguarded_cuda_call.py).
RAISES_WITHOUT_CUDA = frozenset(
    {
        "synchronize",
        "set_device",
        "current_device",
        "init",
        "get_device_name",
        "get_device_properties",
        "get_device_capability",
        "get_rng_state",
        "can_device_access_peer",
        "current_blas_handle",
        "mem_get_info",
        "memory_summary",
        "memory_snapshot",
        "reset_peak_memory_stats",
        "reset_max_memory_allocated",
        "reset_max_memory_cached",
        "reset_accumulated_memory_stats",
        "set_per_process_memory_fraction",
        "caching_allocator_alloc",
        "ipc_collect",
        "set_sync_debug_mode",
        "utilization",
        "memory_usage",
        "temperature",
        "power_draw",
        "clock_rate",
        "Stream",
        "ExternalStream",
        "current_stream",
        "default_stream",
        "Event",
        "device",
        "CUDAGraph",
        "graph",
        "nvtx.range_push",
        "nvtx.range_pop",
        "nvtx.range",
        "nvtx.mark",
        "memory._record_memory_history",
        "memory._snapshot",
        "memory._dump_snapshot",
    }
)
#: ``cuda.<name>(``: where a candidate call is, in one pass over the text.
_CALL_TEXT = re.compile(r"cuda\.(?:" + trie_regex(sorted(RAISES_WITHOUT_CUDA)) + r")\(")
#: Words of code that needs a GPU by design: multi-process GPU training (one
#: process per GPU) and GPU-only kernels (flash attention, fp8, triton).
_DISTRIBUTED = (
    "ddp",
    "distributed",
    "rank",
    "world_size",
    "nccl",
    "fsdp",
    "flash",
    "fp8",
    "triton",
)
_HANDLED = frozenset(
    {"Exception", "BaseException", "RuntimeError", "AssertionError", "AttributeError"}
)
_IMPORTED = re.compile(
    r"from[ \t]+torch\.cuda(?:\.\w+)?[ \t]+import[ \t]+(?:\(([^)]*)\)|([\w \t,]+))"
)
_MODULE_ALIAS = re.compile(
    r"(?:import[ \t]+torch\.cuda|from[ \t]+torch[ \t]+import[ \t]+cuda)[ \t]+as[ \t]+(\w+)"
)


def _contains(outer: ast.AST, node: ast.AST) -> bool:
    """Whether ``outer`` may hold ``node``, judged by source positions."""
    line = getattr(outer, "lineno", None)
    if line is None:  # arguments, withitem, comprehension ...: look inside
        return True
    end = getattr(outer, "end_lineno", None) or line
    start = (line, getattr(outer, "col_offset", 0))
    stop = (end, getattr(outer, "end_col_offset", None) or 0)
    return start <= (node.lineno, node.col_offset) and (  # type: ignore[attr-defined]
        stop >= (node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
    )


def _ancestors(root: ast.AST, node: ast.AST) -> list[ast.AST] | None:
    """The nodes from ``root`` down to the parent of ``node``, found by position.

    Only the branches whose span holds the node are searched, so this costs a
    path through the tree, not a walk of the whole file.
    """
    for child in ast.iter_child_nodes(root):
        if child is node:
            return [root]
        if _contains(child, node):
            below = _ancestors(child, node)
            if below is not None:
                return [root, *below]
    return None


def _distributed(node: ast.AST) -> bool:
    """Whether a test, argument or parameter list names multi-process GPU code."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            word = sub.id
        elif isinstance(sub, ast.Attribute):
            word = sub.attr
        elif isinstance(sub, ast.arg):
            word = sub.arg
        else:
            continue
        if any(w in word.lower() for w in _DISTRIBUTED):
            return True
    return False


def _leaves(body: list[ast.stmt]) -> bool:
    """Whether a block always leaves: return, raise, exit or skip."""
    last = body[-1] if body else None
    if isinstance(last, (ast.Return, ast.Raise, ast.Continue, ast.Break)):
        return True
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
        func = last.value.func
        name = func.attr if isinstance(func, ast.Attribute) else None
        name = func.id if isinstance(func, ast.Name) else name
        return name in ("exit", "_exit", "skip", "quit")
    return False


def _guard_before(stmt: ast.stmt, block: list[ast.stmt]) -> bool:
    """An earlier ``if not cuda: return`` or ``assert cuda`` in the same block."""
    for earlier in block:
        if earlier is stmt:
            return False
        if isinstance(earlier, ast.Assert) and mentions_device(earlier.test):
            return True
        if (
            isinstance(earlier, ast.If)
            and not earlier.orelse
            and _leaves(earlier.body)
            and (mentions_device(earlier.test) or _distributed(earlier.test))
        ):
            return True
    return False


def _handles(handler: ast.ExceptHandler) -> bool:
    kind = handler.type
    names = kind.elts if isinstance(kind, ast.Tuple) else [kind]
    return kind is None or any(
        isinstance(n, (ast.Name, ast.Attribute))
        and (n.id if isinstance(n, ast.Name) else n.attr) in _HANDLED
        for n in names
    )


def _guards(parent: ast.AST, child: ast.AST) -> bool:
    """Whether ``parent`` guards its ``child`` (the node on the way to the call)."""
    if isinstance(parent, (ast.If, ast.While)) and child is not parent.test:
        return mentions_device(parent.test) or _distributed(parent.test)
    if isinstance(parent, ast.BoolOp) and isinstance(parent.op, ast.And):
        # ``torch.cuda.is_available() and torch.cuda.get_device_capability() ...``
        for value in parent.values:
            if value is child:
                break
            if mentions_device(value) or _distributed(value):
                return True
    if (
        isinstance(parent, (ast.For, ast.AsyncFor))
        and child is not parent.iter
        and "device_count" in ast.unparse(parent.iter)
    ):
        return True  # for i in range(torch.cuda.device_count()): no GPU, no loop
    if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        if any(w in parent.name.lower() for w in _DISTRIBUTED):
            return True
        if not isinstance(parent, ast.ClassDef) and _distributed(parent.args):
            return True
    if (
        isinstance(parent, ast.Try)
        and any(child is s for s in parent.body)
        and any(_handles(h) for h in parent.handlers)
    ):
        return True
    if isinstance(child, ast.stmt):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(parent, field, None)
            if (
                isinstance(block, list)
                and any(child is s for s in block)
                and _guard_before(child, block)
            ):
                return True
    return False


def _hardcodes_cuda(ctx: FileContext, scope: ast.AST | None) -> bool:
    """Whether the enclosing function (or the script) already calls ``.cuda(``.

    Such code runs only on a GPU by design, and MLQ201 reports the cause.
    """
    if scope is not None:
        spans: list[ast.AST] = [scope]
    else:  # the script's own statements, not its functions and classes
        defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        spans = [stmt for stmt in ctx.tree.body if not isinstance(stmt, defs)]
    for span in spans:
        first = getattr(span, "lineno", 1)
        last = getattr(span, "end_lineno", None) or first
        if any(".cuda(" in line for line in ctx.lines[first - 1 : last]):
            return True
    return False


def _guarded(ctx: FileContext, node: ast.AST) -> bool:
    """Whether an enclosing block guards the call (beyond the walker's state)."""
    child = node
    ancestors = _ancestors(ctx.tree, node) or []
    for parent in reversed(ancestors):
        if _guards(parent, child):
            return True
        child = parent
    functions = [
        a for a in ancestors if isinstance(a, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    return _hardcodes_cuda(ctx, functions[-1] if functions else None)


def scan_cuda_api(source: str, options: Options, starts: list[int]) -> None:
    """Mark the names of the ``torch.cuda`` functions that raise without CUDA.

    Args:
        source: The file's text.
        options: Unused.
        starts: Offsets, updated in place.
    """
    if "cuda" not in source:
        return
    starts.extend(match.start() for match in _CALL_TEXT.finditer(source))
    if "from torch.cuda" in source:  # from torch.cuda import synchronize as s
        for group in _IMPORTED.findall(source):
            for item in "".join(group).split(","):
                alias = item.split()[-1] if item.split() else ""
                if alias:
                    find_all(source, alias + "(", starts)
    if "cuda as" in source:  # import torch.cuda as tc
        for alias in _MODULE_ALIAS.findall(source):
            find_all(source, alias + ".", starts)


@register(ast.Call, rules=(RULE,), scan=scan_cuda_api)
def check_cuda_api_call(ctx: FileContext, node: ast.Call, state: State) -> None:
    """Check a ``torch.cuda`` call that raises without CUDA.

    Args:
        ctx: The file.
        node: The call.
        state: Where the walk is.
    """
    if state.guarded or not isinstance(node.func, (ast.Attribute, ast.Name)):
        return
    name = qualified_name(node.func, ctx.imports)
    if name is None or not name.startswith("torch.cuda."):
        return
    short = name[len("torch.cuda.") :]
    if short not in RAISES_WITHOUT_CUDA:
        return
    if short == "set_device" and any(_distributed(arg) for arg in node.args):
        return  # one process per GPU: torch.cuda.set_device(local_rank)
    if _guarded(ctx, node):
        return
    ctx.report(
        node,
        RULE,
        f"torch.cuda.{short}() raises where CUDA is absent (laptop, CI); "
        "guard it with `if torch.cuda.is_available():` or "
        '`if device.type == "cuda":`',
    )
