"""MLQ102 hardcoded-positional-hyperparameter: a literal hyperparameter passed by position."""

from __future__ import annotations

import ast
import re

from mlqa.rules import hyperparameter_constant
from mlqa.rules.context import FileContext, Options, State
from mlqa.rules.hyperparameter_apis import (
    USE_CONFIG,
    call_target,
    is_zero,
    scan_calls,
    show,
)
from mlqa.rules.registry import Rule, define, register
from mlqa.rules.run_settings import ZERO_OFF, applies, exempt, is_setting_name
from mlqa.rules.scope import trains

RULE = define(
    Rule(
        "MLQ102",
        "hardcoded-positional-hyperparameter",
        "Literal hyperparameter passed positionally to a known training API (SGD(p, 0.1)).",
        """## What it does
Flags a literal number passed by position where a known training API expects
a hyperparameter, resolving imports and aliases (`import torch.optim as
optim`, `from torch.optim import Adam as A`, `from torch import nn`):
`torch.optim` optimizers (lr, momentum, betas, eps, weight_decay), learning
rate schedulers (`StepLR(opt, 30, 0.1)`), `nn.Dropout(0.5)`, `F.dropout(x,
0.5)`, `DataLoader(ds, 64)`, `clip_grad_norm_(params, 1.0)`, Hugging Face
warmup schedules, `xgboost.train`/`xgboost.cv`/`lightgbm.train`/`lightgbm.cv`
rounds, `xgb.callback.EarlyStopping(3)`, `lgb.early_stopping(5)`, gradient
clipping through a wrapper (`accelerator.clip_grad_norm_(params, 0.5)`), and
sklearn, xgboost and lightgbm estimators. A value passed by position to one
of the file's own functions whose parameter is named like a run setting
(`def batchify(data, bsz)` ... `batchify(val_data, 10)`) is flagged too (a
constant passed there, `batchify(val_data, eval_batch_size)`, under MLQ104).
Scope and exemptions as in MLQ101 (`mlqa rule MLQ101`).

## Why is this bad?
Positional literals are hardcoded hyperparameters that are also hard to read:
`SGD(params, 0.1, 0.9)` hides which number is the learning rate. Either way
the value cannot be changed, swept or logged without editing the code.

## Example
```python
import torch.optim as optim
from torch import nn

optimizer = optim.SGD(model.parameters(), 0.1, 0.9)
scheduler = optim.lr_scheduler.StepLR(optimizer, 30, 0.1)
head = nn.Sequential(nn.Dropout(0.5), nn.Linear(512, 10))
```
""" + USE_CONFIG,
    )
)


@register(ast.Call, rules=(RULE, hyperparameter_constant.RULE), scan=scan_calls)
def check_positional(ctx: FileContext, node: ast.Call, state: State) -> None:
    """Check the positional arguments of a call to a known training API.

    Args:
        ctx: The file.
        node: The call.
        state: Where the walk is.
    """
    if not applies(ctx, state):
        return
    target = call_target(ctx, node)
    if target is None:
        return
    if target.api is None:
        return
    positional = target.api.positional
    for index, value in enumerate(target.args[: len(positional)]):
        if isinstance(value, ast.Starred):
            break
        name = positional[index]
        if name is None or exempt(node, target, name, value, state):
            continue
        hyperparameter_constant.check_setting(
            ctx,
            value,
            state,
            RULE,
            f"hardcoded hyperparameter {name}={show(value)} to {target.callee}(); "
            "read it from config or the command line",
            f"hyperparameter {name}",
        )


_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


def scan_own_calls(source: str, options: Options, starts: list[int]) -> None:
    """Mark calls of the functions a training file defines at its top level.

    Args:
        source: The file's text.
        options: Unused.
        starts: Offsets, updated in place.
    """
    if not trains(source):
        return
    names = set()
    index = -1 if source.startswith("def ") else source.find("\ndef ")
    while True:
        end = source.find("(", index + 5, index + 85)
        if (
            end != -1
            and (index != -1 or source.startswith("def "))
            and source[index + 5 : index + 6] != "_"  # private helpers are exempt
        ):
            # Only functions with a parameter named like a run setting.
            close = source.find(")", end, end + 2000)
            params = _IDENTIFIER.findall(source, end, close if close != -1 else end)
            if any(
                is_setting_name(p) or p in options.hyperparameter_names for p in params
            ):
                names.add(source[index + 5 : end].strip())
        index = source.find("\ndef ", index + 5)
        if index == -1:
            break
    for name in names:
        if name.isidentifier():
            call = name + "("
            at = source.find(call)
            while at != -1:
                if source[at - 4 : at] != "def " and source[at - 1 : at] != ".":
                    starts.append(at)
                at = source.find(call, at + len(call))


@register(ast.Call, rules=(RULE, hyperparameter_constant.RULE), scan=scan_own_calls)
def check_own_function(ctx: FileContext, node: ast.Call, state: State) -> None:
    """Check a call of the file's own function: ``batchify(data, eval_batch_size)``.

    A value passed by position to a parameter named like a run setting
    (``batch_size``, ``bsz``, ``lr``, ``epochs`` ...) sets it.

    Args:
        ctx: The file.
        node: The call.
        state: Where the walk is.
    """
    if not applies(ctx, state):
        return
    func = node.func
    if not isinstance(func, ast.Name):
        return
    definition = ctx.function(func.id)
    if definition is None:
        return
    params = [*definition.args.posonlyargs, *definition.args.args]
    names = ctx.options.hyperparameter_names
    for value, param in zip(node.args, params, strict=False):
        if isinstance(value, ast.Starred):
            break
        name = param.arg
        if not (name in names or is_setting_name(name)):
            continue
        if name in ZERO_OFF and is_zero(value):
            continue
        hyperparameter_constant.check_setting(
            ctx,
            value,
            state,
            RULE,
            f"hardcoded hyperparameter {name}={show(value)} to {func.id}(); "
            "read it from config or the command line",
            f"hyperparameter {name} of {func.id}()",
        )
