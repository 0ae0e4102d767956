"""MLQ201 hardcoded-cuda-call: ``.cuda()`` without a CPU fallback."""

from __future__ import annotations

import ast

from mlqa.rules.context import FileContext, Options, State
from mlqa.rules.hardcoded_device import FALLBACK_HINT, unchecked
from mlqa.rules.registry import Rule, define, register
from mlqa.rules.resolve import qualified_name
from mlqa.rules.scan import find_all

RULE = define(
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
`class CUDAAccelerator`, `def try_gpu()`), nor code after an early exit
(`if not torch.cuda.is_available(): return` / `raise` / `sys.exit()` /
`pytest.skip()`), in a multi-GPU branch (`if ddp:`, `if args.distributed:`,
`if world_size > 1:`), in an `if __name__ == "__main__":` smoke test, or in a
file that needs a GPU by design (NCCL or `init_distributed_mode` set-up,
Triton kernels, bitsandbytes, FlashAttention, GPU memory measurements,
Transformer Engine), where a CPU fallback is impossible. Tests and config
files are not checked.

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
    )
)


def scan_cuda_calls(source: str, options: Options, starts: list[int]) -> None:
    """Mark ``.cuda(`` in the text.

    Args:
        source: The file's text.
        options: Unused.
        starts: Offsets, updated in place.
    """
    find_all(source, ".cuda(", starts)


@register(ast.Call, rules=(RULE,), scan=scan_cuda_calls)
def check_cuda_call(ctx: FileContext, node: ast.Call, state: State) -> None:
    """Check ``x.cuda()`` (not ``torch.cuda``, nor a method given ``device=``).

    Args:
        ctx: The file.
        node: The call.
        state: Where the walk is.
    """
    func = node.func
    if (
        unchecked(ctx, state, node.lineno)
        or not isinstance(func, ast.Attribute)
        or func.attr != "cuda"
        or any(kw.arg == "device" for kw in node.keywords)
        or qualified_name(func, ctx.imports) == "torch.cuda"
    ):
        return
    value = func.value
    where = ast.Constant(value=None)
    where.lineno = value.end_lineno or value.lineno
    where.col_offset = value.end_col_offset or value.col_offset
    ctx.report(where, RULE, f".cuda() call with {FALLBACK_HINT}")
