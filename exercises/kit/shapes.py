"""Shapes in a quadrant: small synthetic images with one object, and a small CNN trained on them.

Every image is `SIZE`×`SIZE` RGB (uint8) on a dark, noisy background, with one filled shape — a square,
a circle or a triangle (`CLASSES`) — in one of the four quadrants, in a random bright colour and size.
The label is the shape's class; the generator also returns where the object is (its quadrant, its
bounding box and its pixel mask), which a Grad-CAM check needs to judge where a heatmap peaks.

    data = make_shapes(16, seed=3)
    data.images   # (16, 64, 64, 3) uint8
    data.labels   # (16,) int64 in 0..2, CLASSES[label] is its name
    data.boxes    # (16, 4) int64: top, left, bottom, right (bottom/right exclusive)
    data.masks    # (16, 64, 64) bool: the object's pixels

`ShapesCNN` is a small CNN (three conv blocks with BatchNorm, global average pooling, dropout, a linear
head) that takes float images (N, 3, H, W) in [0, 1]. `train_reference_cnn(seed)` trains it
deterministically on CPU (one thread, deterministic algorithms, the global RNG left untouched), so a
trial's `generate.py` can ship its weights as safetensors (never a pickle) and Grad-CAM sees a model whose
attention means something, offline. `load_reference_cnn(path)` rebuilds it from that file.

Everything here is a pure function of its seed with a given numpy/torch version; trial bundles commit
the generated files and `python -m exercises.kit.generate --check` proves they are current.
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLASSES = ("square", "circle", "triangle")
SIZE = 64
MIN_SIDE = 14  # the object's extent in pixels, inclusive range
MAX_SIDE = 24
WEIGHTS_FILE = "shapes_cnn.safetensors"


@dataclass(frozen=True)
class ShapesData:
    images: Any  # (n, size, size, 3) uint8
    labels: Any  # (n,) int64, index into CLASSES
    quadrants: Any  # (n,) int64: 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right
    boxes: Any  # (n, 4) int64: top, left, bottom, right; bottom and right exclusive
    masks: Any  # (n, size, size) bool


def _shape_mask(kind: int, side: int) -> Any:
    """A side×side boolean mask of a filled square, circle (disc) or upward triangle."""
    import numpy as np

    y, x = np.mgrid[0:side, 0:side].astype(np.float64) + 0.5
    if kind == 0:
        return np.ones((side, side), dtype=bool)
    if kind == 1:
        radius = side / 2
        return (y - radius) ** 2 + (x - radius) ** 2 <= radius**2
    # An isosceles triangle: apex at the top centre, base along the bottom row.
    half_width = (y / side) * (side / 2)
    return np.abs(x - side / 2) <= half_width


def make_shapes(n: int, seed: int, *, size: int = SIZE) -> ShapesData:
    """`n` images of one shape each; a pure function of (n, seed, size)."""
    import numpy as np

    if size < 32:
        raise ValueError("make_shapes: size must be at least 32")
    rng = np.random.default_rng(seed)
    images = np.empty((n, size, size, 3), dtype=np.uint8)
    labels = np.empty(n, dtype=np.int64)
    quadrants = np.empty(n, dtype=np.int64)
    boxes = np.empty((n, 4), dtype=np.int64)
    masks = np.zeros((n, size, size), dtype=bool)
    half = size // 2
    scale = size / SIZE
    low, high = max(6, round(MIN_SIDE * scale)), max(8, round(MAX_SIDE * scale))
    for index in range(n):
        background = rng.integers(0, 40, size=3)
        noise = rng.integers(0, 36, size=(size, size, 3))
        image = np.clip(background + noise, 0, 255).astype(np.uint8)
        kind = int(rng.integers(0, len(CLASSES)))
        quadrant = int(rng.integers(0, 4))
        side = int(rng.integers(low, high + 1))
        side = min(side, half - 4)
        top = (quadrant // 2) * half + int(rng.integers(2, half - side - 1))
        left = (quadrant % 2) * half + int(rng.integers(2, half - side - 1))
        colour = rng.integers(50, 256, size=3)
        colour[int(rng.integers(0, 3))] = int(rng.integers(210, 256))  # always one strong channel
        mask = _shape_mask(kind, side)
        region = image[top : top + side, left : left + side]
        shade = rng.integers(-12, 13, size=(side, side, 1))
        region[mask] = np.clip(colour + shade, 0, 255)[mask].astype(np.uint8)
        full = np.zeros((size, size), dtype=bool)
        full[top : top + side, left : left + side] = mask
        rows, cols = np.nonzero(full)
        images[index] = image
        labels[index] = kind
        quadrants[index] = quadrant
        boxes[index] = (rows.min(), cols.min(), rows.max() + 1, cols.max() + 1)
        masks[index] = full
    return ShapesData(images, labels, quadrants, boxes, masks)


def to_tensor(images: Any) -> Any:
    """uint8 images (n, H, W, 3) as the float tensor (n, 3, H, W) in [0, 1] that ShapesCNN takes."""
    import numpy as np
    import torch

    array = np.ascontiguousarray(np.asarray(images, dtype=np.uint8).transpose(0, 3, 1, 2))
    return torch.from_numpy(array).float().div_(255.0)


@functools.cache
def _torch_modules() -> Any:
    import torch
    from torch import nn

    class ShapesCNN(nn.Module):
        """Three conv blocks (conv, BatchNorm, ReLU), 64→32→16 pixels, then pooling and a linear head.

        `block3` is the last convolutional block (a 16×16 map for 64×64 input): the natural Grad-CAM
        target layer, like `layer4[-1]` of a ResNet.
        """

        def __init__(self, num_classes: int = len(CLASSES)) -> None:
            super().__init__()
            self.block1 = nn.Sequential(
                nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2)
            )
            self.block2 = nn.Sequential(
                nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2)
            )
            self.block3 = nn.Sequential(nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU())
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.dropout = nn.Dropout(0.2)
            self.fc = nn.Linear(32, num_classes)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.block3(self.block2(self.block1(x)))
            return self.fc(self.dropout(torch.flatten(self.pool(x), 1)))

    return ShapesCNN


def __getattr__(name: str) -> Any:
    # `from exercises.kit.shapes import ShapesCNN` imports torch only when the class is wanted.
    if name == "ShapesCNN":
        return _torch_modules()
    raise AttributeError(name)


@contextlib.contextmanager
def _deterministic_cpu() -> Iterator[None]:
    """One thread, deterministic algorithms, and the caller's RNG state restored afterwards."""
    import torch

    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    with torch.random.fork_rng(devices=[]):
        torch.set_num_threads(1)
        torch.use_deterministic_algorithms(True)
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(deterministic)
            torch.set_num_threads(threads)


