"""Trial 4.4, a second reference written differently: the model is loaded in the lifespan handler and
kept on app.state, the body is read as a plain dict and checked by hand (HTTPException 422), and the
image is normalised with numpy before it becomes a tensor."""

from contextlib import asynccontextmanager
from typing import Annotated, Any

import numpy as np
import torch
from fastapi import Body, FastAPI, HTTPException, Request


def create_app(model_path):
    @asynccontextmanager
    async def lifespan(app):
        app.state.model = torch.jit.load(model_path).eval()
        yield
        del app.state.model

    app = FastAPI(lifespan=lifespan)

    @app.post("/predict")
    def predict(request: Request, body: Annotated[dict[str, Any], Body()]):
        pixels = body.get("pixels")
        try:
            image = np.array(pixels, dtype=np.float32)
        except (TypeError, ValueError):
            raise HTTPException(status_code=422, detail="pixels must be numbers") from None
        if image.shape != (8, 8) or not np.all((image >= 0) & (image <= 255)):
            raise HTTPException(status_code=422, detail="pixels must be 8×8 values from 0 to 255")
        normalised = (image / 255.0 - 0.3) / 0.4
        batch = torch.from_numpy(normalised).unsqueeze(0).unsqueeze(0)
        with torch.no_grad():
            scores = request.app.state.model(batch)
        probabilities = torch.nn.functional.softmax(scores, dim=-1).squeeze(0)
        return {"label": probabilities.argmax().item(), "probabilities": probabilities.tolist()}

    return app
