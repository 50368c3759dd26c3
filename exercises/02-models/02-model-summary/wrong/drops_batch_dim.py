# must fail: layer-shapes
"""Classic mistake: output shapes reported per sample, without the batch dimension."""

from torch import nn
from torchinfo import summary


def summarize(model, input_size):
    stats = summary(model, input_size=input_size, verbose=0)
    layers = [
        {"type": info.class_name, "output_shape": info.output_size[1:], "params": info.num_params}
        for info in stats.summary_list
        if info.is_leaf_layer
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
