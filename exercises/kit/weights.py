"""The pretrained ResNet-18 checkpoint that realm 4 loads, kept in a local weights cache (`TORCH_HOME`).

torchvision's `resnet18(weights="DEFAULT")` reads `$TORCH_HOME/hub/checkpoints/resnet18-f37072fd.pth`
and downloads it only when the file is missing; an existing file is used as it is (its hash is not
checked). The sandbox has no network, so the grader binds a prepared cache read-only at
/opt/huashen/torch and sets TORCH_HOME there. Two ways to prepare one:

- where the internet is reachable, download the real checkpoint (stdlib only, no torch needed):
  `python -m exercises.kit.weights --fetch TORCH_HOME` (the web side's `manage.py fetch_weights` does
  the same);
- offline (tests, CI, air-gapped installs), `ensure_resnet18(torch_home)` writes a deterministic
  *stand-in*: torchvision's ResNet-18 initialised from a fixed seed, with seeded BatchNorm statistics
  so that no fresh `resnet18()` can equal it by chance, saved as a plain state_dict under the expected
  name. Beside it goes `resnet18-f37072fd.pth.standin`, the marker that tells the platform (and the
  trial pages) that stand-in weights are in use. Fetching the real file removes the marker.

The realm-4 checks never trust what the sandbox says the weights are: `load_state(path)` loads the
cached checkpoint itself, outside, with `torch.load(weights_only=True)`, and `find_resnet18()` tells a
check where the cache is. This module imports torch only inside the functions that need it.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

RESNET18_FILE = "resnet18-f37072fd.pth"  # torchvision's ResNet18_Weights.IMAGENET1K_V1 (= "DEFAULT")
RESNET18_URL = f"https://download.pytorch.org/models/{RESNET18_FILE}"
RESNET18_SHA256_PREFIX = "f37072fd"  # torch.hub names checkpoints after the start of their sha256
STANDIN_SUFFIX = ".standin"
STANDIN_SEED = 4_1_2024  # not 0, 1 or 42: a student's `torch.manual_seed(s); resnet18()` must not match
SANDBOX_TORCH_HOME = "/opt/huashen/torch"  # where the grader binds the cache inside the sandbox
REPO = Path(__file__).resolve().parents[2]
DEFAULT_TORCH_HOME = REPO / "var" / "torch-home"  # the tests' cache and `fetch_weights`' default

_DOWNLOAD_CHUNK = 1 << 20


def checkpoint_path(torch_home: Path | str) -> Path:
    """Where torchvision looks for the ResNet-18 checkpoint under `torch_home`."""
    return Path(torch_home) / "hub" / "checkpoints" / RESNET18_FILE


def marker_path(torch_home: Path | str) -> Path:
    return checkpoint_path(torch_home).with_name(RESNET18_FILE + STANDIN_SUFFIX)


def is_standin(torch_home: Path | str) -> bool:
    """Whether the cache holds the generated stand-in rather than the real ImageNet weights."""
    return marker_path(torch_home).is_file()


def ensure_resnet18(torch_home: Path | str) -> Path:
    """The checkpoint path under `torch_home`, writing the stand-in (and its marker) if it is missing.

    An existing checkpoint — real or stand-in — is left as it is. Safe to call from several processes
    at once: each writes a complete temporary file and renames it into place.
    """
    path = checkpoint_path(torch_home)
    if path.is_file():
        return path
    _make_readable_dirs(Path(torch_home), path.parent)
    # The marker first: a stand-in checkpoint is never visible without it.
    _write_atomically(
        marker_path(torch_home),
        json.dumps(
            {
                "stand_in": True,
                "checkpoint": RESNET18_FILE,
                "seed": STANDIN_SEED,
                "note": "generated offline by exercises.kit.weights; not the ImageNet weights. "
                "Run `python -m exercises.kit.weights --fetch TORCH_HOME` where the internet is reachable.",
            },
            indent=1,
        ).encode()
        + b"\n",
    )
    _write_atomically(path, standin_bytes())
    return path


def standin_bytes() -> bytes:
    """The stand-in checkpoint: a seeded torchvision ResNet-18 state_dict, saved with `torch.save`.

    Convolution and linear weights come from torchvision's own initialisation under a fixed seed;
    BatchNorm scales, shifts and running statistics are drawn around their usual values (1, 0, 0, 1)
    from a seeded generator, so every tensor — buffers included — differs from a fresh `resnet18()`,
    while activations keep the scale of a trained network (features of order 1). The global RNG state
    of the caller is left untouched. The same bytes on every call with a given torch version.
    """
    import torch
    from torchvision.models import resnet18

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(STANDIN_SEED)
        model = resnet18()
    generator = torch.Generator().manual_seed(STANDIN_SEED + 1)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                size = module.num_features
                module.weight.copy_(1 + 0.1 * torch.randn(size, generator=generator))
                module.bias.copy_(0.05 * torch.randn(size, generator=generator))
                module.running_mean.copy_(0.05 * torch.randn(size, generator=generator))
                module.running_var.copy_(0.75 + 0.5 * torch.rand(size, generator=generator))
                module.num_batches_tracked.fill_(STANDIN_SEED % 997)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getvalue()


def load_state(path: Path | str) -> dict[str, Any]:
    """The checkpoint's state_dict, loaded safely (`weights_only=True`: tensors only, no code)."""
    import torch

    state = torch.load(Path(path), map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise ValueError(f"{path} is not a state_dict")
    return state


SAMPLES_PER_TENSOR = 64


def fingerprint(state: dict[str, Any], names: list[str]) -> Any:
    """A float64 array that pins down every tensor of `state` named in `names`, in that order.

    Per tensor: its sum, the sum of its absolute values, then up to 64 of its values at evenly spaced
    flat positions (all of them for a small tensor). A probe saves this for the student's model inside
    the sandbox; the check computes it from the checkpoint outside and compares. A tensor that is
    missing or has another number of elements makes the arrays differ in length or values.
    """
    import numpy as np
    import torch

    pieces = []
    for name in names:
        tensor = state[name]
        flat = tensor.detach().to("cpu", torch.float64).reshape(-1)
        count = flat.numel()
        if count <= SAMPLES_PER_TENSOR:
            picked = flat
        else:
            positions = torch.linspace(0, count - 1, SAMPLES_PER_TENSOR, dtype=torch.float64).round().long()
            picked = flat[positions]
        pieces.append(np.array([float(flat.sum()), float(flat.abs().sum())]))
        pieces.append(picked.numpy())
    return np.concatenate(pieces) if pieces else np.zeros(0)


def fingerprint_lengths(shapes: list[list[int]]) -> list[int]:
    """How many entries each tensor takes in a fingerprint, from the tensors' shapes."""
    lengths = []
    for shape in shapes:
        count = 1
        for size in shape:
            count *= int(size)
        lengths.append(2 + min(count, SAMPLES_PER_TENSOR))
    return lengths


def differing_tensors(
    expected: dict[str, Any], names: list[str], shapes: list[list[int]], observed: Any
) -> list[str]:
    """Names (among `names`, in order) whose observed fingerprint differs from `expected`'s tensor.

    `names` and `shapes` are what the probe reported; `observed` its fingerprint array. A name the
    expected state lacks, a shape that differs, or an array of the wrong length counts as differing.
    Sums agree to a relative 1e-6 (summation order differs in and out); sampled values exactly.
    """
    import numpy as np

    lengths = fingerprint_lengths(shapes)
    if observed is None or len(observed) != sum(lengths):
        return list(names)
    differing = []
    offset = 0
    for name, shape, length in zip(names, shapes, lengths, strict=True):
        piece = np.asarray(observed[offset : offset + length], dtype=np.float64)
        offset += length
        tensor = expected.get(name)
        if tensor is None or list(tensor.shape) != list(shape):
            differing.append(name)
            continue
        reference = fingerprint({name: tensor}, [name])
        if not (
            np.allclose(piece[:2], reference[:2], rtol=1e-6, atol=1e-6)
            and np.array_equal(piece[2:], reference[2:])
        ):
            differing.append(name)
    return differing


def sha256_of(path: Path | str) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        for chunk in iter(lambda: stream.read(_DOWNLOAD_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def find_resnet18() -> Path:
    """The cached checkpoint a check should compare against (outside the sandbox).

    Looks in $TORCH_HOME, then in the repository's var/torch-home (the tests' cache and the default of
    `fetch_weights`). Raises FileNotFoundError when neither holds one: the check then reports that it
    could not be evaluated, never a failure of the student's code.
    """
    candidates = []
    if os.environ.get("TORCH_HOME"):
        candidates.append(Path(os.environ["TORCH_HOME"]))
    candidates.append(DEFAULT_TORCH_HOME)
    for torch_home in candidates:
        path = checkpoint_path(torch_home)
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"no {RESNET18_FILE} under {', '.join(str(c) for c in candidates)}: run "
        "`python -m exercises.kit.weights --stand-in DIR` or `--fetch DIR` and give the grader TORCH_HOME=DIR"
    )


def fetch_resnet18(torch_home: Path | str, *, url: str = RESNET18_URL, quiet: bool = False) -> Path:
    """Download the real checkpoint into `torch_home` (verifying its sha256 prefix) and drop the marker.

    Only the standard library: this also runs where torch is not installed.
    """
    path = checkpoint_path(torch_home)
    _make_readable_dirs(Path(torch_home), path.parent)
    digest = hashlib.sha256()
    received = 0
    with _temporary_beside(path) as temporary:
        with urllib.request.urlopen(url, timeout=60) as response, temporary.open("wb") as stream:  # noqa: S310
            total = int(response.headers.get("Content-Length") or 0)
            for chunk in iter(lambda: response.read(_DOWNLOAD_CHUNK), b""):
                stream.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                if not quiet and total:
                    print(f"\r{RESNET18_FILE}: {received * 100 // total}%", end="", file=sys.stderr)
        if not quiet:
            print(file=sys.stderr)
        if not digest.hexdigest().startswith(RESNET18_SHA256_PREFIX):
            raise ValueError(
                f"{url}: sha256 {digest.hexdigest()[:16]}… does not start with {RESNET18_SHA256_PREFIX}"
            )
        temporary.chmod(0o644)
        os.replace(temporary, path)
    with contextlib.suppress(FileNotFoundError):
        marker_path(torch_home).unlink()
    return path


# ---------------------------------------------------------------------------------------------------
# Files


def _make_readable_dirs(top: Path, leaf: Path) -> None:
    """Create `leaf` (under `top`) with every level readable by the sandbox account."""
    leaf.mkdir(parents=True, exist_ok=True)
    folder = top
    for part in ("", *leaf.relative_to(top).parts):
        folder = folder / part if part else folder
        with contextlib.suppress(PermissionError):
            folder.chmod(0o755)


@contextlib.contextmanager
def _temporary_beside(path: Path) -> Iterator[Path]:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def _write_atomically(path: Path, data: bytes) -> None:
    with _temporary_beside(path) as temporary:
        temporary.write_bytes(data)
        temporary.chmod(0o644)
        os.replace(temporary, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m exercises.kit.weights",
        description="Prepare the ResNet-18 weights cache (TORCH_HOME) that realm 4 uses.",
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--fetch", metavar="TORCH_HOME", help="download the real checkpoint (internet)")
    action.add_argument("--stand-in", metavar="TORCH_HOME", help="write the stand-in if none is there")
    action.add_argument("--status", metavar="TORCH_HOME", help="say what the cache holds")
    args = parser.parse_args(argv)
    if args.fetch:
        print(f"downloaded {fetch_resnet18(args.fetch)}")
    elif args.stand_in:
        path = ensure_resnet18(args.stand_in)
        kind = "stand-in" if is_standin(args.stand_in) else "real"
        print(f"{path} ({kind} weights)")
    else:
        path = checkpoint_path(args.status)
        if not path.is_file():
            print(f"{path}: missing")
            return 1
        print(f"{path}: {'stand-in' if is_standin(args.status) else 'real'} weights")
    return 0


if __name__ == "__main__":
    sys.exit(main())
