# ruff: noqa
# Fixture of MLQ201 hardcoded-cuda-call, checked with MLQ201 alone.
# `# expect: CODE:COLUMN` marks each finding on its line; unmarked lines have none.
import torch
from torch import nn

model = nn.Linear(4, 2).cuda()  # expect: MLQ201:24
x, y = torch.ones(2), torch.zeros(2)
x, y = x.cuda(), y.cuda(0)  # expect: MLQ201:9, MLQ201:19
half = model.half().cuda()  # expect: MLQ201:20

# A CPU fallback in sight, or code whose job is the device:
if torch.cuda.is_available():
    model = model.cuda()
model = model.cuda() if use_cuda else model
z = x.cuda(device=d)
torch.cuda.synchronize()


def cuda(module):
    return module.cuda()


class GPUWrapper:
    def move(self):
        return self.net.cuda()


def train_gpu_only(model, x):
    if not torch.cuda.is_available():
        raise SystemExit("this example needs a GPU")
    return model.cuda()(x.cuda())


def no_guard(model):
    return model.cuda()  # expect: MLQ201:17
