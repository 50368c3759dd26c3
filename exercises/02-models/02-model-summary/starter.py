"""试炼 2.2 · torchinfo / Trial 2.2 · torchinfo.

1. summarize(model, input_size)：用 torchinfo.summary 返回参数量和每一层的输出形状。
   summarize(model, input_size): use torchinfo.summary to return parameter counts and each layer's output shape.
2. FixedNet：下面是题目里的 BrokenNet，输入 (N, 1, 28, 28) 时会报错。找出维度不匹配并修好它。
   FixedNet: below is BrokenNet from the statement; it fails on (N, 1, 28, 28) inputs. Find the mismatch and fix it.
"""

from torch import nn
from torchinfo import summary


def summarize(model, input_size):
    """返回 / Return {"total_params": int, "trainable_params": int,
    "layers": [{"type": "Conv2d", "output_shape": [64, 6, 24, 24], "params": 156}, ...]}（只列叶子层 / leaf layers only）。
    """
    stats = summary(model, input_size=input_size, verbose=0)
    layers = []
    for info in stats.summary_list:  # 每一项是一个 LayerInfo / each item is a LayerInfo
        if info.is_leaf_layer:
            # TODO 2: 还要 "output_shape"（info.output_size）和 "params"（info.num_params）
            #         add "output_shape" (info.output_size) and "params" (info.num_params)
            layers.append({"type": info.class_name})
    return {
        "total_params": None,  # TODO 1: stats.total_params
        "trainable_params": None,  # TODO 1: stats.trainable_params
        "layers": layers,
    }


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


if __name__ == "__main__":
    # 在自己的电脑上试一试 / try it on your own machine
    print(summary(FixedNet().features, input_size=(64, 1, 28, 28)))
    print(summarize(FixedNet(), (64, 1, 28, 28)))
