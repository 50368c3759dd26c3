"""The boundary's wire (exercises.kit.boundary) and the grader's trusted copy of out/ (workers.trusted_out).

Given frames and values a hostile agent could send, when the driver decodes them, then only whitelisted
dtypes within the caps come through, as tensors built here, and anything else is `Malformed` (no
answer). Given an out/ folder and the driver's manifest, when the grader copies it, then only files
whose sha256 the manifest names arrive, never a link, a changed file or a file it did not name.
"""

import hashlib
import json
import os
import socket
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from exercises.kit import boundary
from workers.trusted_out import ResultManifest, copy_verified, is_boundary_exercise

ROOT = Path(__file__).resolve().parents[2]


def round_trip(value):
    tree, body = boundary.encode(value)
    decoded, _decoder = boundary.decode(json.loads(json.dumps(tree)), body)
    return decoded


def test_values_cross_as_data() -> None:
    value = {
        "t": torch.arange(6, dtype=torch.int32).reshape(2, 3).T,
        "half": torch.ones(2, dtype=torch.bfloat16),
        "array": np.eye(2, dtype=np.float32),
        "dtype": torch.float16,
        "size": torch.Size([2, 3]),
        "tuple": (1, 2.5, "x", None, True, float("nan")),
        3: "non-string key",
    }
    back = round_trip(value)
    assert torch.equal(back["t"], value["t"]) and back["t"].dtype == torch.int32
    assert back["half"].dtype == torch.bfloat16
    assert isinstance(back["array"], np.ndarray) and np.array_equal(back["array"], np.eye(2))
    assert back["dtype"] is torch.float16 and back["size"] == torch.Size([2, 3])
    assert back["tuple"][:5] == (1, 2.5, "x", None, True) and np.isnan(back["tuple"][5])
    assert back[3] == "non-string key"


def test_objects_travel_as_type_and_repr_only() -> None:
    class Liar:
        def __eq__(self, other):
            return True

        def __repr__(self):
            return "Liar()"

    back = round_trip([Liar(), torch.zeros(2, dtype=torch.complex64)])
    assert all(isinstance(item, boundary.Opaque) for item in back)
    assert back[0].text == "Liar()" and back[0].type_name.endswith("Liar")
    assert back[1].type_name == "torch.Tensor"  # complex: not a dtype that crosses
    assert (back[0] == back[0]) is True and (back[0] == 1) is False  # identity, not the sender's __eq__


def test_subclasses_of_numbers_and_strings_arrive_as_the_plain_value() -> None:
    class Everything(str):
        def __eq__(self, other):
            return True

        __hash__ = str.__hash__

    class Lying(float):
        def __float__(self):
            return 1729.0

    back = round_trip([Everything("garbage"), Lying(2.0)])
    assert type(back[0]) is str and back[0] == "garbage" and back[0] != "torch.float32"
    assert type(back[1]) is float and back[1] == 2.0


@pytest.mark.parametrize(
    "tree, message",
    [
        ({"$tensor": "t9"}, "body does not hold"),
        ({"$dtype": "complex128"}, "dtype not allowed"),
        ({"$device": "cuda:0; rm -rf"}, "bad device"),
        ({"$float": "1e999"}, "bad float tag"),
        ({"$dict": [[[1], 2]]}, "unhashable"),
        ("x" * (boundary.MAX_STRING_CHARS + 1), "string too long"),
        (2**80, "integer out of range"),
    ],
)
def test_malformed_values_are_refused(tree, message: str) -> None:
    with pytest.raises(boundary.Malformed, match=message):
        boundary.decode(tree, b"")


def test_deep_nesting_is_refused() -> None:
    tree: list = []
    for _ in range(boundary.MAX_DEPTH + 5):
        tree = [tree]
    with pytest.raises(boundary.Malformed):
        boundary.decode(tree, b"")


def test_bodies_that_are_not_safetensors_or_hold_other_dtypes_are_refused() -> None:
    from safetensors.torch import save

    with pytest.raises(boundary.Malformed, match="not a safetensors"):
        boundary.load_body(b"\x80\x04pickle")
    body = save({"t0": torch.zeros(2, dtype=torch.complex64)})
    with pytest.raises(boundary.Malformed, match="not allowed"):
        boundary.load_body(body)
    with pytest.raises(boundary.Malformed, match="not allowed"):
        boundary.load_body(save({"t0": torch.zeros(10)}), max_elements=5)


def test_frames_over_the_caps_or_not_json_are_refused() -> None:
    left, right = socket.socketpair()
    with left, right:
        right.sendall(struct.pack(">II", boundary.MAX_HEADER_BYTES + 1, 0))
        with pytest.raises(boundary.Malformed, match="too large"):
            boundary.receive_frame(left)
    left, right = socket.socketpair()
    with left, right:
        right.sendall(struct.pack(">II", 3, 0) + b"[1]")
        with pytest.raises(boundary.Malformed, match="not a JSON object"):
            boundary.receive_frame(left)
        right.close()
        with pytest.raises(boundary.Closed):
            boundary.receive_frame(left)


# --- the grader's copy of out/ ------------------------------------------------------------------------


