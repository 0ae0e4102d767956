"""Property checks for PyTorch models, as one-line assertions.

What Karpathy's "A Recipe for Training Neural Networks" asks engineers to check
by hand. Each ``assert_*`` returns None on success and raises AssertionError
with a report listing every problem; none changes the caller's model (they work
on deep copies) and each restores the global state it touches (RNGs,
deterministic-algorithms flag, grad mode, default dtype, thread count).

Importing this package is cheap: the checks and torch load on first use.

Example:
    >>> from mlqa.testing import assert_params_update
    >>> assert_params_update(model, (x, y), torch.nn.functional.cross_entropy)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlqa.testing._state import enable_determinism as enable_determinism
    from mlqa.testing._state import preserved_state as preserved_state
    from mlqa.testing._state import seed_everything as seed_everything
    from mlqa.testing.causal import assert_causal as assert_causal
    from mlqa.testing.checkpoint import (
        assert_checkpoint_roundtrip as assert_checkpoint_roundtrip,
    )
    from mlqa.testing.determinism import assert_deterministic as assert_deterministic
    from mlqa.testing.device import assert_device_parity as assert_device_parity
    from mlqa.testing.dtype import assert_dtype_consistent as assert_dtype_consistent
    from mlqa.testing.eval_mode import assert_eval_mode as assert_eval_mode
    from mlqa.testing.finite import assert_finite as assert_finite
    from mlqa.testing.independence import (
        assert_batch_independent as assert_batch_independent,
    )
    from mlqa.testing.init_loss import assert_loss_at_init as assert_loss_at_init
    from mlqa.testing.init_loss import expected_loss_at_init as expected_loss_at_init
    from mlqa.testing.shape import assert_output_shape as assert_output_shape
    from mlqa.testing.shared import assert_no_shared_params as assert_no_shared_params
    from mlqa.testing.training import assert_overfits_batch as assert_overfits_batch
    from mlqa.testing.training import assert_params_update as assert_params_update

_EXPORTS = {
    "assert_output_shape": "mlqa.testing.shape",
    "assert_finite": "mlqa.testing.finite",
    "assert_params_update": "mlqa.testing.training",
    "assert_overfits_batch": "mlqa.testing.training",
    "assert_loss_at_init": "mlqa.testing.init_loss",
    "expected_loss_at_init": "mlqa.testing.init_loss",
    "assert_batch_independent": "mlqa.testing.independence",
    "assert_deterministic": "mlqa.testing.determinism",
    "assert_device_parity": "mlqa.testing.device",
    "assert_causal": "mlqa.testing.causal",
    "assert_eval_mode": "mlqa.testing.eval_mode",
    "assert_dtype_consistent": "mlqa.testing.dtype",
    "assert_checkpoint_roundtrip": "mlqa.testing.checkpoint",
    "assert_no_shared_params": "mlqa.testing.shared",
    "preserved_state": "mlqa.testing._state",
    "seed_everything": "mlqa.testing._state",
    "enable_determinism": "mlqa.testing._state",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Load a public name on first use.

    Args:
        name: The attribute asked for.

    Returns:
        The function.

    Raises:
        AttributeError: For a name that is not exported.
    """
    if name not in _EXPORTS:
        raise AttributeError(f"module 'mlqa.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
