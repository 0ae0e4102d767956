"""Which literal values are run settings: the scope and exemptions the MLQ1xx rules share.

A literal is reported when a maintainer would reasonably change it between
runs without editing code. Measured on real repositories
(``benchmarks/eval_rules.py``), these are not:

* anything in a file that never trains (:func:`mlqa.rules.scope.trains`), in a
  config class or in a ``__main__`` smoke test;
* a zero that switches a feature off (``dropout=0``, ``weight_decay=0``,
  ``eta_min=0``, ``lr=0`` set later by a scheduler);
* a dropout inside a class: the model's architecture, not a run setting;
* a batch size of one (single-sequence generation, per-image evaluation), the
  batch size of an inference call (``predict``, ``generate``, ``set_kv_cache``,
  ``iter_batches``) or of a validation/test loader (``mode="val"``,
  ``train=False``): they do not change what is learned;
* ``max_iter`` of an estimator other than an MLP or SGD model: a solver's
  convergence cap, not a number of epochs.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from mlqa.rules.hyperparameter_apis import DROPOUT_ARGS, Target, is_zero

if TYPE_CHECKING:
    from mlqa.rules.context import FileContext, State

#: Names whose zero means "off": a design choice, not a tuned value.
ZERO_OFF = DROPOUT_ARGS | frozenset(
    {
        "weight_decay",
        "eta_min",
        "min_lr",
        "lr",
        "warmup_steps",
        "num_warmup_steps",
        "warmup_epochs",
        "warmup_ratio",
        "label_smoothing",
        "momentum",
    }
)
#: Dropout-like names: inside a class they are architecture.
ARCHITECTURE = DROPOUT_ARGS | frozenset({"attn_dropout", "attention_dropout"})
_BATCH = re.compile(r"(?:^|_)(?:batch_size|bsz)$")
#: Calls whose batch size does not change what is learned.
INFERENCE_CALLS = frozenset(
    {
        "predict",
        "predict_on_batch",
        "evaluate",
        "generate",
        "set_kv_cache",
        "iter_batches",
        "take_batch",
        "map_batches",
        "transcribe",
        "encode",
        "embed",
        "sample",
    }
)
_EVAL_SPLITS = frozenset({"val", "valid", "validation", "test", "eval", "dev"})


def applies(ctx: FileContext, state: State) -> bool:
    """Tell whether the hyperparameter rules apply here at all.

    Args:
        ctx: The file.
        state: Where the walk is.

    Returns:
        False in files that never train, in config classes and in smoke tests.
    """
    return ctx.trains and not state.in_config and not state.smoke


def is_batch_size(name: str) -> bool:
    """Tell whether a keyword or variable name is a batch size.

    Args:
        name: The name.

    Returns:
        True for ``batch_size``, ``train_batch_size``, ``bsz`` ...
    """
    return _BATCH.search(name.lower()) is not None


def _evaluation_call(node: ast.Call) -> bool:
    for kw in node.keywords:
        value = kw.value
        if isinstance(value, ast.Constant):
            if isinstance(value.value, str) and value.value.lower() in _EVAL_SPLITS:
                return True
            if kw.arg == "train" and value.value is False:
                return True
    return any(isinstance(arg, ast.Call) and _evaluation_call(arg) for arg in node.args)


def exempt(
    node: ast.Call, target: Target, name: str, value: ast.expr, state: State
) -> bool:
    """Tell whether a hyperparameter argument is not a run setting (see the module doc).

    Args:
        node: The call.
        target: What the call resolves to.
        name: The hyperparameter's name (keyword or positional).
        value: The value given.
        state: Where the walk is.

    Returns:
        True when the value is not to be reported.
    """
    if name in ZERO_OFF and is_zero(value):
        return True
    if name in ARCHITECTURE and state.in_class:
        return True
    if name == "max_iter" and not (target.last or "").startswith(("MLP", "SGD")):
        return True
    if is_batch_size(name):
        if isinstance(value, ast.Constant) and value.value == 1:
            return True
        if target.last in INFERENCE_CALLS or _evaluation_call(node):
            return True
    return False


#: Variable names that hold run settings (case-insensitive): a literal assigned
#: to one of them in a training file is a hyperparameter constant.
SETTING_NAME = re.compile(
    r"""^(?:
        (?:(?:base|peak|max|min|init|initial|final|head|backbone|encoder|decoder
            |g|d|gen|disc|critic|actor)_)?(?:lr|learning_rate)
      | (?:train_|training_|micro_|global_|per_device_train_|mini_)?(?:batch_size|bsz)
      | (?:num_|n_|max_|total_|train_|num_train_)?epochs?
      | (?:num_|n_|max_|total_|train_|num_train_|warmup_)
        (?:steps?|iters?|iterations|updates|batches|training_steps|train_steps)
      | weight_decay | wd | momentum | betas | beta[12] | adam_beta[12]
      | (?:\w+_)?dropout(?:_rate|_prob|_p)? | drop_rate | drop_path_rate
      | (?:grad_)?clip | clip_grad | max_grad_norm | grad_norm_clip | clip_value | max_norm
      | gradient_accumulat\w* | grad_accum\w* | accumulate_grad\w* | accum_steps
      | gradient_accumulate_every | accumulation_steps
      | warmup(?:_steps|_iters|_epochs|_ratio)?
      | lambda_\w+ | \w+_lambda | \w*loss_weight\w* | \w+_coef | \w+_coeff
      | label_smoothing | patience | early_stopping_rounds | num_boost_round | gamma
      | n_estimators | num_rounds? | nrounds | max_depth | num_leaves
    )$""",
    re.IGNORECASE | re.VERBOSE,
)


def is_setting_name(name: str) -> bool:
    """Tell whether a variable name says it holds a run setting.

    Args:
        name: The variable name.

    Returns:
        True for ``LEARNING_RATE``, ``batch_size``, ``NUM_EPOCHS``,
        ``lambda_gp``, ``DECORR_LOSS_WEIGHT``, ``GRADIENT_ACCUMULATE_EVERY`` ...
    """
    return SETTING_NAME.match(name) is not None
