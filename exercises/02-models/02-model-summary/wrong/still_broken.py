# must fail: fixed-model
"""Classic mistake: BrokenNet left as it is: Linear(16 * 5 * 5, 120) is LeNet's size for 32x32 inputs."""

from torch import nn
from torchinfo import summary


def summarize(model, input_size):
    stats = summary(model, input_size=input_size, verbose=0)
    layers = [
        {"type": info.class_name, "output_shape": list(info.output_size), "params": info.num_params}
        for info in stats.summary_list
        if info.is_leaf_layer
    ]
    return {"total_params": stats.total_params, "trainable_params": stats.trainable_params, "layers": layers}


class FixedNet(nn.Module):
    """BrokenNet from the statement. Fix it so that a (N, 1, 28, 28) batch goes through."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(),
            nn.Linear(120, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))
