"""试炼 3.4 · 洞见本心 / Trial 3.4 · Seeing the Heart.

用 pytorch-grad-cam 算出热力图，再把它叠加到图片上。
Compute Grad-CAM heatmaps with pytorch-grad-cam, then overlay them on the images.
"""

import numpy as np
import torch
from pytorch_grad_cam import GradCAM  # noqa: F401 - 你会用到它 / you will need it
from pytorch_grad_cam.utils.image import show_cam_on_image  # noqa: F401


def grad_cam(model, images):
    """images: (N, 3, H, W) float in [0, 1] → heatmaps (N, H, W), values in [0, 1]."""
    # TODO 1: cam = GradCAM(model=model, target_layers=[model.block3])
    # TODO 2: heatmaps = cam(input_tensor=images, targets=None)   # None: 解释预测的类别 / the predicted class
    return np.zeros((images.shape[0], images.shape[2], images.shape[3]), dtype=np.float32)


def overlay(image, heatmap):
    """image: (H, W, 3) float in [0, 1]; heatmap: (H, W) in [0, 1] → (H, W, 3) uint8."""
    # TODO 3: show_cam_on_image(image, heatmap, use_rgb=True)
    return (np.asarray(image) * 255).astype(np.uint8)


if __name__ == "__main__":
    from exercises.kit.shapes import WEIGHTS_FILE, load_reference_cnn, make_shapes, to_tensor

    model = load_reference_cnn(f"public/{WEIGHTS_FILE}")
    data = make_shapes(4, seed=1)
    heatmaps = grad_cam(model, to_tensor(data.images))
    print(np.asarray(heatmaps).shape, torch.__version__)
