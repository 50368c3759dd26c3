"""`manage.py fetch_weights`: download the pretrained ResNet-18 checkpoint that realm 4's trials load.

Graders bind this cache into the sandbox (read-only, as TORCH_HOME). The web side never imports torch
nor the exercises kit, so this is the standard library only; it mirrors `exercises.kit.weights`
(`python -m exercises.kit.weights --fetch DIR`), whose constants it repeats. Where the internet is not
reachable, tests and offline installs write a stand-in checkpoint instead (`--stand-in DIR` there),
with a `.standin` marker beside it that downloading the real file removes.
"""

import contextlib
import hashlib
import os
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

RESNET18_FILE = "resnet18-f37072fd.pth"
RESNET18_URL = f"https://download.pytorch.org/models/{RESNET18_FILE}"
RESNET18_SHA256_PREFIX = "f37072fd"
STANDIN_SUFFIX = ".standin"
CHUNK = 1 << 20


class Command(BaseCommand):
    help = "Download the ResNet-18 ImageNet checkpoint into the weights cache (TORCH_HOME) for realm 4."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--torch-home",
            type=Path,
            help="the cache folder (default: $TORCH_HOME, else <HUASHEN_VAR_DIR>/torch-home)",
        )
        parser.add_argument("--url", default=RESNET18_URL, help="where to download from")
        parser.add_argument(
            "--force", action="store_true", help="download even if a real checkpoint is there"
        )

    def handle(
        self, *args: Any, torch_home: Path | None = None, url: str, force: bool, **options: Any
    ) -> None:
        home = torch_home or Path(os.environ.get("TORCH_HOME") or Path(settings.VAR_DIR) / "torch-home")
        folder = home / "hub" / "checkpoints"
        target = folder / RESNET18_FILE
        marker = folder / (RESNET18_FILE + STANDIN_SUFFIX)
        if target.is_file() and not marker.exists() and not force:
            self.stdout.write(
                f"{target} is already the real checkpoint; nothing to do (--force downloads again)"
            )
            return
        folder.mkdir(parents=True, exist_ok=True)
        for level in (home, home / "hub", folder):
            with contextlib.suppress(PermissionError):
                level.chmod(0o755)  # the sandbox account reads the cache
        try:
            digest = download(url, target)
        except (OSError, ValueError) as error:
            raise CommandError(f"could not download {url}: {error}") from error
        with contextlib.suppress(FileNotFoundError):
            marker.unlink()
        self.stdout.write(
            self.style.SUCCESS(f"saved {target} (sha256 {digest[:16]}…); stand-in marker removed")
        )


def download(url: str, target: Path) -> str:
    """Stream `url` into `target` atomically, checking torch.hub's sha256 prefix; returns the sha256."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temporary = Path(name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as stream, urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310
            for chunk in iter(lambda: response.read(CHUNK), b""):
                stream.write(chunk)
                digest.update(chunk)
        if not digest.hexdigest().startswith(RESNET18_SHA256_PREFIX):
            raise ValueError(
                f"sha256 {digest.hexdigest()[:16]}… does not start with {RESNET18_SHA256_PREFIX}"
            )
        temporary.chmod(0o644)
        os.replace(temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return digest.hexdigest()
