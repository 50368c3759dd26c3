# must fail: total-params, trainable-params
"""Classic mistake: counting state_dict() entries, which holds buffers (BatchNorm statistics) too,
and taking every parameter as trainable."""

from torch import nn
from torchinfo import summary


def summarize(model, input_size):
    stats = summary(model, input_size=input_size, verbose=0)
    count = sum(value.numel() for value in model.state_dict().values())
    layers = [
        {"type": info.class_name, "output_shape": info.output_size, "params": info.num_params}
        for info in stats.summary_list
        if info.is_leaf_layer
    ]
    return {"total_params": count, "trainable_params": count, "layers": layers}


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
