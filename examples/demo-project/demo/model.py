"""The classifier."""

import torch
from torch import nn


class SmallCNN(nn.Module):
    """A two-layer convolutional classifier for 28x28 images.

    Args:
        num_classes: Number of output classes.
    """

    def __init__(self, num_classes: int = 10, dropout: float = 0.1) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(32, num_classes)

    def forward(self, images: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """Classify a batch of images.

        Args:
            images: A ``(batch, 1, 28, 28)`` tensor.

        Returns:
            Logits of shape ``(batch, num_classes)``.
        """
        features = self.features(images).flatten(1)
        return self.head(self.dropout(features)) / temperature
