"""MLQ104 hyperparameter-constant: a constant in a non-config module set as a hyperparameter.

This rule has no node types of its own: the hyperparameter rules
(MLQ101-MLQ103) find the places a hyperparameter is set and hand each value
to :func:`check_setting`, which reports a literal under the caller's rule and
a name bound once to a literal (``LR = 1e-3 ... lr=LR``) under this one, at
the constant's definition.
"""

from __future__ import annotations

import ast
import re

from mlqa.rules.context import FileContext, Options, State
from mlqa.rules.hyperparameter_apis import USE_CONFIG, is_zero, show
from mlqa.rules.registry import Rule, define, register
from mlqa.rules.resolve import is_literal_number, names_in_number_expr
from mlqa.rules.run_settings import (
    ARCHITECTURE,
    applies,
    is_batch_size,
    is_setting_name,
)
from mlqa.rules.scope import trains

RULE = define(
    Rule(
        "MLQ104",
        "hyperparameter-constant",
        "Constant in a non-config module that is a run setting, by use or by name "
        "(LR = 1e-3 ... lr=LR; lambda_gp = 10).",
        """## What it does
Flags the definition of a constant in a non-config module that trains (see
`mlqa rule MLQ101` for the scope) when

* it flows into a hyperparameter position: a hyperparameter keyword, a known
  API's positional hyperparameter, a parameter of the file's own function
  named like a setting, or an epoch/step/training loop bound; the message
  names the line using it; or
* its name says it is a run setting, however it is used (a tensor shape, a
  loss weight in arithmetic, `range(NUM_BATCHES)`): `LEARNING_RATE`, `lr`,
  `peak_lr`, `BATCH_SIZE`, `NUM_EPOCHS`, `MAX_STEPS`, `NUM_BATCHES`,
  `warmup_steps`, `weight_decay`, `momentum`, `betas`, `*dropout`, `clip`,
  `grad_clip`, `GRADIENT_ACCUMULATE_EVERY`, `lambda_gp`, `DECORR_LOSS_WEIGHT`,
  `kl_coef`, `gamma`, `patience`, `n_estimators`, `num_leaves`, `max_depth`.

A constant is a name every binding of which assigns a literal: `EPOCHS = 10`,
`NUM_BATCHES = int(1e5)`, `BATCH_SIZE = 256 if torch.cuda.is_available()
else 64`, or `num_epochs = 100` assigned again later (each assignment is
reported). A name also changed otherwise (`+=`, a loop variable, a
parameter) is not a constant. Not flagged: zeros (`DROPOUT = 0.0`), a batch
size of one, validation/test batch sizes by name (`VAL_BATCH_SIZE`), class
attributes, a dropout inside a model class, and nanoGPT-style module-level
defaults above `exec(open("configurator.py").read())`, which reads the
command line and config files into them. Constants in files matching
`config-paths` (default `config*.py`, `configs/**`, `conf/**`) are where
hyperparameters belong and are never flagged; constants imported from other
modules are not followed.

## Why is this bad?
Naming a literal does not make it configurable: `LEARNING_RATE = 1e-3` at the
top of `train.py` is still edited by hand for every experiment, and it is
still missing from the run's logged config.

## Example
```python
LEARNING_RATE = 1e-3
EPOCHS = 10
lambda_gp = 10.0  # a loss weight, used as lambda_gp * gradient_penalty

optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
for epoch in range(EPOCHS):
    ...
```
""" + USE_CONFIG,
    )
)


def definitions(
    ctx: FileContext, name: str, state: State
) -> list[ast.Assign | ast.AnnAssign]:
    """Find the literal assignments a name refers to, if every binding is one.

    Args:
        ctx: The file.
        name: The name used.
        state: Where it is used.

    Returns:
        The assignments (``EPOCHS = 10``; both of ``EPOCHS = 10 ... EPOCHS =
        20``; ``BATCH = 256 if cuda else 64``); empty when the name is a
        parameter, also bound otherwise (a loop, ``+=``), not found, or a
        module-level default a configurator overrides at run time.
    """
    for func in reversed(state.scopes):
        scope = ctx.scope(func)
        if scope.binds(name):
            return scope.settings.get(name, [])
    found = ctx.scope(ctx.tree).settings.get(name, [])
    return [d for d in found if d.lineno >= ctx.config_line]


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
        for definition in definitions(ctx, ref.id, state):
            if definition.value is not None:
                ctx.report(
                    definition,
                    RULE,
                    f"constant {ref.id}={show(definition.value)} is used as {usage} "
                    f"(line {ref.lineno}); read it from config or the command line",
                )


#: ``=`` followed by a number, a sign, a bracket or int(/float( (a literal value).
_VALUE = re.compile(r"=[ \t]*(?:[-+(\[.\d]|int\(|float\()")


def scan_setting_names(source: str, options: Options, starts: list[int]) -> None:
    """Mark assignments of a number to a variable named like a run setting.

    The regex starts with ``=``, which the engine finds with a fast search;
    the name before it is checked in Python (a statement's target, not a
    keyword argument or a comparison).

    Args:
        source: The file's text.
        options: Unused.
        starts: Offsets, updated in place.
    """
    if not trains(source):
        return  # a file that never trains has no run settings
    for match in _VALUE.finditer(source):
        at = match.start()
        if (
            source[at - 1 : at] in ("=", "<", ">", "!")
            or source[at + 1 : at + 2] == "="
        ):
            continue
        line_start = source.rfind("\n", 0, at) + 1
        target = source[line_start:at]
        name = target.partition(":")[0].strip()
        if (
            name.isidentifier()
            and target[:1] in (" ", "\t", name[:1])
            and is_setting_name(name)
        ):
            starts.append(line_start + target.index(name))


@register(ast.Assign, ast.AnnAssign, rules=(RULE,), scan=scan_setting_names)
def check_named_setting(
    ctx: FileContext, node: ast.Assign | ast.AnnAssign, state: State
) -> None:
    """Check ``LEARNING_RATE = 3e-4`` / ``lambda_gp = 10`` in a file that trains.

    A constant named like a run setting is one, used as a keyword, a loop
    bound, a tensor shape or a loss weight alike.

    Args:
        ctx: The file.
        node: The assignment.
        state: Where the walk is.
    """
    if not applies(ctx, state) or state.class_body:
        return
    target = node.targets[0] if isinstance(node, ast.Assign) else node.target
    if (
        not isinstance(target, ast.Name)
        or node.value is None
        or not is_setting_name(target.id)
    ):
        return
    value = node.value
    if state.in_class and target.id.lower() in ARCHITECTURE:
        return  # a model class's dropout is its architecture
    if is_zero(value) or (
        is_batch_size(target.id)
        and isinstance(value, ast.Constant)
        and value.value == 1
    ):
        return  # a zero switches the feature off; a batch of one is by design
    if state.scopes:
        args = state.scopes[-1].args
        params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        if any(a.arg == target.id for a in params):
            return  # a parameter reassigned: not a constant
    scope = ctx.scope(state.scopes[-1]) if state.scopes else ctx.scope(ctx.tree)
    if not state.scopes and node.lineno < ctx.config_line:
        return
    if any(d is node for d in scope.settings.get(target.id, ())):
        ctx.report(
            node,
            RULE,
            f"constant {target.id}={show(value)} is a run setting; "
            "read it from config or the command line",
        )
