import pytest
import torch

from mymodel import Net, train


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_train_on_gpu():
    model = Net().cuda()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(2):
        train(model, opt, device="cuda")


def test_overfit_one_batch():
    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    loader = torch.utils.data.DataLoader([torch.zeros(3)] * 8, batch_size=4)
    for step in range(50):
        train(model, opt, loader)
