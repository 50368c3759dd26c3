"""Data for trial 4.5: the shared digits split and two versions of the digit classifier the service serves.

Both versions are nearest-centroid rules written as one linear layer over normalised pixels (class k
scores x·c_k − ½‖c_k‖², divided by a temperature), so no training run is needed and the files are the
same on every machine. Version 1 uses the whole training split; version 2 every other image and a
lower temperature, so the two answer measurably differently.
"""

import io
from pathlib import Path

import numpy as np

from exercises.kit.digits import split, write_digits

MEAN = 0.3  # the service normalises pixels as (p / 255 - MEAN) / STD
STD = 0.4
VERSIONS = {"classifier_v1.npz": (slice(None), 4.0), "classifier_v2.npz": (slice(None, None, 2), 2.5)}


def classifier_weights(rows, temperature):
    data = split()
    pixels = np.round(data.train_x[rows] * 255) / 255
    labels = data.train_y[rows]
    normalised = (pixels - MEAN) / STD
    centroids = np.stack([normalised[labels == k].mean(axis=0) for k in range(10)])
    weight = (centroids / temperature).astype(np.float32)
    bias = (-0.5 * (centroids**2).sum(axis=1) / temperature).astype(np.float32)
    return weight, bias


def generate(bundle: Path) -> None:
    write_digits(bundle)
    for name, (rows, temperature) in VERSIONS.items():
        weight, bias = classifier_weights(rows, temperature)
        buffer = io.BytesIO()
        np.savez(buffer, weight=weight, bias=bias)
        (bundle / "public" / name).write_bytes(buffer.getvalue())
