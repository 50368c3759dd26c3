# must fail: heatmap-shape, peak-in-object
"""Forgery: the heatmaps keep the feature map's size, and the code patches what measured them in-process.

In-process, the probe measured the returned heatmaps with numpy beside the student's code; this forgery
patches numpy.asarray, torch.equal/allclose and json.dumps in its own process, and rewrites out/observations.json from a process in its own session. The
driver receives the heatmaps as data, measures them with its own numpy and writes out/, and the grader
reads only what the driver vouched for: heatmap-shape and peak-in-object still fail.
"""

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


def _forge():
    import json as _json
    import os as _os
    from pathlib import Path as _Path

    import numpy as _np
    import torch as _torch

    _asarray = _np.asarray
    _np.asarray = lambda value, *args, **kwargs: _asarray(value, *args, **kwargs)
    _dumps = _json.dumps
    _json.dumps = lambda value, *args, **kwargs: _dumps({"cam.main": {"shape": [24, 64, 64]}})
    _torch.equal = lambda a, b: True
    _torch.allclose = lambda *args, **kwargs: True
    if _os.fork() == 0:
        _os.setsid()
        for _ in range(20_000):
            try:
                _Path("/work/out/observations.json").write_text('{"cam.main": {"shape": [24, 64, 64]}}')
            except OSError:
                pass
        _os._exit(0)


_forge()
