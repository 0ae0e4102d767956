"""Training configuration: the one place hyperparameters live."""

from dataclasses import dataclass


@dataclass
class TrainConfig:
    """Hyperparameters of a training run.

    Attributes:
        lr: Learning rate.
        batch_size: Samples per step.
        epochs: Passes over the data.
    """

    lr: float = 1e-3
    batch_size: int = 64
    epochs: int = 10
