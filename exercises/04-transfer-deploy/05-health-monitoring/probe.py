"""Driver for trial 4.5, health-monitoring. The student's code runs in the agent; this process drives it.

The driver scripts the TorchScript models into a scratch folder — the two good versions of the digit
classifier (public/classifier_v1.npz, _v2.npz; dropout on, saved in train mode), a corrupt file, a
model that always raises, one that answers NaN, one with 5 classes, and a "fragile" one that passes a
blank-image smoke test but raises on real, bright digits. In the agent, `torch.jit.load` is replaced
before solution.py is imported (`agent_install`) by a wrapper whose models sleep DELAY_SECONDS per
forward call, so that a latency the service reports can be compared with a known lower bound; the
student's app lives there behind FastAPI's TestClient (`agent_start`), and the driver sends it a fixed
SCRIPT (health, predictions, metrics, bad deployments, a good one, a failure in production) one request
at a time (`agent_send`), then does the same for a second app created on the always-raising model. The
app's answers (status, headers, body) come back as data and the check computes the right answers
outside (*verified*); each request's wall time is measured here around the whole round trip, an upper
bound on what the app could honestly report. The delay the wrapper adds, the lower bound, is
*observed*. check.py reads the constants here as literals.
"""

import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from exercises.kit.digits import load_public
from exercises.kit.probe import FAILED

DELAY_SECONDS = 0.02
IMAGES = 16  # the first held-out digits, as 8×8 integer pixels 0..255
BAD_VERSIONS = ["corrupt", "raises", "nan", "five-classes"]
# (step name, method, path, what): the requests the probe sends, in order, to the first app.
SCRIPT = [
    ["health.v1", "GET", "/healthz", None],
    ["predict.v1.0", "POST", "/predict", 0],
    ["predict.v1.1", "POST", "/predict", 1],
    ["predict.v1.2", "POST", "/predict", 2],
    ["predict.v1.3", "POST", "/predict", 3],
    ["predict.v1.4", "POST", "/predict", 4],
    ["predict.v1.5", "POST", "/predict", 5],
    ["metrics.v1", "GET", "/metrics", None],
    ["deploy.corrupt", "POST", "/deploy", "corrupt"],
    ["deploy.raises", "POST", "/deploy", "raises"],
    ["deploy.nan", "POST", "/deploy", "nan"],
    ["deploy.five-classes", "POST", "/deploy", "five-classes"],
    ["health.after-bad", "GET", "/healthz", None],
    ["predict.after-bad", "POST", "/predict", 6],
    ["deploy.v2", "POST", "/deploy", "v2"],
    ["health.v2", "GET", "/healthz", None],
    ["predict.v2.7", "POST", "/predict", 7],
    ["predict.v2.8", "POST", "/predict", 8],
    ["predict.v2.9", "POST", "/predict", 9],
    ["predict.v2.10", "POST", "/predict", 10],
    ["deploy.fragile", "POST", "/deploy", "fragile"],
    ["predict.fragile", "POST", "/predict", 12],
    ["health.after-failure", "GET", "/healthz", None],
    ["predict.after-failure", "POST", "/predict", 12],
    ["metrics.end", "GET", "/metrics", None],
]
# Deployed versions' names; a rejected one must leave "v1.0" serving.
VERSION_NAMES = {
    "v2": "v2.0",
    "fragile": "v3.0",
    "corrupt": "v1.1",
    "raises": "v1.2",
    "nan": "v1.3",
    "five-classes": "v1.4",
}
# The second app, created on the always-raising model.
BROKEN_SCRIPT = [
    ["health", "GET", "/healthz", None],
    ["predict", "POST", "/predict", 0],
    ["metrics", "GET", "/metrics", None],
]
MAX_BODY_CHARS = 2000


class DigitNet(nn.Module):
    """The served classifier: dropout, then one linear layer over the 64 normalised pixels."""

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


class Raises(nn.Module):
    def forward(self, x):
        if x.dim() >= 0:
            raise RuntimeError("this model is broken: its weights failed to load correctly")
        return x


class AnswersNaN(nn.Module):
    def forward(self, x):
        return torch.full((x.shape[0], 10), float("nan"))


