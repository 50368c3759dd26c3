# must fail: parameters
"""Classic mistake: layers kept in a plain Python list are not registered, so model.parameters() is empty."""

from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = [nn.Linear(784, 10)]

    def forward(self, x):
        x = x.view(x.size(0), -1)
        for layer in self.layers:
            x = layer(x)
        return x
