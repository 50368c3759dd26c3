# must fail: eval-mode
"""Classic mistake: the model is put back into training mode after the heatmaps are computed ("so
training can go on"). A model being explained must stay in eval(): the next forward pass would update
BatchNorm statistics and drop features at random."""

import numpy as np
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.utils.image import show_cam_on_image


def grad_cam(model, images):
    cam = GradCAM(model=model, target_layers=[model.block3])
    heatmaps = cam(input_tensor=images, targets=None)
    model.train()
    return heatmaps


def overlay(image, heatmap):
    return show_cam_on_image(
        np.asarray(image, dtype=np.float32), np.asarray(heatmap, dtype=np.float32), use_rgb=True
    )