class FiveClasses(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(64, 5)

    def forward(self, x):
        return self.linear(torch.flatten(x, 1))


class Fragile(nn.Module):
    """Passes a smoke test on a blank image, fails on real digits (a bright pixel)."""

    def __init__(self, weight, bias):
        super().__init__()
        self.inner = DigitNet(weight, bias)

    def forward(self, x):
        if x.max() > 1.0:
            raise RuntimeError("numerical overflow in layer 3")
        return self.inner(x)


class Slowed(nn.Module):
    """What the student's torch.jit.load returns here: the real model, DELAY_SECONDS slower per call."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        time.sleep(DELAY_SECONDS)
        return self.inner(x)


def write_models(public, folder):
    weights = {}
    for version in ("v1", "v2"):
        with np.load(public / f"classifier_{version}.npz", allow_pickle=False) as archive:
            weights[version] = (archive["weight"], archive["bias"])
    models = {
        "v1": DigitNet(*weights["v1"]),
        "v2": DigitNet(*weights["v2"]),
        "raises": Raises(),
        "nan": AnswersNaN(),
        "five-classes": FiveClasses(),
        "fragile": Fragile(*weights["v2"]),
    }
    paths = {}
    for name, model in models.items():
        paths[name] = Path(folder) / f"{name}.ts"
        torch.jit.script(model.train()).save(str(paths[name]))
    paths["corrupt"] = Path(folder) / "corrupt.ts"
    paths["corrupt"].write_bytes(b"PK\x03\x04 this is not a TorchScript archive" * 20)
    return paths


def held_out_pixels(public):
    images = np.round(load_public(public)["test_x"][:IMAGES] * 255).astype(np.int64)
    return [image.reshape(8, 8).tolist() for image in images]


# ---------------------------------------------------------------------------------------------------
# In the agent (the student's process): the apps and their clients live here between requests

CLIENTS = {}


def agent_install(solution):
    original_load = torch.jit.load

    def slowed_load(*args, **kwargs):
        return Slowed(original_load(*args, **kwargs))

    torch.jit.load = slowed_load


def agent_start(solution, which, model_path, version):
    """create_app(model_path, version) behind a started TestClient, kept as `which`; None when it
    started, else why not (create_app's own raise is the failed call)."""
    torch.set_num_threads(1)
    from fastapi.testclient import TestClient

    app = solution.create_app(model_path, version)
    if not callable(app):
        return {"error": f"create_app returned {type(app).__name__}, not an app"}
    client = TestClient(app, raise_server_exceptions=False)
    try:
        client.__enter__()  # the app's startup (lifespan) events
    except Exception as error:
        return {"error": f"starting the app failed: {error!r}"[:MAX_BODY_CHARS]}
    CLIENTS[which] = client
    return None


def agent_send(solution, which, method, path, payload):
    """One request to app `which`: its status, headers and JSON body (or text), or the exception."""
    client = CLIENTS[which]
    try:
        response = client.request(method, path, json=payload)
    except Exception as error:
        return {"exception": repr(error)[:MAX_BODY_CHARS]}
    record = {
        "status": response.status_code,
        "headers": {name: response.headers.get(name) for name in ("x-model-version", "x-inference-time-ms")},
    }
    try:
        record["json"] = response.json()
    except Exception:
        record["text"] = response.text[:MAX_BODY_CHARS]
    return record


def agent_stop(solution, which):
    client = CLIENTS.pop(which)
    try:
        client.__exit__(None, None, None)
    except Exception as error:
        print(f"the app's shutdown raised: {error!r}", flush=True)


# ---------------------------------------------------------------------------------------------------
# In the driver


def run_script(ctx, key, create_key, model, script, images, paths):
    started = ctx.run(create_key, "agent_start", key, str(paths[model]), "v1.0")
    if started is FAILED:
        return
    if started is not None:
        error = started.get("error") if isinstance(started, dict) else None
        ctx.observe(key, {"error": str(error)[:MAX_BODY_CHARS]})
        return
    answers = {}
    for step, method, path, what in script:
        if path == "/predict":
            payload = {"pixels": images[what]}
        elif path == "/deploy":
            payload = {"model_path": str(paths[what]), "version": VERSION_NAMES[what]}
        else:
            payload = None
        begun = time.perf_counter()
        record = ctx.run(f"{key}.request", "agent_send", key, method, path, payload)
        elapsed = (time.perf_counter() - begun) * 1000
        if record is FAILED:
            break
        if not isinstance(record, dict):
            record = {"exception": f"no answer ({type(record).__name__})"}
        record["ms"] = elapsed
        answers[step] = record
    ctx.observe(key, answers)
    ctx.run(f"{key}.stop", "agent_stop", key)


def driver(ctx):
    torch.set_num_threads(1)
    paths = write_models(ctx.public, tempfile.mkdtemp(prefix="trial-4-5-"))
    images = held_out_pixels(ctx.public)
    ctx.run("setup", "agent_install")
    ctx.load_solution()
    run_script(ctx, "service", "create_app", "v1", SCRIPT, images, paths)
    run_script(ctx, "broken", "create_app.broken", "raises", BROKEN_SCRIPT, images, paths)
