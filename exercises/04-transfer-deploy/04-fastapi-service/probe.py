"""Driver for trial 4.4, fastapi-service. The student's code runs in the agent; this process drives it.

The driver writes the model file and picks the images; the agent counts `torch.jit.load` from before
solution.py is imported (`agent_install`) and talks to the student's app in its own process
(`agent_serve`). The app's answers come back as data and the check computes the right ones outside:
predictions, repeats and refusals are *verified* as the app's answers; how many times the model was
loaded is *observed*. As before, it scripts the trial's digit classifier (weights from public/classifier.npz, a dropout layer, saved in
train mode as a freshly trained model would be) to a TorchScript file, counts every `torch.jit.load`,
calls the student's `create_app(model_path)` and talks to the app through FastAPI's TestClient (which
runs the app's startup and shutdown): held-out digit images as 0–255 pixels, one image sent several
times, and invalid requests. It records status codes and response bodies; the check computes the right
answers outside from the same weights. check.py reads the constants below as literals.
"""

import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from exercises.kit.digits import load_public

N_IMAGES = 16  # the first held-out digits, sent as 8×8 integer pixels 0..255
REPEATS = 3  # the first image again, to see that answers do not vary
INVALID = ["missing-field", "seven-rows", "ragged-row", "above-255", "negative", "text"]
MAX_BODY_CHARS = 2000


class DigitNet(nn.Module):
    """The served model: dropout, then one linear layer over the 64 normalised pixels."""

    def __init__(self, weight, bias):
        super().__init__()
        self.dropout = nn.Dropout(0.5)
        self.linear = nn.Linear(64, 10)
        with torch.no_grad():
            self.linear.weight.copy_(torch.as_tensor(weight))
            self.linear.bias.copy_(torch.as_tensor(bias))

    def forward(self, x):
        if x.dim() != 4 or x.shape[1] != 1 or x.shape[2] != 8 or x.shape[3] != 8:
            raise ValueError("DigitNet expects a float32 tensor of shape (N, 1, 8, 8)")
        return self.linear(self.dropout(torch.flatten(x, 1)))


def held_out_pixels(public):
    """The first N_IMAGES held-out digits as 8×8 lists of ints 0..255."""
    images = np.round(load_public(public)["test_x"][:N_IMAGES] * 255).astype(np.int64)
    return [image.reshape(8, 8).tolist() for image in images]


def invalid_payload(name):
    rows = [[0] * 8 for _ in range(8)]
    if name == "missing-field":
        return {"image": rows}
    if name == "seven-rows":
        return {"pixels": rows[:7]}
    if name == "ragged-row":
        return {"pixels": [*rows[:7], [0] * 9]}
    if name == "above-255":
        rows[3][4] = 256
        return {"pixels": rows}
    if name == "negative":
        rows[0][0] = -1
        return {"pixels": rows}
    return {"pixels": "eight rows of eight numbers"}


def write_model(public, folder):
    with np.load(public / "classifier.npz", allow_pickle=False) as archive:
        model = DigitNet(archive["weight"], archive["bias"])
    path = Path(folder) / "digits.ts"
    torch.jit.script(model.train()).save(str(path))
    return path


class LoadCounter:
    """Wraps torch.jit.load (the student's code sees the wrapper) and counts the calls."""

    def __init__(self):
        self.calls = 0
        self.original = torch.jit.load

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.original(*args, **kwargs)


def send(client, payload):
    """POST /predict; the status and the JSON body (or text) of the answer, or the exception raised."""
    try:
        response = client.post("/predict", json=payload)
    except Exception as error:  # an app that breaks the protocol: an observation, not our failure
        return {"exception": repr(error)[:MAX_BODY_CHARS]}
    record = {"status": response.status_code}
    try:
        record["json"] = response.json()
    except Exception:
        record["text"] = response.text[:MAX_BODY_CHARS]
    return record


# ---------------------------------------------------------------------------------------------------
# In the agent (the student's process)

COUNTER = []


def agent_install(solution):
    counter = LoadCounter()
    torch.jit.load = counter
    COUNTER[:] = [counter]


def agent_serve(solution, model_path, images):
    torch.set_num_threads(1)
    from fastapi.testclient import TestClient

    counter = COUNTER[0]
    app = solution.create_app(model_path)
    if not callable(app):
        return {"create_app": {"error": f"create_app returned {type(app).__name__}, not an app"}}
    client = TestClient(app, raise_server_exceptions=False)
    try:
        client.__enter__()  # runs the app's startup (lifespan) events
    except Exception as error:
        return {"create_app": {"error": f"starting the app failed: {error!r}"[:MAX_BODY_CHARS]}}
    answers = {"create_app": {"type": type(app).__name__, "loads": counter.calls}}
    loads_before_requests = counter.calls
    answers["predict"] = [send(client, {"pixels": image}) for image in images]
    answers["repeat"] = [send(client, {"pixels": images[0]}) for _ in range(REPEATS)]
    answers["invalid"] = {name: send(client, invalid_payload(name)) for name in INVALID}
    answers["loads"] = {"before_requests": loads_before_requests, "after_requests": counter.calls}
    try:
        client.__exit__(None, None, None)
    except Exception as error:
        print(f"the app's shutdown raised: {error!r}", flush=True)
    return answers


# ---------------------------------------------------------------------------------------------------
# In the driver


def driver(ctx):
    model_path = write_model(ctx.public, tempfile.mkdtemp(prefix="trial-4-4-"))
    ctx.run("setup", "agent_install")
    ctx.load_solution()
    answers = ctx.run("create_app", "agent_serve", str(model_path), held_out_pixels(ctx.public))
    if not isinstance(answers, dict):
        return
    for key in ("create_app", "predict", "repeat", "invalid", "loads"):
        if key in answers:
            ctx.observe(key, answers[key])
