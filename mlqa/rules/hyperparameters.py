"""MLQ1xx: hyperparameters hardcoded as literals in training code.

A learning rate, batch size or epoch count written as a literal in the code
that trains can only be changed by editing the code, so it cannot be swept,
logged or reproduced from a config. These rules flag literal numbers where a
hyperparameter is expected; the places hyperparameters belong (argparse,
click and typer defaults, function parameter defaults, dataclass, attrs,
pydantic and NamedTuple fields, config objects and config files) are never
flagged.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, NamedTuple

from mlqa.rules.registry import Rule
from mlqa.rules.resolve import is_literal_number, names_in_number_expr, qualified_name

if TYPE_CHECKING:
    from mlqa.rules.engine import FileContext, State


def _words(text: str) -> list[str]:
    return text.split()


#: Keyword names flagged at any call; ``hyperparameter-names`` in config adds more.
DEFAULT_NAMES = frozenset(_words("""
    lr learning_rate base_lr max_lr min_lr init_lr initial_lr eta_min lr_decay
    momentum weight_decay betas
    batch_size train_batch_size per_device_train_batch_size per_device_eval_batch_size
    epochs num_epochs n_epochs max_epochs min_epochs num_train_epochs
    max_steps total_steps num_training_steps warmup_steps num_warmup_steps
    warmup_epochs warmup_ratio gamma step_size T_max milestones patience
    label_smoothing max_norm max_grad_norm gradient_clip_val
    accumulate_grad_batches gradient_accumulation_steps
    dropout dropout_rate drop_rate drop_path_rate
    n_estimators num_leaves max_depth subsample colsample_bytree min_child_weight
    reg_alpha reg_lambda num_boost_round min_samples_split min_samples_leaf
    """))

#: Names too common outside ML (``plt.plot(alpha=0.5)``, ``F.layer_norm(eps=)``)
#: to flag at any call: flagged only at the known training APIs below.
ESTIMATOR_NAMES = frozenset(_words("""
    C alpha l1_ratio eps tol max_iter n_neighbors n_clusters max_features
    max_leaf_nodes learning_rate_init eta min_child_samples bagging_fraction
    feature_fraction lambda_l1 lambda_l2 depth iterations l2_leaf_reg
    """))
_ESTIMATOR_ROOTS = frozenset({"sklearn", "xgboost", "lightgbm", "catboost"})
_TORCH = frozenset({"torch"})
_KERAS = frozenset({"keras", "tensorflow", "tf"})


class Api(NamedTuple):
    """A known training API: where it lives and its hyperparameters by position.

    Attributes:
        roots: The top-level packages it may be imported from.
        positional: Parameter names by position; None where not a hyperparameter.
        keywords: Further keyword names that are hyperparameters here.
    """

    roots: frozenset[str]
    positional: tuple[str | None, ...]
    keywords: frozenset[str] = frozenset()


def _apis() -> dict[str, list[Api]]:
    table: dict[str, list[Api]] = {}

    def add(
        names: str, roots: frozenset[str], positional: str, keywords: str = ""
    ) -> None:
        pos = tuple(None if p == "_" else p for p in positional.split())
        for name in names.split():
            table.setdefault(name, []).append(
                Api(roots, pos, frozenset(keywords.split()))
            )

    add("SGD", _TORCH, "_ lr momentum dampening weight_decay")
    add("Adam AdamW Adamax NAdam RAdam", _TORCH, "_ lr betas eps weight_decay")
    add("SparseAdam", _TORCH, "_ lr betas eps")
    add("RMSprop", _TORCH, "_ lr alpha eps weight_decay momentum")
    add("Adagrad", _TORCH, "_ lr lr_decay weight_decay initial_accumulator_value eps")
    add("Adadelta", _TORCH, "_ lr rho eps weight_decay")
    add("ASGD", _TORCH, "_ lr lambd alpha t0 weight_decay")
    add("LBFGS", _TORCH, "_ lr max_iter")
    add("Rprop", _TORCH, "_ lr etas step_sizes")
    add("StepLR", _TORCH, "_ step_size gamma")
    add("MultiStepLR", _TORCH, "_ milestones gamma")
    add("ExponentialLR", _TORCH, "_ gamma")
    add("CosineAnnealingLR", _TORCH, "_ T_max eta_min")
    add("CosineAnnealingWarmRestarts", _TORCH, "_ T_0 T_mult eta_min")
    add("ReduceLROnPlateau", _TORCH, "_ _ factor patience threshold", "cooldown min_lr")
    add("OneCycleLR", _TORCH, "_ max_lr total_steps epochs steps_per_epoch pct_start")
    add("CyclicLR", _TORCH, "_ base_lr max_lr step_size_up step_size_down")
    add("LinearLR", _TORCH, "_ start_factor end_factor total_iters")
    add("ConstantLR", _TORCH, "_ factor total_iters")
    add("PolynomialLR", _TORCH, "_ total_iters power")
    add(
        "Dropout Dropout1d Dropout2d Dropout3d AlphaDropout FeatureAlphaDropout",
        _TORCH,
        "p",
    )
    add("dropout dropout1d dropout2d dropout3d alpha_dropout", _TORCH, "_ p")
    add("DataLoader", _TORCH, "_ batch_size")
    add("clip_grad_norm_ clip_grad_norm", _TORCH, "_ max_norm")
    add("clip_grad_value_", _TORCH, "_ clip_value")
    add(
        "get_linear_schedule_with_warmup get_cosine_schedule_with_warmup"
        " get_constant_schedule_with_warmup get_polynomial_decay_schedule_with_warmup",
        frozenset({"transformers"}),
        "_ num_warmup_steps num_training_steps",
    )
    add("train", frozenset({"xgboost", "lightgbm"}), "_ _ num_boost_round")
    add(
        "RandomForestClassifier RandomForestRegressor", _ESTIMATOR_ROOTS, "n_estimators"
    )
    add("ExtraTreesClassifier ExtraTreesRegressor", _ESTIMATOR_ROOTS, "n_estimators")
    add("Ridge Lasso ElasticNet RidgeClassifier", _ESTIMATOR_ROOTS, "alpha")
    add("KNeighborsClassifier KNeighborsRegressor", _ESTIMATOR_ROOTS, "n_neighbors")
    add("KMeans MiniBatchKMeans", _ESTIMATOR_ROOTS, "n_clusters")
    add(
        "LGBMClassifier LGBMRegressor LGBMRanker",
        _ESTIMATOR_ROOTS,
        "_ num_leaves max_depth learning_rate n_estimators",
    )
    add("Adam AdamW Nadam Adamax", _KERAS, "learning_rate beta_1 beta_2 epsilon")
    add("SGD", _KERAS, "learning_rate momentum")
    add("Dropout SpatialDropout1D SpatialDropout2D", _KERAS, "rate")
    add("RMSprop", _KERAS, "learning_rate rho momentum epsilon")
    add("adam adamw nadam", frozenset({"optax"}), "learning_rate b1 b2 eps")
    add("sgd", frozenset({"optax"}), "learning_rate momentum")
    return table


APIS = _apis()

#: Names whose call marks a line as a candidate (besides the keyword names).
API_NAMES = frozenset(APIS) | {"partial"}
#: Class-name endings of estimators, for the candidate scan.
API_SUFFIXES = frozenset(
    {"Classifier", "Regressor", "Regression", "SVC", "SVR", "Ranker", "Means", "NB"}
)

#: Calls whose keywords define config rather than use it.
CONFIG_CALLS = frozenset(_words("""
    add_argument set_defaults option argument Option Argument Field field ib attrib
    dict SimpleNamespace Namespace ConfigDict FrozenConfigDict EasyDict Box AttrDict
    create merge update setdefault get pop suggest_float suggest_int suggest_uniform
    suggest_loguniform suggest_categorical log_hyperparams save_hyperparameters
    log_params log_param add_hparams namedtuple
    """))

_CONFIG_DECORATORS = frozenset(
    {"dataclass", "define", "frozen", "mutable", "s", "attrs"}
)
_CONFIG_BASES = frozenset(
    {
        "BaseModel",
        "BaseSettings",
        "NamedTuple",
        "TypedDict",
        "Struct",
        "PretrainedConfig",
    }
)
_CONFIG_CLASS_NAME = re.compile(
    r"(Config|Conf|Cfg|Args|Arguments|Params|Hparams|Settings)$"
)
_LOOP_VAR = re.compile(
    r"^(?:\w+_)?(?:epoch|epochs|step|steps|iteration|iterations|iter|iters|it|itr|update|updates"
    r"|ep)(?:_(?:idx|i|num|id|no|n|count|index|counter))?$",
    re.IGNORECASE,
)
_PROGRESS = frozenset({"tqdm", "track", "progress_bar", "enumerate", "trange"})


def is_config_class(node: ast.ClassDef, imports: dict[str, str]) -> bool:
    """Tell whether a class declares config fields (dataclass, attrs, pydantic ...).

    Args:
        node: The class.
        imports: The file's aliases.

    Returns:
        True for dataclass/attrs/pydantic/NamedTuple/TypedDict classes and
        classes named like ``TrainConfig`` or ``Hparams``.
    """
    if _CONFIG_CLASS_NAME.search(node.name):
        return True
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        name = qualified_name(target, imports) or ""
        if name.rpartition(".")[2] in _CONFIG_DECORATORS:
            return True
    for base in node.bases:
        name = qualified_name(base, imports) or ""
        if name.rpartition(".")[2] in _CONFIG_BASES:
            return True
    return False


def known_api(qualname: str | None) -> Api | None:
    """Find the known training API a qualified name refers to.

    Args:
        qualname: The callee, e.g. ``torch.optim.Adam``.

    Returns:
        Its :class:`Api`, or None.
    """
    if not qualname or "." not in qualname:
        return None
    root, _, _ = qualname.partition(".")
    last = qualname.rpartition(".")[2]
    for api in APIS.get(last, ()):
        if root in api.roots:
            return api
    if root in _ESTIMATOR_ROOTS and last[:1].isupper():
        return Api(_ESTIMATOR_ROOTS, ())
    return None


#: Normalisation layers' momentum and eps are architecture, not training choices.
_NORM_ARGS = frozenset({"momentum", "eps"})
#: A dropout of zero means "no dropout here": architecture, not a tuned value.
_DROPOUT_ARGS = frozenset(
    {"dropout", "p", "rate", "drop_rate", "dropout_rate", "drop_path_rate"}
)


def _is_zero(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Constant)
        and node.value == 0
        and not isinstance(node.value, bool)
    )


def _show(node: ast.expr) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 40 else text[:37] + "..."


class HyperparameterRules:
    """The MLQ1xx hooks the engine calls on calls and loops; they only collect."""

    def check_value(
        self,
        ctx: FileContext,
        value: ast.expr,
        name: str,
        code: str,
        state: State,
        where: str,
    ) -> None:
        """Report ``value`` if it is a literal, or the constant it names.

        Args:
            ctx: The file.
            value: The argument given.
            name: The hyperparameter it sets.
            code: The code for a literal here (MLQ101, MLQ102, MLQ103).
            state: Where the walk is.
            where: How the value is used, for the message.
        """
        if is_literal_number(value):
            what = (
                f"loop bound {_show(value)} for {name}"
                if code == "MLQ103"
                else f"hyperparameter {name}={_show(value)}"
            )
            ctx.report(
                value,
                code,
                f"hardcoded {what}{where}; read it from config or the command line",
            )
            return
        names = names_in_number_expr(value)
        for ref in names or ():
            definition = self.constant(ctx, ref.id, state)
            if definition is not None and definition.value is not None:
                ctx.report(
                    definition,
                    "MLQ104",
                    f"constant {ref.id}={_show(definition.value)} is used as "
                    + (
                        f"the {name} loop bound"
                        if code == "MLQ103"
                        else f"hyperparameter {name}"
                    )
                    + f" (line {ref.lineno}); read it from config or the command line",
                )

    @staticmethod
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

    def on_call(self, ctx: FileContext, node: ast.Call, state: State) -> None:
        """Check the keyword and positional arguments of a call.

        Args:
            ctx: The file.
            node: The call.
            state: Where the walk is.
        """
        func, args = node.func, node.args
        qualname = qualified_name(func, ctx.imports)
        last = qualname.rpartition(".")[2] if qualname else None
        if last == "partial" and args:
            func, args = args[0], args[1:]
            qualname = qualified_name(func, ctx.imports)
            last = qualname.rpartition(".")[2] if qualname else None
        if last in CONFIG_CALLS:
            return
        if last is None and isinstance(func, ast.Attribute):
            last = func.attr
        if last is not None and last.startswith("_"):
            return  # a private helper's arguments are implementation, not settings
        api = known_api(qualname)
        callee = qualname or "call"
        names = ctx.options.hyperparameter_names
        norm = (
            last is not None and "norm" in last.lower() and "clip" not in last.lower()
        )
        for kw in node.keywords:
            arg = kw.arg
            if arg is None or (norm and arg in _NORM_ARGS):
                continue
            if arg in _DROPOUT_ARGS and _is_zero(kw.value):
                continue
            if arg in names or (
                api is not None
                and (
                    arg in api.keywords
                    or arg in api.positional
                    or arg in ESTIMATOR_NAMES
                )
            ):
                self.check_value(ctx, kw.value, arg, "MLQ101", state, f" in {callee}()")
        if api is None:
            return
        for index, value in enumerate(args[: len(api.positional)]):
            if isinstance(value, ast.Starred):
                break
            pname = api.positional[index]
            if pname is not None and not (pname in _DROPOUT_ARGS and _is_zero(value)):
                self.check_value(ctx, value, pname, "MLQ102", state, f" to {callee}()")
        if api.positional[:2] == (None, "lr") and args:
            self._param_groups(ctx, args[0], callee, state)

    def _param_groups(
        self, ctx: FileContext, groups: ast.expr, callee: str, state: State
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
                    self.check_value(
                        ctx, value, key, "MLQ101", state, f" in a {callee}() group"
                    )

    def on_for(
        self, ctx: FileContext, node: ast.For | ast.AsyncFor, state: State
    ) -> None:
        """Check ``for epoch in range(90)`` and its ``tqdm``/``trange`` variants.

        Args:
            ctx: The file.
            node: The loop.
            state: Where the walk is.
        """
        target = node.target
        if isinstance(target, ast.Tuple) and target.elts:
            target = target.elts[-1]
        if not isinstance(target, ast.Name) or not _LOOP_VAR.match(target.id):
            return
        loop = node.iter
        for _ in range(3):
            if not isinstance(loop, ast.Call):
                return
            name = qualified_name(loop.func, ctx.imports) or ""
            last = name.rpartition(".")[2]
            if last in ("range", "trange"):
                break
            if last in _PROGRESS and loop.args:
                loop = loop.args[0]
                continue
            return
        else:
            return
        if not isinstance(loop, ast.Call) or not loop.args or len(loop.args) > 3:
            return
        bound = loop.args[0] if len(loop.args) == 1 else loop.args[1]
        if isinstance(bound, ast.Starred):
            return
        self.check_value(ctx, bound, target.id, "MLQ103", state, "")

    def on_while(self, ctx: FileContext, node: ast.While, state: State) -> None:
        """Check ``while step < 10_000``.

        Args:
            ctx: The file.
            node: The loop.
            state: Where the walk is.
        """
        test = node.test
        if (
            isinstance(test, ast.Compare)
            and len(test.ops) == 1
            and isinstance(test.ops[0], (ast.Lt, ast.LtE, ast.NotEq))
            and isinstance(test.left, ast.Name)
            and _LOOP_VAR.match(test.left.id)
        ):
            bound = test.comparators[0]
            self.check_value(ctx, bound, test.left.id, "MLQ103", state, "")


_SHARED_FIX = """
## Use instead
```python
import argparse

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=1e-3)
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--epochs", type=int, default=90)
args = parser.parse_args()

optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size)
for epoch in range(args.epochs):
    train_one_epoch(model, loader, optimizer)
```
A config object (`cfg.lr`, hydra/OmegaConf, a dataclass of settings) or a
file under `configs/` works as well: any place the value can be changed,
swept and logged without editing the training code.
"""

RULES = (
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

Not flagged: arguments of private helpers (`self._run(batch_size=1)`),
argparse/click/typer defaults, function parameter defaults,
fields of dataclass/attrs/pydantic/NamedTuple config classes, values read from
config objects (`cfg.lr`, `args.lr`, `params["lr"]`), config dicts
(`dict(lr=0.1)`), files matching `config-paths` and tests. Normalisation
layers' `momentum`/`eps` (`nn.BatchNorm2d(c, momentum=0.01)`) and a dropout of
zero (`dropout=0.0`: no dropout) are architecture, not tuned values.

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
""" + _SHARED_FIX,
    ),
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
""" + _SHARED_FIX,
    ),
    Rule(
        "MLQ103",
        "hardcoded-loop-bound",
        "Epoch or step loop with a literal bound (for epoch in range(90)).",
        """## What it does
Flags a training loop over epochs or steps whose bound is a literal:
`for epoch in range(90)`, `for step in trange(10_000)`,
`for epoch in tqdm(range(1, 91))`, `while global_step < 100_000`. The loop
variable must look like an epoch or step counter (`epoch`, `step`,
`global_step`, `it`, `iteration` ...), so `for i in range(3)` and
`for i in range(len(batch))` are not flagged.

## Why is this bad?
The number of epochs or steps is a hyperparameter like any other: with a
literal bound, a longer run or a quick smoke test needs a code change, and
the run's config does not record how long it trained.

## Example
```python
for epoch in range(90):
    train_one_epoch(model, loader, optimizer)
```
""" + _SHARED_FIX,
    ),
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
""" + _SHARED_FIX,
    ),
)
