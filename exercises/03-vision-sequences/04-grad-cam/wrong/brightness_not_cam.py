# must fail: uses-gradients, eval-mode
"""Classic mistake: a "heatmap" that is just the image's brightness, scaled to [0, 1]. It looks
convincing on these pictures, but it says nothing about the model: no forward pass, no gradients."""

import numpy as np
from pytorch_grad_cam.utils.image import show_cam_on_image


def grad_cam(model, images):
    brightness = images.mean(dim=1)  # (N, H, W)
    low = brightness.amin(dim=(1, 2), keepdim=True)
    high = brightness.amax(dim=(1, 2), keepdim=True)
    return ((brightness - low) / (high - low)).numpy()


def overlay(image, heatmap):
    return show_cam_on_image(
        np.asarray(image, dtype=np.float32), np.asarray(heatmap, dtype=np.float32), use_rgb=True
    )
