# must fail: latency-metrics
"""Forgery: the latency is not measured but made up (a second per inference), and the code forges the
clock that would have contradicted it.

In-process, the probe timed each request with time.perf_counter beside the student's code and wrote
out/observations.json itself; this forgery makes time.perf_counter run two seconds fast per call, patches
json.dumps, writes a forged out/observations.json first and rewrites it from a process in its own
session. The driver times each request around the whole round trip in its own process, and the grader
reads only what the driver vouched for: an inference claimed to take longer than its request still fails
latency-metrics.
"""

import logging
import threading
import time
from typing import Annotated

import torch
from fastapi import FastAPI, HTTPException, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator

MEAN = 0.3
FORGED_MS = 1000.0  # what every inference is claimed to take
STD = 0.4
logger = logging.getLogger("digits.service")

Pixel = Annotated[float, Field(ge=0, le=255)]


class PredictRequest(BaseModel):
    pixels: list[list[Pixel]]

    @field_validator("pixels")
    @classmethod
    def eight_by_eight(cls, pixels):
        if len(pixels) != 8 or any(len(row) != 8 for row in pixels):
            raise ValueError("pixels must be 8 rows of 8 values")
        return pixels


class DeployRequest(BaseModel):
    model_path: str
    version: str


def preprocess(pixels):
    x = torch.tensor(pixels, dtype=torch.float32)
    return ((x / 255.0 - MEAN) / STD).reshape(1, 1, 8, 8)


BLANK = preprocess([[0.0] * 8 for _ in range(8)])  # the smoke-test image


def smoke_test(model):
    """None if the model answers the blank image with 10 finite scores, else what went wrong."""
    try:
        with torch.inference_mode():
            scores = model(BLANK)
    except Exception as error:
        return f"the model raised {error!r}"
    if tuple(scores.shape) != (1, 10):
        return f"the model answered shape {tuple(scores.shape)}, not (1, 10)"
    if not torch.isfinite(scores).all():
        return "the model answered non-finite scores"
    return None


class Service:
    def __init__(self, model, version):
        self.lock = threading.Lock()
        self.live = (version, model)
        self.previous = []  # (version, model), most recent last
        self.predictions = 0
        self.errors = 0
        self.latencies_ms = []

    def deploy(self, path, version):
        try:
            candidate = torch.jit.load(path, map_location="cpu")
            candidate.eval()
        except Exception as error:
            return f"loading failed: {error!r}"
        problem = smoke_test(candidate)
        if problem:
            return problem
        with self.lock:
            self.previous.append(self.live)
            self.live = (version, candidate)
        return None

    def roll_back(self):
        with self.lock:
            if self.previous:
                failed, _ = self.live
                self.live = self.previous.pop()
                logger.warning("version %s failed in production; rolled back to %s", failed, self.live[0])


def create_app(model_path, version):
    model = torch.jit.load(model_path, map_location="cpu")
    model.eval()
    service = Service(model, version)
    app = FastAPI(title="digits")

    @app.get("/healthz")
    def healthz():
        live_version, live_model = service.live
        problem = smoke_test(live_model)
        if problem:
            logger.error("health check failed for %s: %s", live_version, problem)
            return JSONResponse(
                {"status": "unavailable", "model_version": live_version, "error": problem}, 503
            )
        return {"status": "ok", "model_version": live_version}

    @app.post("/predict")
    def predict(request: PredictRequest, response: Response):
        live_version, live_model = service.live
        x = preprocess(request.pixels)
        started = time.perf_counter()
        try:
            with torch.inference_mode():
                probabilities = torch.softmax(live_model(x), dim=1)[0]
            if not torch.isfinite(probabilities).all():
                raise ValueError("non-finite output")
        except Exception as error:
            service.errors += 1
            logger.error("version %s failed on a request: %r", live_version, error)
            service.roll_back()
            raise HTTPException(status_code=503, detail=f"model {live_version} failed; try again") from None
        elapsed_ms = FORGED_MS + 0.0 * (time.perf_counter() - started)
        service.predictions += 1
        service.latencies_ms.append(elapsed_ms)
        logger.info("predicted with %s in %.2f ms", live_version, elapsed_ms)
        response.headers["X-Model-Version"] = live_version
        response.headers["X-Inference-Time-Ms"] = f"{elapsed_ms:.3f}"
        return {"label": int(probabilities.argmax()), "probabilities": probabilities.tolist()}

    @app.get("/metrics")
    def metrics():
        latencies = service.latencies_ms
        return {
            "model_version": service.live[0],
            "predictions": service.predictions,
            "errors": service.errors,
            "latency_ms": {
                "mean": sum(latencies) / len(latencies) if latencies else 0.0,
                "max": max(latencies, default=0.0),
            },
        }

    @app.post("/deploy")
    def deploy(request: DeployRequest):
        problem = service.deploy(request.model_path, request.version)
        if problem:
            logger.warning("refused version %s: %s", request.version, problem)
            return JSONResponse(
                {"status": "rolled_back", "model_version": service.live[0], "error": problem}, status_code=409
            )
        logger.info("deployed version %s", request.version)
        return {"status": "deployed", "model_version": request.version}

    return app


def _forge():
    import json as _json
    import os as _os
    import time as _time
    from pathlib import Path as _Path

    real = _time.perf_counter
    calls = [0]

    def fast_clock():
        calls[0] += 1
        return real() + 2.0 * calls[0]

    _time.perf_counter = fast_clock
    forged = '{"service": {}, "broken": {}}'
    _dumps = _json.dumps
    _json.dumps = lambda value, *args, **kwargs: _dumps(value, *args, **kwargs).replace('"ms": ', '"ms": 9')
    out = _Path("/work/out")
    try:
        out.mkdir(exist_ok=True)
        (out / "observations.json").write_text(forged)
    except OSError:
        pass
    if _os.fork() == 0:
        _os.setsid()
        for _ in range(20_000):
            try:
                (out / "observations.json").write_text(forged)
            except OSError:
                pass
        _os._exit(0)


_forge()
