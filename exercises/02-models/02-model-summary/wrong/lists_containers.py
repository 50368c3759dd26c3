# must fail: layer-shapes, layer-params
"""Classic mistake: every row of torchinfo's table is taken, containers (Sequential, the model) too."""

from torch import nn
from torchinfo import summary


def summarize(model, input_size):
    stats = summary(model, input_size=input_size, verbose=0)
    layers = [
        {"type": info.class_name, "output_shape": info.output_size, "params": info.num_params}
        for info in stats.summary_list
    ]
    return {"total_params": stats.total_params, "trainable_params": stats.trainable_params, "layers": layers}


class FixedNet(nn.Module):
    """BrokenNet with the first Linear sized for 28x28 inputs."""

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
            nn.Linear(16 * 4 * 4, 120),
            nn.ReLU(),
            nn.Linear(120, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))
