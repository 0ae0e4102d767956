"""ImageNet training in the style of pytorch/examples, with the usual shortcuts."""

import argparse
import os
import time

import torch
import torch.nn as nn
import torch.optim
import torch.utils.data
import torchvision.datasets as datasets
import torchvision.models as models
import torchvision.transforms as transforms
from torch.optim.lr_scheduler import StepLR

parser = argparse.ArgumentParser(description="PyTorch ImageNet Training")
parser.add_argument("data", metavar="DIR", help="path to dataset")
parser.add_argument(
    "--epochs", default=90, type=int, help="number of total epochs to run"
)
parser.add_argument("-b", "--batch-size", default=256, type=int)
parser.add_argument("--lr", "--learning-rate", default=0.1, type=float, dest="lr")
parser.add_argument("--momentum", default=0.9, type=float)
parser.add_argument(
    "--wd", "--weight-decay", default=1e-4, type=float, dest="weight_decay"
)
parser.add_argument("--gpu", default=None, type=int)
parser.set_defaults(print_freq=10)


def main():
    args = parser.parse_args()
    model = models.resnet50()
    model = model.cuda()  # expect: MLQ201
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1).cuda()  # expect: MLQ101 MLQ201
    optimizer = torch.optim.SGD(
        model.parameters(),
        args.lr,
        momentum=0.9,  # expect: MLQ101
        weight_decay=args.weight_decay,
    )
    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)  # expect: MLQ101 MLQ101

    normalize = transforms.Normalize(
        mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]
    )
    train_dataset = datasets.ImageFolder(
        os.path.join(args.data, "train"),
        transforms.Compose(
            [
                transforms.RandomResizedCrop(224),
                transforms.RandomHorizontalFlip(),
                transforms.ToTensor(),
                normalize,
            ]
        ),
    )
    train_loader = torch.utils.data.DataLoader(
        train_dataset,
        batch_size=args.batch_size,
        shuffle=True,
        num_workers=8,
        pin_memory=True,
    )
    val_loader = torch.utils.data.DataLoader(
        train_dataset, 256, shuffle=False, num_workers=4  # expect: MLQ102
    )

    for epoch in range(args.epochs):
        train(train_loader, model, criterion, optimizer, epoch, args)
        validate(val_loader, model, criterion, args)
        scheduler.step()


def train(train_loader, model, criterion, optimizer, epoch, args):
    model.train()
    end = time.time()
    for i, (images, target) in enumerate(train_loader):
        if args.gpu is not None:
            images = images.cuda(args.gpu, non_blocking=True)
        if torch.cuda.is_available():
            target = target.cuda(args.gpu, non_blocking=True)
        output = model(images)
        loss = criterion(output, target)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)  # expect: MLQ102
        optimizer.step()
        if i % args.print_freq == 0:
            print(
                f"epoch {epoch} step {i} loss {loss.item():.3f} {time.time() - end:.1f}s"
            )


def validate(val_loader, model, criterion, args):
    model.eval()
    with torch.no_grad():
        for i, (images, target) in enumerate(val_loader):
            images = images.to("cuda")  # expect: MLQ202
            target = target.to(args.device)
            output = model(images)
            loss = criterion(output, target)
            acc1 = (output.argmax(dim=1) == target).float().mean()
            if i % 10 == 0:
                print(f"val {i}: {loss.item():.3f} {acc1.item():.3f}")


def adjust_learning_rate(optimizer, epoch, args):
    lr = args.lr * (0.1 ** (epoch // 30))
    for param_group in optimizer.param_groups:
        param_group["lr"] = lr


if __name__ == "__main__":
    main()
