"""Trial 5.1's decoders: the check decodes a whole series at once (`decode_all`) and names a problem with
the per-sample decoder (`decode_sample`); both must find the same partners, areas and first problem.
Fast: plain functions of check.py on batches coded as the driver codes them."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

CHECK = Path(__file__).resolve().parents[2] / "exercises" / "05-practice" / "01-cutmix" / "check.py"
SHAPE = (6, 2, 7, 9, 6)  # batch, channels, height, width, classes


@pytest.fixture(scope="module")
def check():
    spec = importlib.util.spec_from_file_location("cutmix_check", CHECK)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def coded_batch(seed: int):
    """Secret codes as the driver draws them, and the (sorted codes, flat index) lookup the check uses."""
    batch, channels, height, width, _ = SHAPE
    rng = np.random.default_rng(seed)
    codes = (1 + rng.choice(1 << 20, size=batch * channels * height * width, replace=False)).astype(
        np.float64
    )
    order = np.argsort(codes, kind="stable")
    return codes.reshape(batch, channels, height, width), (codes[order], order)


def cutmix(images, rng):
    _, _, height, width = images.shape
    partner = rng.permutation(len(images))
    top, left = rng.integers(height), rng.integers(width)
    bottom, right = rng.integers(top, height + 1), rng.integers(left, width + 1)
    mixed = images.copy()
    mixed[:, :, top:bottom, left:right] = images[partner, :, top:bottom, left:right]
    return mixed


def both(check, series, lookup):
    found, first = check.decode_all(series, SHAPE, lookup)
    per_sample = [
        [check.decode_sample(series[call, sample], sample, SHAPE, lookup) for sample in range(SHAPE[0])]
        for call in range(len(series))
    ]
    return found, first, per_sample


def test_correct_cutmix_decodes_the_same_both_ways(check) -> None:
    images, lookup = coded_batch(1)
    rng = np.random.default_rng(2)
    series = np.stack([cutmix(images, rng) for _ in range(40)])
    found, first, per_sample = both(check, series, lookup)
    assert first is None
    partners, areas = found
    for call, row in enumerate(per_sample):
        for sample, (decoded, problem) in enumerate(row):
            assert problem is None
            assert decoded["partner"] == (None if partners[call, sample] < 0 else partners[call, sample])
            assert decoded["area"] == pytest.approx(areas[call, sample])


@pytest.mark.parametrize("kind", ["zeros", "blend", "moved", "channels", "several", "not-rectangle"])
def test_each_wrong_patch_is_the_first_problem_both_ways(check, kind: str) -> None:
    images, lookup = coded_batch(3)
    series = np.stack([images.copy() for _ in range(3)])
    wrong = series[1, 2]  # call 1, sample 2: the first problem
    if kind == "zeros":
        wrong[:, 1:3, 1:3] = 0.0
    elif kind == "blend":
        wrong[:] = 0.5 * images[2] + 0.5 * images[4]
    elif kind == "moved":
        wrong[:, 0:2, 0:2] = images[4, :, 3:5, 3:5]
    elif kind == "channels":
        wrong[0, 0:2, 0:2] = images[4, 0, 0:2, 0:2]
    elif kind == "several":
        wrong[:, 0:2, 0:2] = images[4, :, 0:2, 0:2]
        wrong[:, 4:6, 4:6] = images[5, :, 4:6, 4:6]
    else:
        wrong[:, 0:2, 0:2] = images[4, :, 0:2, 0:2]
        wrong[:, 4:6, 4:6] = images[4, :, 4:6, 4:6]
    series[2, 0, :, 0:1, 0:1] = 0.0  # a later problem that must not be the one named
    found, first, per_sample = both(check, series, lookup)
    assert found is None and first == (1, 2)
    problem = per_sample[1][2][1]
    assert problem is not None
    expected = {"zeros": ("foreign", "zeros"), "blend": ("foreign", "blend")}.get(kind)
    assert problem == expected if expected else problem[0] == kind
    assert all(decoded[1] is None for decoded in per_sample[0])
