"""MLQ103 hardcoded-loop-bound: an epoch or step loop with a literal bound."""

from __future__ import annotations

import ast
import re

from mlqa.rules import hyperparameter_constant
from mlqa.rules.context import FileContext, Options, State
from mlqa.rules.hyperparameter_apis import USE_CONFIG, show
from mlqa.rules.registry import Rule, define, register
from mlqa.rules.resolve import qualified_name
from mlqa.rules.run_settings import applies
from mlqa.rules.scan import find_all
from mlqa.rules.scope import trains

RULE = define(
    Rule(
        "MLQ103",
        "hardcoded-loop-bound",
        "Epoch or step loop with a literal bound (for epoch in range(90)).",
        """## What it does
Flags a training loop over epochs or steps whose bound is a literal:
`for epoch in range(90)`, `for step in trange(10_000)`,
`for epoch in tqdm(range(1, 91))`, `while global_step < 100_000`. The loop
variable must look like an epoch or step counter (`epoch`, `step`,
`global_step`, `it`, `iteration` ...) or the body must take a training step
(`loss.backward()`, `optimizer.step()`, `model.fit(...)`, `train(...)`), so
`for _ in range(10): loss.backward(); opt.step()` is flagged while
`for i in range(3)` and `for i in range(len(batch))` are not. Like every
MLQ1xx rule it applies to code that trains (see `mlqa rule MLQ101`).

## Why is this bad?
The number of epochs or steps is a hyperparameter like any other: with a
literal bound, a longer run or a quick smoke test needs a code change, and
the run's config does not record how long it trained.

## Example
```python
for epoch in range(90):
    train_one_epoch(model, loader, optimizer)
```
""" + USE_CONFIG,
    )
)

_LOOP_VAR = re.compile(
    r"^(?:\w+_)?(?:epoch|epochs|step|steps|iteration|iterations|iter|iters|it|itr|update|updates"
    r"|ep)(?:_(?:idx|i|num|id|no|n|count|index|counter))?$",
    re.IGNORECASE,
)
_LOOP_HEAD = re.compile(
    r"[ \t]*(?:async[ \t]+)?(?:for[ \t][^\n]*?(?:epoch|step|\bitr?\b|\biter|\bupdates?\b|\bep\b)"
    r"|while[ \t])"
)
_PROGRESS = frozenset({"tqdm", "track", "progress_bar", "enumerate", "trange"})
_TRAIN_CALL = re.compile(r"train\w*\(")
#: Calls that make a loop, whatever its variable, a training loop.
_STEPS = frozenset({"backward", "step", "fit", "fit_one_epoch"})


def scan_loops(source: str, options: Options, starts: list[int]) -> None:
    """Mark loop headers whose text looks like an epoch/step loop, and ``while`` loops.

    Args:
        source: The file's text.
        options: Unused (the scan does not depend on names).
        starts: Offsets, updated in place.
    """
    if not trains(source):
        return  # a file that never trains has no run settings
    heads: list[int] = []
    # A loop whose body steps an optimizer is a training loop whatever its
    # variable: its training calls make it a candidate.
    find_all(source, ".backward(", starts)
    find_all(source, ".step(", starts)
    find_all(source, "fit(", starts)
    starts += [m.start() for m in _TRAIN_CALL.finditer(source)]
    find_all(source, "for ", heads)
    find_all(source, "while ", heads)
    for head in heads:
        line_start = source.rfind("\n", 0, head) + 1
        if (
            not source[line_start:head].strip(" \tasync")
            and _LOOP_HEAD.match(source, line_start) is not None
        ):
            starts.append(head)


def _bound(ctx: FileContext, loop: ast.expr) -> ast.expr | None:
    """The bound of ``range(n)``/``trange(a, n)``, through ``tqdm``/``enumerate``."""
    for _ in range(3):
        if not isinstance(loop, ast.Call):
            return None
        name = qualified_name(loop.func, ctx.imports) or ""
        last = name.rpartition(".")[2]
        if last in ("range", "trange"):
            break
        if last in _PROGRESS and loop.args:
            loop = loop.args[0]
            continue
        return None
    else:
        return None
    if not isinstance(loop, ast.Call) or not loop.args or len(loop.args) > 3:
        return None
    bound = loop.args[0] if len(loop.args) == 1 else loop.args[1]
    return None if isinstance(bound, ast.Starred) else bound


def _setting(ctx: FileContext, bound: ast.expr, name: str, state: State) -> None:
    hyperparameter_constant.check_setting(
        ctx,
        bound,
        state,
        RULE,
        f"hardcoded loop bound {show(bound)} for {name}; "
        "read it from config or the command line",
        f"the {name} loop bound",
    )


@register(
    ast.For,
    ast.AsyncFor,
    rules=(RULE, hyperparameter_constant.RULE),
    scan=scan_loops,
)
def check_for(ctx: FileContext, node: ast.For | ast.AsyncFor, state: State) -> None:
    """Check ``for epoch in range(90)`` and its ``tqdm``/``trange`` variants.

    Args:
        ctx: The file.
        node: The loop.
        state: Where the walk is.
    """
    if not applies(ctx, state):
        return
    target = node.target
    if isinstance(target, ast.Tuple) and target.elts:
        target = target.elts[-1]
    if not isinstance(target, ast.Name):
        return
    name = target.id
    if not _LOOP_VAR.match(name):
        if not _trains(node.body):
            return
        name = "training"
    bound = _bound(ctx, node.iter)
    if bound is not None:
        _setting(ctx, bound, name, state)


def _trains(body: list[ast.stmt]) -> bool:
    """Tell whether a loop body takes a training step (``loss.backward()``, ``opt.step()``, ``train(...)``)."""
    for stmt in body:
        for sub in ast.walk(stmt):
            if isinstance(sub, ast.Call):
                func = sub.func
                name = func.attr if isinstance(func, ast.Attribute) else None
                if isinstance(func, ast.Name):
                    name = func.id
                if name and (name in _STEPS or name.startswith("train")):
                    return True
    return False


@register(ast.While, rules=(RULE, hyperparameter_constant.RULE), scan=scan_loops)
def check_while(ctx: FileContext, node: ast.While, state: State) -> None:
    """Check ``while step < 10_000``.

    Args:
        ctx: The file.
        node: The loop.
        state: Where the walk is.
    """
    test = node.test
    if (
        applies(ctx, state)
        and isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], (ast.Lt, ast.LtE, ast.NotEq))
        and isinstance(test.left, ast.Name)
        and _LOOP_VAR.match(test.left.id)
    ):
        _setting(ctx, test.comparators[0], test.left.id, state)
