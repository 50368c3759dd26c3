# must fail: flatten-in-forward, logits
"""Classic mistake: a reshape that gets the shape right but reads the pixels in the wrong order.

view(784, -1).t() has the right (N, 784) shape, yet each row now holds pixels of several images.
"""

from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        x = x.view(784, -1).t()
        return self.fc(x)
