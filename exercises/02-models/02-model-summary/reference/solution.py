"""Reference solution for trial 2.2: torchinfo's statistics, and BrokenNet with the right in_features."""

from torch import nn
from torchinfo import summary


def summarize(model, input_size):
    stats = summary(model, input_size=input_size, verbose=0)
    layers = [
        {"type": info.class_name, "output_shape": list(info.output_size), "params": info.num_params}
        for info in stats.summary_list
        if info.is_leaf_layer
    ]
    return {
        "total_params": stats.total_params,
        "trainable_params": stats.trainable_params,
        "layers": layers,
    }


class FixedNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5),  # (N, 6, 24, 24)
            nn.ReLU(),
            nn.MaxPool2d(2),  # (N, 6, 12, 12)
            nn.Conv2d(6, 16, kernel_size=5),  # (N, 16, 8, 8)
            nn.ReLU(),
            nn.MaxPool2d(2),  # (N, 16, 4, 4)
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),  # (N, 256)
            nn.Linear(16 * 4 * 4, 120),  # was 16 * 5 * 5: the size for 32x32 inputs, not 28x28
            nn.ReLU(),
            nn.Linear(120, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))
