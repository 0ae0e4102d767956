"""MLQ104 hyperparameter-constant: a constant in a non-config module set as a hyperparameter.

This rule has no node types of its own: the hyperparameter rules
(MLQ101-MLQ103) find the places a hyperparameter is set and hand each value
to :func:`check_setting`, which reports a literal under the caller's rule and
a name bound once to a literal (``LR = 1e-3 ... lr=LR``) under this one, at
the constant's definition.
"""

from __future__ import annotations

import ast

from mlqa.rules.context import FileContext, State
from mlqa.rules.hyperparameter_apis import USE_CONFIG, show
from mlqa.rules.registry import Rule, define
from mlqa.rules.resolve import is_literal_number, names_in_number_expr

RULE = define(
    Rule(
        "MLQ104",
        "hyperparameter-constant",
        "Constant in a non-config module used as a hyperparameter (LR = 1e-3 ... lr=LR).",
        """## What it does
Flags the definition of a constant (`LEARNING_RATE = 1e-3`, assigned once, at
module level or in a function) in a non-config module when it flows into a
hyperparameter position: a hyperparameter keyword, a known API's positional
hyperparameter or an epoch/step loop bound. The finding points at the
constant's definition, where the fix belongs, and names the line using it.
Constants in files matching `config-paths` (default `config*.py`,
`configs/**`, `conf/**`) are where hyperparameters belong and are never
flagged; constants imported from other modules are not followed.

## Why is this bad?
Naming a literal does not make it configurable: `LEARNING_RATE = 1e-3` at the
top of `train.py` is still edited by hand for every experiment, and it is
still missing from the run's logged config.

## Example
```python
LEARNING_RATE = 1e-3
EPOCHS = 10

optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
for epoch in range(EPOCHS):
    ...
```
""" + USE_CONFIG,
    )
)


def constant(
    ctx: FileContext, name: str, state: State
) -> ast.Assign | ast.AnnAssign | None:
    """Find the single literal assignment a name refers to, if any.

    Args:
        ctx: The file.
        name: The name used.
        state: Where it is used.

    Returns:
        The defining assignment, or None when the name is a parameter,
        assigned more than once, assigned a non-literal or not found.
    """
    for func in reversed(state.scopes):
        scope = ctx.scope(func)
        if scope.binds(name):
            return scope.constants.get(name)
    return ctx.scope(ctx.tree).constants.get(name)


def check_setting(
    ctx: FileContext,
    value: ast.expr,
    state: State,
    literal: Rule,
    message: str,
    usage: str,
) -> None:
    """Report the value set as a hyperparameter: a literal, or the constants it names.

    Args:
        ctx: The file.
        value: The value given (an argument, a loop bound).
        state: Where the walk is.
        literal: The rule a literal value breaks (MLQ101, MLQ102, MLQ103).
        message: Its message for a literal.
        usage: How the value is used, for this rule's message
            (``hyperparameter lr``, ``the epoch loop bound``).
    """
    if is_literal_number(value):
        ctx.report(value, literal, message)
        return
    if not ctx.wants(RULE):
        return
    for ref in names_in_number_expr(value) or ():
        definition = constant(ctx, ref.id, state)
        if definition is not None and definition.value is not None:
            ctx.report(
                definition,
                RULE,
                f"constant {ref.id}={show(definition.value)} is used as {usage} "
                f"(line {ref.lineno}); read it from config or the command line",
            )
