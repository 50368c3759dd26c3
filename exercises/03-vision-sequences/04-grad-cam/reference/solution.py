"""Reference for trial 3.4: pytorch-grad-cam on the last convolutional block, and its overlay helper."""

import numpy as np
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.utils.image import show_cam_on_image


def grad_cam(model, images):
    model.eval()
    with GradCAM(model=model, target_layers=[model.block3]) as cam:
        heatmaps = cam(input_tensor=images, targets=None)  # None: explain the predicted class
    return heatmaps  # (N, H, W) float32 in [0, 1]


def overlay(image, heatmap):
    return show_cam_on_image(np.asarray(image, dtype=np.float32), heatmap, use_rgb=True)
