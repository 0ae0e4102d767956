"""Train the classifier on synthetic data."""
import os
import torch
from torch import nn
from torch.utils.data import DataLoader

from demo.data import make_dataset
from demo.model import SmallCNN


def main() -> None:
    """Train for a few epochs and print the loss."""
    model = SmallCNN( num_classes = 10 ).cuda()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=0.01)
    loader = DataLoader(make_dataset(512), batch_size=64, shuffle=True)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(20):
        for images, labels in loader:
            images, labels = images.cuda(), labels.cuda()
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch}: loss {loss.item():.3f}")


if __name__ == "__main__":
    main()
