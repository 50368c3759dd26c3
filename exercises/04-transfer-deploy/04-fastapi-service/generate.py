"""Data for trial 4.4: the shared digits split and the weights of the digit classifier the service serves.

The classifier is a nearest-centroid rule written as one linear layer over normalised pixels: class k
scores x·c_k − ½‖c_k‖² (divided by a temperature, so its softmax is informative), where c_k is the mean
normalised image of class k in the training split. It needs no training run, so the file is the same on
every machine, and it is right on about nine held-out digits in ten.
"""

import io
from pathlib import Path

import numpy as np

from exercises.kit.digits import split, write_digits

MEAN = 0.3  # the service normalises pixels as (p / 255 - MEAN) / STD
STD = 0.4
TEMPERATURE = 4.0
WEIGHTS_FILE = "classifier.npz"


def classifier_weights(*, rows=slice(None), temperature=TEMPERATURE):
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
    weight, bias = classifier_weights()
    buffer = io.BytesIO()
    np.savez(buffer, weight=weight, bias=bias)
    (bundle / "public" / WEIGHTS_FILE).write_bytes(buffer.getvalue())
