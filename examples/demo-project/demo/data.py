"""Synthetic data, so the demo runs anywhere."""

import torch
from torch.utils.data import TensorDataset


def make_dataset(size: int, seed: int = 0) -> TensorDataset:
    """Build a random dataset of 28x28 images with 10 classes.

    Args:
        size: Number of samples.
        seed: Random seed.

    Returns:
        The dataset.
    """
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(size, 1, 28, 28, generator=generator)
    labels = torch.randint(0, 10, (size,), generator=generator)
    return TensorDataset(images, labels)


def num_batches(size: int, batch_size: int) -> int:
    """Count the batches of one epoch.

    Args:
        size: Number of samples.
        batch_size: Samples per batch.

    Returns:
        The number of batches, the last one possibly short.
    """
    count: int = (size + batch_size - 1) / batch_size
    return count
