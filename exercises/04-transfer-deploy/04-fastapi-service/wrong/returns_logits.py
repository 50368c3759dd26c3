# must fail: predictions
"""Classic mistake: the model's raw scores (logits) are returned as if they were probabilities."""

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
        x = (x / 255.0 - MEAN) / STD
        x = x.reshape(1, 1, 8, 8)  # a batch of one single-channel image
        with torch.inference_mode():
            probabilities = model(x)[0]
        return Prediction(label=int(probabilities.argmax()), probabilities=probabilities.tolist())

    return app
