# must fail: heatmap-range
"""Classic mistake: the weighted sum of feature maps is upsampled and returned as it is: no ReLU and no
scaling, so values are negative and far above 1 and a colour map cannot show them."""

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
    cam = (gradients.mean(dim=(2, 3), keepdim=True) * saved["features"]).sum(1, keepdim=True)
    return F.interpolate(cam, size=images.shape[-2:], mode="bilinear", align_corners=False)[:, 0].detach()


def overlay(image, heatmap):
    heatmap = np.asarray(heatmap, dtype=np.float32)
    heatmap = (heatmap - heatmap.min()) / max(float(heatmap.max() - heatmap.min()), 1e-8)
    return show_cam_on_image(np.asarray(image, dtype=np.float32), heatmap, use_rgb=True)