TRAIN_IMAGES = 800
TRAIN_EPOCHS = 5


def train_reference_cnn(seed: int = 0, *, n: int = TRAIN_IMAGES, epochs: int = TRAIN_EPOCHS) -> Any:
    """A ShapesCNN trained deterministically on `make_shapes(n, seed)`, in eval mode.

    Adam, batch 32, a fixed order from the seed, CPU only. The same seed gives bit-identical weights
    on the same machine type and library versions.
    """
    import numpy as np
    import torch
    from torch import nn

    data = make_shapes(n, seed)
    inputs = to_tensor(data.images)
    targets = torch.from_numpy(data.labels)
    order_rng = np.random.default_rng(seed + 1)
    with _deterministic_cpu():
        torch.manual_seed(seed)
        model = _torch_modules()()
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
        loss_fn = nn.CrossEntropyLoss()
        model.train()
        for _ in range(epochs):
            order = torch.from_numpy(order_rng.permutation(n))
            for start in range(0, n, 32):
                batch = order[start : start + 32]
                optimizer.zero_grad()
                loss = loss_fn(model(inputs[batch]), targets[batch])
                loss.backward()
                optimizer.step()
    return model.eval()


def cnn_weights_bytes(model: Any, metadata: dict[str, str] | None = None) -> bytes:
    """The model's state dict as safetensors bytes (deterministic for identical weights and metadata)."""
    from safetensors.torch import save

    state = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    return save(state, metadata=metadata)


