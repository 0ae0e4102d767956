"""MLQ101 hardcoded-hyperparameter: a literal number passed as a hyperparameter keyword."""

from __future__ import annotations

import ast

from mlqa.rules import hyperparameter_constant
from mlqa.rules.context import FileContext, State
from mlqa.rules.hyperparameter_apis import (
    ESTIMATOR_NAMES,
    NORM_ARGS,
    USE_CONFIG,
    call_target,
    scan_calls,
    show,
    words,
)
from mlqa.rules.registry import Rule, define, register
from mlqa.rules.resolve import is_literal_number
from mlqa.rules.run_settings import applies, exempt

RULE = define(
    Rule(
        "MLQ101",
        "hardcoded-hyperparameter",
        "Literal number passed as a hyperparameter keyword (lr=1e-3, batch_size=64).",
        """## What it does
Flags a literal number (`1e-3`, `-0.1`, `(0.9, 0.999)`, `2 ** 10`) passed as a
keyword argument whose name is a hyperparameter: `lr`, `learning_rate`,
`momentum`, `weight_decay`, `betas`, `batch_size`, `epochs`, `max_epochs`,
`num_train_epochs`, `max_steps`, `warmup_steps`, `gamma`, `step_size`,
`T_max`, `label_smoothing`, `max_norm`, `gradient_clip_val`,
`accumulate_grad_batches`, `n_estimators`, `max_depth`, `num_leaves`,
`subsample`, `dropout` and more (add your own with `hyperparameter-names` in
`[tool.mlqa]`). Names that are common outside ML (`alpha`, `C`, `eps`, `p`,
`tol`, `max_iter`) are flagged only at recognised training APIs (torch
optimizers and schedulers, sklearn, xgboost, lightgbm), so `plt.plot(alpha=0.5)`
and `F.layer_norm(x, shape, eps=1e-5)` are not. Also covers
`functools.partial(optim.SGD, lr=0.1)` and optimizer parameter groups.

Also `clip_val` (Fabric's `clip_gradients`), `early_stopping_rounds`,
`stopping_rounds`, `n_steps`, `total_timesteps`, `num_round`,
`max_seq_length`, and the literal values of an xgboost/lightgbm params dict
passed to `xgb.train`/`xgb.cv`/`lgb.train` (`{"max_depth": 6, "eta": 0.3}`).

Where it applies (all MLQ1xx rules): code that trains. A file that never
trains (no optimizer, `backward()`, `.step()`, `fit()`, `Trainer`, `train()`,
epochs or `learn()`) is a model or layer definition, an inference, export or
data-preparation script: it has no run settings, so nothing in it is
flagged. Nor is an `if __name__ == "__main__":` smoke test (no optimizer, no
loop, no `main()`/`train()`/launcher: a model fed random tensors once). On
real repositories this scope took precision in library code from 0.03 to 1.00
(`benchmarks/eval_rules.py`).

Not flagged: arguments of private helpers (`self._run(batch_size=1)`),
argparse/click/typer defaults, function parameter defaults,
fields of dataclass/attrs/pydantic/NamedTuple config classes, values read from
config objects (`cfg.lr`, `args.lr`, `params["lr"]`), config dicts
(`dict(lr=0.1)`), files matching `config-paths` and tests. Normalisation
layers' `momentum`/`eps` (`nn.BatchNorm2d(c, momentum=0.01)`) and a dropout
inside a class (a model's architecture) are not tuned values; a zero that
switches a feature off (`dropout=0.0`, `weight_decay=0`, `eta_min=0`, `lr=0`
set by a scheduler) is a design choice. A batch size of one, the batch size
of an inference call (`predict`, `evaluate`, `generate`, `set_kv_cache`,
`iter_batches`, `take_batch`, `map_batches`) or of a validation/test loader
(`mode="val"`, `split="test"`, `train=False`) does not change what is
learned; `max_iter` counts only for MLP and SGD estimators (elsewhere it is a
solver's convergence cap).

## Why is this bad?
A hyperparameter buried in training code can only be changed by editing the
code: it cannot be swept, it is not logged with the run, and the experiment
cannot be reproduced from its config. "If you could conceivably want to tweak
a parameter, make it a command line argument."

## Example
```python
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999))
loader = DataLoader(dataset, batch_size=64, shuffle=True)
trainer = pl.Trainer(max_epochs=10, gradient_clip_val=0.5)
```
""" + USE_CONFIG,
    )
)


