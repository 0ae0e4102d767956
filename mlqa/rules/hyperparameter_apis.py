"""What the hyperparameter rules (MLQ101-MLQ104) know: names, APIs, config places.

The tables of hyperparameter keyword names and known training APIs (with
their hyperparameters by position), the calls and classes where settings are
*defined* rather than used (argparse, config dicts, dataclass/pydantic config
classes), how a call resolves to one of them, and the text scan that marks the
lines where such a call may be. The rule modules
(:mod:`~mlqa.rules.hardcoded_hyperparameter`,
:mod:`~mlqa.rules.hardcoded_positional_hyperparameter`) hold the checks.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from mlqa.rules.resolve import qualified_name
from mlqa.rules.scan import trie_regex
from mlqa.rules.scope import trains

if TYPE_CHECKING:
    from mlqa.rules.context import FileContext, Options


def words(text: str) -> list[str]:
    """Split a table of names written one word after another.

    Args:
        text: Whitespace-separated names.

    Returns:
        The names.
    """
    return text.split()


#: Keyword names flagged at any call; ``hyperparameter-names`` in config adds more.
DEFAULT_NAMES = frozenset(words("""
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
    clip_val early_stopping_rounds stopping_rounds n_steps num_round num_rounds
    max_seq_length total_timesteps
    """))

#: Names too common outside ML (``plt.plot(alpha=0.5)``, ``F.layer_norm(eps=)``)
#: to flag at any call: flagged only at the known training APIs below.
ESTIMATOR_NAMES = frozenset(words("""
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
    add("train cv", frozenset({"xgboost", "lightgbm"}), "_ _ num_boost_round")
    add("EarlyStopping", frozenset({"xgboost"}), "rounds")
    add("early_stopping", frozenset({"lightgbm"}), "stopping_rounds")
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
#: APIs recognised whatever they are called on (Accelerate, Fabric, DeepSpeed
#: wrap torch's gradient clipping under the same name).
_ANY_ROOT = frozenset({"clip_grad_norm_", "clip_grad_value_"})

#: Names whose call marks a line as a candidate (besides the keyword names).
API_NAMES = frozenset(APIS) | {"partial"}
#: Class-name endings of estimators, for the candidate scan.
API_SUFFIXES = frozenset(
    {"Classifier", "Regressor", "Regression", "SVC", "SVR", "Ranker", "Means", "NB"}
)

