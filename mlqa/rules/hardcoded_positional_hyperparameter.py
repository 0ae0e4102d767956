"""MLQ102 hardcoded-positional-hyperparameter: a literal hyperparameter passed by position."""

from __future__ import annotations

import ast

from mlqa.rules import hyperparameter_constant
from mlqa.rules.context import FileContext, State
from mlqa.rules.hyperparameter_apis import USE_CONFIG, call_target, scan_calls, show
from mlqa.rules.registry import Rule, define, register
from mlqa.rules.run_settings import applies, exempt

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
warmup schedules, `xgboost.train`/`lightgbm.train` rounds, and sklearn,
xgboost and lightgbm estimators.

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
    if target is None or target.api is None:
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
