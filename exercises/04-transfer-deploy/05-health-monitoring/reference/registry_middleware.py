"""Trial 4.5, a second reference written differently: a small model registry on app.state built in the
lifespan handler, inference errors turned into 503 by an exception handler, latency measured by an
HTTP middleware around the whole /predict handler, and a smoke test on torch.zeros."""

import logging
import statistics
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, confloat, conlist

log = logging.getLogger(__name__)

Row = conlist(confloat(ge=0, le=255), min_length=8, max_length=8)


class Body(BaseModel):
    pixels: conlist(Row, min_length=8, max_length=8)


class Candidate(BaseModel):
    model_path: str
    version: str


class InferenceFailed(Exception):
    pass


def broken_reason(model):
    try:
        with torch.no_grad():
            out = model(torch.zeros(1, 1, 8, 8))
        if out.shape != (1, 10) or not bool(torch.isfinite(out).all()):
            return f"bad output {tuple(out.shape)}"
    except Exception as error:
        return str(error)
    return None


@dataclass
class Registry:
    versions: list = field(default_factory=list)  # [(name, model)], the live one last
    served: int = 0
    failed: int = 0
    timings: list = field(default_factory=list)

    @property
    def live(self):
        return self.versions[-1]


def create_app(model_path, version):
    @asynccontextmanager
    async def lifespan(app):
        app.state.registry = Registry(versions=[(version, torch.jit.load(model_path).eval())])
        yield

    app = FastAPI(lifespan=lifespan)

    @app.middleware("http")
    async def time_predictions(request: Request, call_next):
        start = time.perf_counter()
        response = await call_next(request)
        if request.url.path == "/predict" and response.status_code == 200:
            took = 1000 * (time.perf_counter() - start)
            request.app.state.registry.timings.append(took)
            response.headers["x-inference-time-ms"] = str(round(took, 3))
        return response

    @app.exception_handler(InferenceFailed)
    async def unavailable(request: Request, error: InferenceFailed):
        return JSONResponse(status_code=503, content={"detail": str(error)})

    @app.get("/healthz")
    def healthz(request: Request):
        name, model = request.app.state.registry.live
        reason = broken_reason(model)
        if reason:
            return JSONResponse(
                status_code=503, content={"status": "error", "model_version": name, "reason": reason}
            )
        return {"status": "ok", "model_version": name}

    @app.post("/predict")
    def predict(body: Body, request: Request):
        registry = request.app.state.registry
        name, model = registry.live
        image = (np.asarray(body.pixels, dtype=np.float32) / 255 - 0.3) / 0.4
        try:
            with torch.no_grad():
                scores = model(torch.from_numpy(image)[None, None])
            probs = torch.softmax(scores, dim=-1)[0]
            if not bool(torch.isfinite(probs).all()):
                raise ValueError("non-finite output")
        except Exception as error:
            registry.failed += 1
            if len(registry.versions) > 1:
                registry.versions.pop()
                log.warning("rolled back from %s to %s", name, registry.live[0])
            raise InferenceFailed(f"{name} failed: {error}") from None
        registry.served += 1
        return JSONResponse(
            {"label": int(probs.argmax()), "probabilities": probs.tolist()},
            headers={"X-Model-Version": name},
        )

    @app.get("/metrics")
    def metrics(request: Request):
        registry = request.app.state.registry
        timings = registry.timings
        return {
            "model_version": registry.live[0],
            "predictions": registry.served,
            "errors": registry.failed,
            "latency_ms": {
                "mean": statistics.fmean(timings) if timings else 0.0,
                "max": max(timings, default=0.0),
            },
        }

    @app.post("/deploy")
    def deploy(candidate: Candidate, request: Request):
        registry = request.app.state.registry
        try:
            model = torch.jit.load(candidate.model_path).eval()
            reason = broken_reason(model)
        except Exception as error:
            reason = f"cannot load: {error}"
        if reason:
            return JSONResponse(
                status_code=422,
                content={"status": "rolled_back", "model_version": registry.live[0], "reason": reason},
            )
        registry.versions.append((candidate.version, model))
        return {"status": "deployed", "model_version": candidate.version}

    return app