#: Calls whose keywords define config rather than use it.
CONFIG_CALLS = frozenset(words("""
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
    if last in _ANY_ROOT:  # accelerator.clip_grad_norm_(params, 0.5), fabric's too
        return APIS[last][0]
    for api in APIS.get(last, ()):
        if root in api.roots:
            return api
    if root in _ESTIMATOR_ROOTS and last[:1].isupper():
        return Api(_ESTIMATOR_ROOTS, ())
    return None


#: Normalisation layers' momentum and eps are architecture, not training choices.
NORM_ARGS = frozenset({"momentum", "eps"})
#: A dropout of zero means "no dropout here": architecture, not a tuned value.
DROPOUT_ARGS = frozenset(
    {"dropout", "p", "rate", "drop_rate", "dropout_rate", "drop_path_rate"}
)


def is_zero(node: ast.expr) -> bool:
    """Tell whether an expression is the literal number zero.

    Args:
        node: Any expression.

    Returns:
        True for ``0`` and ``0.0`` (not ``False``).
    """
    return (
        isinstance(node, ast.Constant)
        and node.value == 0
        and not isinstance(node.value, bool)
    )


def show(node: ast.expr) -> str:
    """Render an expression for a message, shortened to 40 characters.

    Args:
        node: The expression.

    Returns:
        Its source text.
    """
    text = ast.unparse(node)
    return text if len(text) <= 40 else text[:37] + "..."


class Target(NamedTuple):
    """A call whose arguments may set hyperparameters.

    Attributes:
        args: Its positional arguments (after ``partial``'s callee).
        qualname: The resolved callee (``torch.optim.SGD``), if a dotted name.
        last: The callee's last name part.
        api: The known training API it is, if any.
        callee: The callee as shown in messages.
        norm: Whether it is a normalisation layer (its eps/momentum are exempt).
    """

    args: list[ast.expr]
    qualname: str | None
    last: str | None
    api: Api | None
    callee: str
    norm: bool


def call_target(ctx: FileContext, node: ast.Call) -> Target | None:
    """Resolve a call to the API it sets hyperparameters of, if it may set any.

    ``partial(optim.SGD, ...)`` is the call of ``optim.SGD``; calls that define
    config (:data:`CONFIG_CALLS`) and private helpers (``self._run``) are
    skipped.

    Args:
        ctx: The file.
        node: The call.

    Returns:
        The target, or None when the call's arguments are not settings.
    """
    func, args = node.func, node.args
    qualname = qualified_name(func, ctx.imports)
    last = qualname.rpartition(".")[2] if qualname else None
    if last == "partial" and args:
        func, args = args[0], args[1:]
        qualname = qualified_name(func, ctx.imports)
        last = qualname.rpartition(".")[2] if qualname else None
    if last in CONFIG_CALLS:
        return None
    if last is None and isinstance(func, ast.Attribute):
        last = func.attr
    if last is not None and last.startswith("_"):
        return None  # a private helper's arguments are implementation, not settings
    norm = last is not None and "norm" in last.lower() and "clip" not in last.lower()
    return Target(args, qualname, last, known_api(qualname), qualname or "call", norm)


# The scan: the lines where a hyperparameter keyword or a known API is called.
_PATTERNS: dict[frozenset[str], re.Pattern[str]] = {}
_SUFFIXES: re.Pattern[str] | None = None
#: Characters of text scanned with str.find before compiling the word regex.
_FIND_BUDGET = 500_000
_SCANNED = 0


def _reversed_pattern(words: frozenset[str]) -> re.Pattern[str]:
    # Searching the reversed text for "=" or "(" followed by a reversed word
    # lets the regex engine skip straight to the rare characters "=" and "(".
    pattern = _PATTERNS.get(words)
    if pattern is None:
        plain = {w[::-1] for w in words if w.isidentifier()}
        pattern = _PATTERNS[words] = re.compile(rf"[=(][ \t]*{trie_regex(plain)}(?!\w)")
    return pattern


def _find_words(source: str, words: Iterable[str]) -> list[int]:
    """Find ``word =`` / ``word(`` (word-bounded) with str.find; same as the regex."""
    starts: list[int] = []
    size = len(source)
    for word in words:
        index = source.find(word)
        while index != -1:
            end = index + len(word)
            before = source[index - 1] if index else " "
            if not (before.isalnum() or before == "_"):
                after = end
                while after < size and source[after] in " \t":
                    after += 1
                if after < size and source[after] in "=(":
                    starts.append(index)
            index = source.find(word, end)
    for suffix in API_SUFFIXES:
        index = source.find(suffix)
        while index != -1:
            after = index + len(suffix)
            while after < size and source[after] in " \t":
                after += 1
            if after < size and source[after] == "(":
                starts.append(index)
            index = source.find(suffix, index + len(suffix))
    return starts


def import_aliases(source: str) -> list[str]:
    """Local names that ``import ... as`` gives known APIs, read from the text.

    ``from torch.optim import Adam as A`` makes ``A(`` a candidate. A superset
    is fine (it only widens the candidate lines).

    Args:
        source: The file's text.

    Returns:
        The aliases (``A`` above).
    """
    aliases = []
    index = source.find(" as ")
    while index != -1:
        start = index
        while start > 0 and (source[start - 1].isalnum() or source[start - 1] == "_"):
            start -= 1
        if source[start:index] in API_NAMES:
            end = index + 4
            while end < len(source) and (source[end].isalnum() or source[end] == "_"):
                end += 1
            if end > index + 4:
                aliases.append(source[index + 4 : end])
        index = source.find(" as ", index + 4)
    return aliases


def scan_calls(source: str, options: Options, starts: list[int]) -> None:
    """Mark a hyperparameter keyword or known API name followed by ``=`` or ``(``.

    Small runs (the pre-commit hook's few files) scan with ``str.find``, which
    beats compiling the word regex (milliseconds at start-up); large ones
    search the reversed text with one compiled regex. Both find the same lines.

    Args:
        source: The file's text.
        options: The names in effect.
        starts: Offsets, updated in place.
    """
    if not trains(source):
        return  # a file that never trains has no run settings
    global _SUFFIXES, _SCANNED
    words = options.hyperparameter_names | API_NAMES
    aliases = import_aliases(source)
    if aliases:
        words = words | frozenset(aliases)
    if words not in _PATTERNS and _SCANNED < _FIND_BUDGET:
        _SCANNED += len(source)
        starts += _find_words(source, words)
        return
    backwards = source[::-1]
    size = len(source)
    starts += [size - m.end() for m in _reversed_pattern(words).finditer(backwards)]
    if _SUFFIXES is None:
        suffixes = {w[::-1] for w in API_SUFFIXES}
        _SUFFIXES = re.compile(rf"\([ \t]*{trie_regex(suffixes)}")
    starts += [size - m.end() for m in _SUFFIXES.finditer(backwards)]


#: The "Use instead" section the hyperparameter rules share.
USE_CONFIG = """
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
