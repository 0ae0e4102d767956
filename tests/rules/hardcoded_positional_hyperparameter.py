# ruff: noqa
# Fixture of MLQ102 hardcoded-positional-hyperparameter, checked with MLQ102 alone.
# `# expect: CODE:COLUMN` marks each finding on its line; unmarked lines have none.
from functools import partial

import torch
import torch.nn.functional as F
import torch.optim as optim
from mylib import Dropout
from sklearn.ensemble import RandomForestClassifier
from torch import nn
from torch.optim import Adam as A
from torch.utils.data import DataLoader

model = nn.Linear(512, 10)
params = model.parameters()
sgd = optim.SGD(params, 0.1, 0.9)  # expect: MLQ102:25, MLQ102:30
adam = A(params, 1e-3)  # expect: MLQ102:18
sched = optim.lr_scheduler.StepLR(sgd, 30, 0.5)  # expect: MLQ102:40, MLQ102:44
head = nn.Sequential(nn.Dropout(0.25), model)  # expect: MLQ102:33
out = F.dropout(torch.ones(3), 0.2)  # expect: MLQ102:32
loader = DataLoader(model, 64)  # expect: MLQ102:28
norm = torch.nn.utils.clip_grad_norm_(params, 1.0)  # expect: MLQ102:47
forest = RandomForestClassifier(100)  # expect: MLQ102:33

# Not hyperparameters by position, or not literals:
none = nn.Dropout(0.0)
mine = Dropout(0.5)
starred = optim.SGD(*params)
curried = partial(optim.SGD, 0.1)
lr = 0.1
named = optim.SGD(params, lr)
