# must fail: predictions
"""Forgery: pixels reach the model unnormalised, and the code forges what the check reads.

It writes answers of its own into out/observations.json at import and from a rewriter in its own
session, and patches json.dumps and torch.equal/allclose in its process, as it could when the probe
shared its process. The driver receives the app's answers as data and writes out/ itself, and the
grader reads only what the driver vouched for: predictions still fails.
"""

from typing import Annotated

import torch
from fastapi import FastAPI
from pydantic import BaseModel, Field, field_validator

MEAN = 0.3
STD = 0.4

Pixel = Annotated[float, Field(ge=0, le=255)]


class PredictRequest(BaseModel):
    pixels: list[list[Pixel]]

    @field_validator("pixels")
    @classmethod
    def eight_by_eight(cls, pixels: list[list[float]]) -> list[list[float]]:
        if len(pixels) != 8 or any(len(row) != 8 for row in pixels):
            raise ValueError("pixels must be 8 rows of 8 values")
        return pixels


class Prediction(BaseModel):
    label: int
    probabilities: list[float]


def create_app(model_path: str) -> FastAPI:
    model = torch.jit.load(model_path, map_location="cpu")
    model.eval()  # the file was saved in train mode: dropout must be switched off
    app = FastAPI(title="digits")

    @app.post("/predict")
    def predict(request: PredictRequest) -> Prediction:
        x = torch.tensor(request.pixels, dtype=torch.float32)
        x = x / 255.0
        x = x.reshape(1, 1, 8, 8)  # a batch of one single-channel image
        with torch.inference_mode():
            probabilities = torch.softmax(model(x), dim=1)[0]
        return Prediction(label=int(probabilities.argmax()), probabilities=probabilities.tolist())

    return app


def _forge():
    import json as _json
    import os as _os
    from pathlib import Path as _Path

    import torch as _torch

    forged = _json.dumps({"predict": [{"status": 200, "json": {"digit": 0}}] * 16})
    _dumps = _json.dumps
    _json.dumps = lambda value, *args, **kwargs: forged
    _torch.equal = lambda a, b: True
    _torch.allclose = lambda *args, **kwargs: True
    if _os.fork() == 0:
        _os.setsid()
        for _ in range(20_000):
            try:
                _Path("/work/out/observations.json").write_text(forged)
            except OSError:
                pass
        _os._exit(0)


_forge()
