# must fail: heatmap-shape, peak-in-object
"""Classic mistake: the class activation map is returned at the resolution of the feature map (16×16
for a 64×64 image) instead of being upsampled to the image."""

import numpy as np
import torch
import torch.nn.functional as F
from pytorch_grad_cam.utils.image import show_cam_on_image


def grad_cam(model, images):
    model.eval()
    saved = {}
    handle = model.block3.register_forward_hook(lambda module, inputs, output: saved.update(features=output))
    logits = model(images)
    handle.remove()
    score = logits.gather(1, logits.argmax(1, keepdim=True)).sum()
    gradients = torch.autograd.grad(score, saved["features"])[0]
    cam = F.relu((gradients.mean(dim=(2, 3), keepdim=True) * saved["features"]).sum(1))
    cam = cam - cam.amin(dim=(1, 2), keepdim=True)
    return (cam / cam.amax(dim=(1, 2), keepdim=True).clamp_min(1e-8)).detach().numpy()


def overlay(image, heatmap):
    return show_cam_on_image(
        np.asarray(image, dtype=np.float32), np.asarray(heatmap, dtype=np.float32), use_rgb=True
    )
