# must fail: input-validation
"""Classic mistake: the body is declared as a list of lists of numbers and nothing more. A 7-row image
crashes the handler (500) and a pixel of 256 or -1 is silently accepted."""

import torch
from fastapi import FastAPI
from pydantic import BaseModel

MEAN = 0.3
STD = 0.4


class PredictRequest(BaseModel):
    pixels: list[list[float]]


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
            probabilities = torch.softmax(model(x), dim=1)[0]
        return Prediction(label=int(probabilities.argmax()), probabilities=probabilities.tolist())

    return app
