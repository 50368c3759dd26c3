# must fail: heatmap-shape
"""Classic mistake: squeeze() on the result "to drop the extra dimension". For a batch of one it drops
the batch dimension as well, and callers that index heatmaps[i] break."""

import numpy as np
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.utils.image import show_cam_on_image


def grad_cam(model, images):
    with GradCAM(model=model, target_layers=[model.block3]) as cam:
        return cam(input_tensor=images, targets=None).squeeze()


def overlay(image, heatmap):
    return show_cam_on_image(
        np.asarray(image, dtype=np.float32), np.asarray(heatmap, dtype=np.float32), use_rgb=True
    )