def write_reference_cnn(path: Path, seed: int = 0, *, sources: str = "") -> None:
    """Train the reference CNN and write its weights to `path` as safetensors.

    `sources` (a fingerprint of the generator's source files) is stored in the file's metadata, so a
    staleness check can tell a generator that changed since the file was trained.
    """
    metadata = {"sources": sources} if sources else None
    Path(path).write_bytes(cnn_weights_bytes(train_reference_cnn(seed), metadata))


# Images no reference CNN trains on (training uses make_shapes(TRAIN_IMAGES, seed) with small seeds).
HELD_OUT_SEED = 90_001
HELD_OUT_IMAGES = 600
MIN_ACCURACY = 0.95  # the committed model reaches 1.0 on them; a retrain on any CPU must reach this
MIN_AGREEMENT = 0.95  # share of held-out images two such models classify alike


def reference_cnn_differences(fresh: Path, committed: Path) -> list[str]:
    """Why the committed reference CNN is not the one its generator trains now ([] when it is).

    Training is deterministic on one machine, but not across processors: AVX-512 and AVX2 kernels (and
    other BLAS paths) round differently in the last bits, and five epochs of Adam amplify that (measured:
    retrained with MKL and oneDNN held to AVX2, each conv bias differs by up to 60 % in relative L2 norm —
    a conv bias before BatchNorm is free to drift — and running variances by up to 4 %). So weights are
    compared by what matters, not by bytes or by values: the same generator sources (the fingerprint in
    the metadata), the same tensor names, shapes and dtypes, identical integer buffers, and two models
    that each classify at least MIN_ACCURACY of images neither trained on and agree on MIN_AGREEMENT of them.
    """
    import torch
    from safetensors import safe_open
    from safetensors.torch import load

    reasons: list[str] = []
    with safe_open(str(fresh), "pt") as f_fresh, safe_open(str(committed), "pt") as f_committed:
        fresh_sources = (f_fresh.metadata() or {}).get("sources", "")
        committed_sources = (f_committed.metadata() or {}).get("sources", "")
    if fresh_sources != committed_sources:
        reasons.append("the generator's sources changed since the committed weights were trained")
    new, old = load(Path(fresh).read_bytes()), load(Path(committed).read_bytes())
    if set(new) != set(old):
        reasons.append(f"tensor names differ: {sorted(set(new) ^ set(old))}")
        return reasons
    for name in sorted(new):
        a, b = new[name], old[name]
        if a.shape != b.shape or a.dtype != b.dtype:
            reasons.append(
                f"{name}: {tuple(b.shape)} {b.dtype} committed, {tuple(a.shape)} {a.dtype} generated"
            )
        elif not a.is_floating_point() and not torch.equal(a, b):
            reasons.append(f"{name}: integer buffer differs")
    if reasons:
        return reasons
    data = make_shapes(HELD_OUT_IMAGES, HELD_OUT_SEED)
    inputs, labels = to_tensor(data.images), torch.from_numpy(data.labels)
    predictions = {}
    for label, path in (("committed", committed), ("generated", fresh)):
        with torch.no_grad():
            predictions[label] = load_reference_cnn(path)(inputs).argmax(dim=1)
        accuracy = (predictions[label] == labels).float().mean().item()
        if accuracy < MIN_ACCURACY:
            reasons.append(
                f"the {label} model classifies {accuracy:.1%} of held-out shapes (< {MIN_ACCURACY:.0%})"
            )
    agreement = (predictions["committed"] == predictions["generated"]).float().mean().item()
    if agreement < MIN_AGREEMENT:
        reasons.append(f"the two models agree on {agreement:.1%} of held-out shapes (< {MIN_AGREEMENT:.0%})")
    return reasons


def load_reference_cnn(path: Path | str) -> Any:
    """A ShapesCNN with the weights in the safetensors file `path`, in eval mode (no pickle involved)."""
    from safetensors.torch import load

    model = _torch_modules()()
    model.load_state_dict(load(Path(path).read_bytes()))
    return model.eval()


def save_images(images: Any) -> bytes:
    """uint8 images as uncompressed .npz bytes (no pickle, byte-stable)."""
    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, images=np.asarray(images, dtype=np.uint8))
    return buffer.getvalue()