def _setting(
    ctx: FileContext, value: ast.expr, name: str, state: State, where: str
) -> None:
    hyperparameter_constant.check_setting(
        ctx,
        value,
        state,
        RULE,
        f"hardcoded hyperparameter {name}={show(value)}{where}; "
        "read it from config or the command line",
        f"hyperparameter {name}",
    )


@register(ast.Call, rules=(RULE, hyperparameter_constant.RULE), scan=scan_calls)
def check_keywords(ctx: FileContext, node: ast.Call, state: State) -> None:
    """Check a call's hyperparameter keywords and optimizer parameter groups.

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
    api, names = target.api, ctx.options.hyperparameter_names
    for kw in node.keywords:
        arg = kw.arg
        if arg is None or (target.norm and arg in NORM_ARGS):
            continue
        if exempt(node, target, arg, kw.value, state):
            continue
        if arg in names or (
            api is not None
            and (arg in api.keywords or arg in api.positional or arg in ESTIMATOR_NAMES)
        ):
            _setting(ctx, kw.value, arg, state, f" in {target.callee}()")
    if api is not None and api.positional[:2] == (None, "lr") and target.args:
        _param_groups(ctx, target.args[0], target.callee, state)
    if (
        api is not None
        and target.last in ("train", "cv")
        and target.args
        and (target.qualname or "").partition(".")[0] in ("xgboost", "lightgbm")
    ):
        _booster_params(ctx, target.args[0], target.callee, state)


#: Keys of an xgboost/lightgbm params dict that are tuned per run.
BOOSTER_KEYS = frozenset(words("""
        eta learning_rate max_depth num_leaves subsample colsample_bytree
        colsample_bylevel min_child_weight min_child_samples min_data_in_leaf gamma
        reg_alpha reg_lambda alpha lambda lambda_l1 lambda_l2 feature_fraction
        bagging_fraction bagging_freq max_bin num_boost_round n_estimators
        """))


def _booster_params(
    ctx: FileContext, params: ast.expr, callee: str, state: State
) -> None:
    # xgb.train(params, dtrain, ...) with params = {"max_depth": 6, "eta": 0.3}
    if isinstance(params, ast.Name):
        scope = ctx.scope(state.scopes[-1]) if state.scopes else ctx.scope(ctx.tree)
        if scope.bound.get(params.id) != 1:
            return
        found = [
            stmt.value
            for stmt in ast.walk(scope.node)
            if isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and stmt.targets[0].id == params.id
            and isinstance(stmt.value, ast.Dict)
        ]
        params = found[0] if found else params
    if not isinstance(params, ast.Dict):
        return
    for key, value in zip(params.keys, params.values, strict=True):
        if (
            isinstance(key, ast.Constant)
            and isinstance(key.value, str)
            and key.value in BOOSTER_KEYS
            and is_literal_number(value)
        ):
            ctx.report(
                value,
                RULE,
                f"hardcoded hyperparameter {key.value}={show(value)} in the params "
                f"of {callee}(); read it from config or the command line",
            )


def _param_groups(
    ctx: FileContext, groups: ast.expr, callee: str, state: State
) -> None:
    # Optimizer parameter groups: [{"params": ..., "lr": 1e-3}, dict(params=..., lr=...)]
    if not isinstance(groups, (ast.List, ast.Tuple)):
        return
    names = ctx.options.hyperparameter_names
    for group in groups.elts:
        pairs: list[tuple[str, ast.expr]] = []
        if isinstance(group, ast.Dict):
            pairs = [
                (k.value, v)
                for k, v in zip(group.keys, group.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            ]
        elif (
            isinstance(group, ast.Call)
            and isinstance(group.func, ast.Name)
            and group.func.id == "dict"
        ):
            pairs = [(kw.arg, kw.value) for kw in group.keywords if kw.arg]
        for key, value in pairs:
            if key in names or key in ("eps", "alpha"):
                _setting(ctx, value, key, state, f" in a {callee}() group")
