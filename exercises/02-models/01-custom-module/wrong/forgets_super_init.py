# must fail: output-shape, parameters
"""Classic mistake: __init__ never calls super().__init__(), so assigning a layer raises."""

from torch import nn


class Net(nn.Module):
    def __init__(self):
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        return self.fc(x)
