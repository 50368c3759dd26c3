"""试炼 4.4 · 开坛 / Trial 4.4 · Opening the gate.

写一个 FastAPI 应用，加载 TorchScript 模型，为 8×8 的手写数字图像提供 /predict 接口。
Write a FastAPI app that loads a TorchScript model and serves /predict for 8×8 digit images.
"""

import torch
from fastapi import FastAPI
from pydantic import BaseModel

MEAN = 0.3  # 归一化：(像素 / 255 − MEAN) / STD / normalise: (pixel / 255 − MEAN) / STD
STD = 0.4


class PredictRequest(BaseModel):
    pixels: list[
        list[float]
    ]  # TODO 3: 8 行 × 8 列，每个值 0–255，否则 422 / 8 rows of 8, values 0–255, else 422


def create_app(model_path: str) -> FastAPI:
    """返回一个 FastAPI 应用；模型文件在 model_path。/ Return a FastAPI app serving the model at model_path."""
    app = FastAPI()
    # TODO 1: model = torch.jit.load(model_path)，然后呢？/ and then?

    @app.post("/predict")
    def predict(request: PredictRequest) -> dict:
        x = torch.tensor(request.pixels, dtype=torch.float32)
        # TODO 2: 归一化、变成 (1, 1, 8, 8)、推理、softmax、tolist()
        #         normalise, reshape to (1, 1, 8, 8), run the model, softmax, tolist()
        return {"label": 0, "probabilities": [0.1] * 10, "received": list(x.shape)}

    return app


if __name__ == "__main__":
    from fastapi.testclient import TestClient

    client = TestClient(create_app("model.ts"))
    print(client.post("/predict", json={"pixels": [[0] * 8] * 8}).json())
