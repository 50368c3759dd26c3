"""The ResNet-18 weights cache: the offline stand-in, its marker, the stdlib downloader, the check's lookup."""

import hashlib
from pathlib import Path

import pytest
import torch
from torchvision.models import resnet18

from exercises.kit import weights
from exercises.kit.check import literal_from

ROOT = Path(__file__).resolve().parents[2]
FETCH_COMMAND = ROOT / "platform" / "huashen" / "curriculum" / "management" / "commands" / "fetch_weights.py"


@pytest.fixture(scope="module")
def standin_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("torch-home")
    weights.ensure_resnet18(home)
    return home


def test_the_standin_sits_where_torchvision_looks_and_is_marked(standin_home: Path) -> None:
    path = weights.checkpoint_path(standin_home)
    assert path == standin_home / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    assert path.is_file() and weights.is_standin(standin_home)
    assert weights.marker_path(standin_home).name == "resnet18-f37072fd.pth.standin"
    for level in (standin_home, standin_home / "hub", path.parent):
        assert level.stat().st_mode & 0o755 == 0o755  # the sandbox account can read the cache
    assert path.stat().st_mode & 0o444 == 0o444


def test_torchvision_loads_the_standin_offline(standin_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(standin_home))
    loaded = resnet18(weights="DEFAULT").state_dict()
    saved = weights.load_state(weights.checkpoint_path(standin_home))
    assert loaded.keys() == saved.keys()
    assert all(torch.equal(loaded[name], saved[name]) for name in saved)


def test_the_standin_is_deterministic_and_leaves_the_global_rng_alone(
    standin_home: Path, tmp_path: Path
) -> None:
    torch.manual_seed(7)
    expected_next = torch.rand(3)
    torch.manual_seed(7)
    weights.ensure_resnet18(tmp_path)
    assert torch.equal(torch.rand(3), expected_next)
    assert (
        weights.checkpoint_path(tmp_path).read_bytes() == weights.checkpoint_path(standin_home).read_bytes()
    )


@pytest.mark.parametrize("seed", [0, 1, 42])
def test_no_fresh_resnet18_equals_the_standin(standin_home: Path, seed: int) -> None:
    saved = weights.load_state(weights.checkpoint_path(standin_home))
    torch.manual_seed(seed)
    fresh = resnet18().state_dict()
    for name, tensor in saved.items():
        assert not torch.equal(fresh[name], tensor), f"{name} equals a fresh init with seed {seed}"


def test_an_existing_checkpoint_is_left_alone(tmp_path: Path) -> None:
    path = weights.checkpoint_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"the real one")
    assert weights.ensure_resnet18(tmp_path) == path
    assert path.read_bytes() == b"the real one"
    assert not weights.is_standin(tmp_path)


def test_fetch_replaces_the_standin_and_drops_the_marker(
    standin_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    weights.ensure_resnet18(home)
    source = tmp_path / "served.pth"
    source.write_bytes(b"pretend these are the ImageNet weights")
    monkeypatch.setattr(
        weights, "RESNET18_SHA256_PREFIX", hashlib.sha256(source.read_bytes()).hexdigest()[:8]
    )
    path = weights.fetch_resnet18(home, url=source.as_uri(), quiet=True)
    assert path.read_bytes() == source.read_bytes()
    assert not weights.is_standin(home)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind


def test_fetch_refuses_a_file_with_the_wrong_hash(tmp_path: Path) -> None:
    weights.ensure_resnet18(tmp_path)
    before = weights.checkpoint_path(tmp_path).read_bytes()
    source = tmp_path / "tampered.pth"
    source.write_bytes(b"not the checkpoint")
    with pytest.raises(ValueError, match="sha256"):
        weights.fetch_resnet18(tmp_path, url=source.as_uri(), quiet=True)
    assert weights.checkpoint_path(tmp_path).read_bytes() == before
    assert weights.is_standin(tmp_path)
    assert sorted(p.name for p in weights.checkpoint_path(tmp_path).parent.iterdir()) == [
        "resnet18-f37072fd.pth",
        "resnet18-f37072fd.pth.standin",
    ]


def test_a_check_finds_the_cache_through_torch_home(
    standin_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(standin_home))
    assert weights.find_resnet18() == weights.checkpoint_path(standin_home)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    monkeypatch.setattr(weights, "DEFAULT_TORCH_HOME", tmp_path / "also-empty")
    with pytest.raises(FileNotFoundError, match=r"resnet18-f37072fd\.pth"):
        weights.find_resnet18()


def test_the_web_side_command_downloads_the_same_file_without_torch() -> None:
    for name in ("RESNET18_FILE", "RESNET18_SHA256_PREFIX", "STANDIN_SUFFIX"):
        assert literal_from(FETCH_COMMAND, name) == getattr(weights, name), name
    source = FETCH_COMMAND.read_text(encoding="utf-8")
    assert "import torch" not in source and "exercises" not in source.split('"""', 2)[2]
