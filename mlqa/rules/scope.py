"""Where the ML rules apply: code that trains, code that needs a GPU by design, smoke tests.

The rules report run settings and device choices a maintainer would change
between runs or machines. That is a property of the *code around* a literal,
so this module answers three questions about a file or a block, measured on
real repositories (``benchmarks/eval_rules.py``):

* does the file train (an optimizer, ``backward()``, ``fit()``, a trainer, an
  epoch loop)? A file that never trains -- a model or layer definition, an
  inference, export or data-preparation script -- has no run settings: the
  hyperparameter rules (MLQ1xx) leave it alone;
* does the file need a GPU by design (NCCL/DDP set-up, Triton kernels,
  bitsandbytes, FlashAttention, GPU memory measurements)? A CPU fallback is
  impossible there, so the device rules (MLQ201/MLQ202) leave it alone;
* is an ``if __name__ == "__main__":`` block a smoke test (no optimizer, no
  loop: a model fed random tensors once)? Nothing in it is a run setting.
"""

from __future__ import annotations

import ast
import re

#: Text that shows a file trains a model (code cells only, for notebooks).
TRAINING_SIGNS = (
    "optim",
    ".backward(",
    ".step(",
    "fit(",
    "Trainer(",
    "train(",
    "epoch",
    "training_step",
    "learn(",
)

#: Text that shows a file runs on a GPU by design: a CPU fallback is impossible.
GPU_ONLY_SIGNS = (
    "nccl",
    "init_distributed_mode(",
    "import triton",
    "from triton",
    "bitsandbytes",
    "flash_attention_2",
    "flash_attn",
    "max_memory_allocated(",
    "transformer_engine",
)

#: Calls in a ``__main__`` block that make it a run rather than a smoke test.
_RUN_CALLS = re.compile(
    r"optim|^step$|_step$|^fit$|^fit_|^train$|^train_|^main$|^run$|^setup$|^cli$"
    r"|^CLI$|[Tt]rainer$|^spawn$|^launch$"
)


_LAST: tuple[str | None, bool] = (None, False)


def trains(source: str) -> bool:
    """Tell whether a file trains a model (and so may have run settings).

    Args:
        source: The file's text (a notebook's code cells).

    Returns:
        True when it mentions an optimizer, ``backward(``, ``.step(``, ``fit(``, a
        ``Trainer(``, a ``train(`` call or definition, epochs, a
        ``training_step`` or an RL agent's ``learn(``.
    """
    global _LAST
    if _LAST[0] is not source:  # the scans and the walk ask about the same text
        _LAST = (source, any(_in_code(source, sign) for sign in TRAINING_SIGNS))
    return _LAST[1]


def _in_code(source: str, sign: str) -> bool:
    """Tell whether sign occurs outside a ``#`` comment (``# the AdamW optimizer``).

    Only the text before the sign on its line is looked at, so the usual
    first occurrence (``import torch.optim``) costs one short scan.
    """
    index = source.find(sign)
    while index != -1:
        line_start = source.rfind("\n", 0, index) + 1
        if "#" not in source[line_start:index]:
            return True
        index = source.find(sign, index + len(sign))
    return False


def gpu_only(source: str) -> bool:
    """Tell whether a file needs a GPU by design (no CPU fallback is possible).

    Args:
        source: The file's text.

    Returns:
        True for NCCL/``init_distributed_mode`` set-up, Triton kernels, bitsandbytes, FlashAttention, GPU memory measurements
        and Transformer Engine (fp8).
    """
    return any(sign in source for sign in GPU_ONLY_SIGNS)


def is_main_guard(test: ast.expr) -> bool:
    """Tell whether an ``if`` test is ``__name__ == "__main__"``.

    Args:
        test: The test.

    Returns:
        True for ``__name__ == "__main__"`` (either order).
    """
    if not (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq)
    ):
        return False
    sides = [test.left, test.comparators[0]]
    names = {s.id for s in sides if isinstance(s, ast.Name)}
    texts = {s.value for s in sides if isinstance(s, ast.Constant)}
    return names == {"__name__"} and texts == {"__main__"}


def is_smoke_test(body: list[ast.stmt]) -> bool:
    """Tell whether a ``__main__`` block only smoke-tests (no optimizer, no loop, no run).

    Args:
        body: The block.

    Returns:
        True when it has no loop and names no optimizer, ``step``, ``fit``,
        ``train*``, ``main``/``run``/``setup``/``cli``, trainer, or a launcher
        (``mp.spawn(main, ...)``, ``fabric.launch(main)``).
    """
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, (ast.For, ast.While, ast.AsyncFor)):
                return False
            name = node.attr if isinstance(node, ast.Attribute) else None
            if isinstance(node, ast.Name):
                name = node.id
            if name and _RUN_CALLS.search(name):
                return False
    return True


def ends_block(body: list[ast.stmt]) -> bool:
    """Tell whether a block always leaves (``return``, ``raise``, ``sys.exit``, ``pytest.skip``).

    Args:
        body: The block of an ``if``.

    Returns:
        True when its last statement returns, raises, continues, breaks or
        calls ``exit``/``skip``.
    """
    if not body:
        return False
    last = body[-1]
    if isinstance(last, (ast.Return, ast.Raise, ast.Continue, ast.Break)):
        return True
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
        func = last.value.func
        name = func.attr if isinstance(func, ast.Attribute) else None
        if isinstance(func, ast.Name):
            name = func.id
        return name in ("exit", "_exit", "skip", "quit")
    return False