def manifest_for(files: dict[str, bytes]) -> ResultManifest:
    manifest = ResultManifest()
    event = {"kind": "boundary-result", "files": {n: hashlib.sha256(d).hexdigest() for n, d in files.items()}}
    assert manifest.offer(event)
    return manifest


def write(out: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)


def test_only_files_the_manifest_vouches_for_are_copied(tmp_path: Path) -> None:
    files = {"observations.json": b'{"a": 1}', "arrays/x.npy": b"npy", "error.json": b"{}"}
    out, target = tmp_path / "out", tmp_path / "checked"
    out.mkdir()
    target.mkdir()
    write(out, files)
    manifest = manifest_for(files)
    (out / "arrays" / "x.npy").write_bytes(b"rewritten")  # changed after the driver wrote it
    (out / "arrays" / "planted.npy").write_bytes(b"never named")
    os.unlink(out / "error.json")
    os.symlink("/etc/passwd", out / "error.json")  # a link where a named file was
    problems = copy_verified(out, manifest, target)
    assert (target / "observations.json").read_bytes() == b'{"a": 1}'
    assert not (target / "arrays" / "x.npy").exists() and not (target / "arrays" / "planted.npy").exists()
    assert not (target / "error.json").exists()
    assert len(problems) == 2


def test_no_manifest_means_no_observations(tmp_path: Path) -> None:
    out, target = tmp_path / "out", tmp_path / "checked"
    out.mkdir()
    target.mkdir()
    write(out, {"observations.json": b"{}"})
    assert copy_verified(out, ResultManifest(), target) == ["no result manifest from the driver"]
    assert list(target.iterdir()) == []


def test_the_first_manifest_counts_and_odd_paths_are_dropped() -> None:
    manifest = ResultManifest()
    digest = "0" * 64
    assert manifest.offer({"kind": "boundary-result", "files": {"observations.json": digest, "../x": digest}})
    assert manifest.offer({"kind": "boundary-result", "files": {"error.json": digest}})
    assert manifest.files == {"observations.json": digest}
    assert not manifest.offer({"step": 1, "metrics": {"loss": 1.0}})


def test_boundary_trials_are_read_from_the_bundle(tmp_path: Path) -> None:
    assert is_boundary_exercise(ROOT / "exercises" / "01-tensors" / "01-tensor-basics")
    (tmp_path / "probe.py").write_text("def probe(ctx):\n    driver = None\n", encoding="utf-8")
    assert not is_boundary_exercise(tmp_path)
    export = ROOT / "exercises" / "04-transfer-deploy" / "03-export"
    assert is_boundary_exercise(export) and is_boundary_exercise(export, "verify.py")
    assert not is_boundary_exercise(tmp_path, "verify.py")


def test_kept_files_are_copied_by_name_and_size_like_the_rest(tmp_path: Path) -> None:
    """out/files/<name>: the driver's copies of what the student's code wrote, for a verify step."""
    files = {"observations.json": b"{}", "files/model.ts": b"exported", "files/gated.ts": b"also"}
    out, target = tmp_path / "out", tmp_path / "checked"
    out.mkdir()
    target.mkdir()
    write(out, files)
    manifest = manifest_for(files)
    (out / "files" / "gated.ts").write_bytes(b"rewritten after the driver read it")
    (out / "files" / "planted.onnx").write_bytes(b"never named")
    problems = copy_verified(out, manifest, target)
    assert (target / "files" / "model.ts").read_bytes() == b"exported"
    assert sorted(path.name for path in (target / "files").iterdir()) == ["model.ts"]
    assert problems == ["files/gated.ts: not what the driver wrote"]
    digest = "0" * 64
    odd = ResultManifest()
    odd.offer(
        {
            "kind": "boundary-result",
            "files": {"files/../x": digest, "files/a/b": digest, "files/ok.pt2": digest},
        }
    )
    assert odd.files == {"files/ok.pt2": digest}


# --- verdict inputs come from what the driver saw ------------------------------------------------------

GPU_OOM_SOLUTION = (
    ROOT / "exercises" / "01-tensors" / "01-tensor-basics" / "reference" / "solution.py"
).read_text(encoding="utf-8") + (
    "\n\ndef make_tensor(shape, dtype):\n"
    '    raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 80.00 GiB")\n'
)
_GPU_RUNNER = """
import sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from exercises.kit.probe import run_probe
work = Path(sys.argv[2])
sys.exit(run_probe(work, work / "out", "submit", sys.argv[3]))
"""


@pytest.mark.parametrize(("device", "counted"), [("gpu", True), ("cpu", False)])
def test_a_cuda_out_of_memory_error_counts_only_on_a_gpu_grader(
    tmp_path: Path, device: str, counted: bool
) -> None:
    import subprocess
    import sys

    from exercises.kit.check import run_check
    from tests.kit.helpers import TENSOR_BASICS, stage

    work = stage(tmp_path, GPU_OOM_SOLUTION)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    completed = subprocess.run(
        [sys.executable, "-I", "-B", "-c", _GPU_RUNNER, str(ROOT), str(work), device],
        env=env, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-2000:]
    report = run_check(TENSOR_BASICS, work / "out", "submit")
    assert report["gpu_oom"] is counted
    assert report["probe_error"] is None
