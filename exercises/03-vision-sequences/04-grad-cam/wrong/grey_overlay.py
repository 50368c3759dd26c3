# must fail: overlay
"""Classic mistake: the overlay multiplies the image by the heatmap and returns floats in [0, 1]. That
is a dimmed grey-ish picture of the wrong type, not a coloured heatmap over the image."""

import numpy as np
from pytorch_grad_cam import GradCAM


def grad_cam(model, images):
    with GradCAM(model=model, target_layers=[model.block3]) as cam:
        return cam(input_tensor=images, targets=None)


def overlay(image, heatmap):
    return np.asarray(image, dtype=np.float32) * np.asarray(heatmap, dtype=np.float32)[..., None]
