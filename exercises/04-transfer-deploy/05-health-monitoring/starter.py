"""试炼 4.5 · 护法 / Trial 4.5 · Guardian.

在 4.4 的推理服务上加上：健康检查、版本号、耗时监控、部署新版本时的冒烟测试与回滚。
Build on the 4.4 service: a health check, versions, latency monitoring, smoke-tested deploys and rollback.
"""

import time

import torch
from fastapi import FastAPI, HTTPException, Response
from pydantic import BaseModel

MEAN = 0.3
STD = 0.4


class PredictRequest(BaseModel):
    pixels: list[list[float]]  # 8×8，0–255（与 4.4 相同 / as in 4.4）


class DeployRequest(BaseModel):
    model_path: str
    version: str


def preprocess(pixels) -> torch.Tensor:
    x = torch.tensor(pixels, dtype=torch.float32)
    return ((x / 255.0 - MEAN) / STD).reshape(1, 1, 8, 8)


def create_app(model_path: str, version: str) -> FastAPI:
    model = torch.jit.load(model_path)
    model.eval()
    app = FastAPI()

    @app.get("/healthz")
    def healthz():
        # TODO 1: 用模型在空白图像上跑一次；失败（异常、形状不是 (1, 10)、非有限值）就回 503
        #         run the model on a blank image; on failure (exception, shape not (1, 10), non-finite) answer 503
        return {"status": "ok", "model_version": version}

    @app.post("/predict")
    def predict(request: PredictRequest, response: Response):
        started = time.perf_counter()
        with torch.inference_mode():
            probabilities = torch.softmax(model(preprocess(request.pixels)), dim=1)[0]
        # TODO 2: 推理出错 → 503（并回滚）；响应头 X-Model-Version、X-Inference-Time-Ms；记入 /metrics
        #         inference error → 503 (and roll back); headers X-Model-Version, X-Inference-Time-Ms; count for /metrics
        response.headers["X-Inference-Time-Ms"] = str(time.perf_counter() - started)
        return {"label": int(probabilities.argmax()), "probabilities": probabilities.tolist()}

    @app.get("/metrics")
    def metrics():
        # TODO 3: {"model_version", "predictions", "errors", "latency_ms": {"mean", "max"}}
        return {}

    @app.post("/deploy")
    def deploy(request: DeployRequest):
        # TODO 4: 加载 → eval → 冒烟测试；失败就保留当前版本，回答 409 {"status": "rolled_back", ...}
        #         load → eval → smoke test; on failure keep the current version, answer 409 {"status": "rolled_back", ...}
        raise HTTPException(status_code=501, detail="not written yet")

    return app
