"""Where the client keeps its server and token: `$XDG_CONFIG_HOME/huashen/config.json` (mode 0600).

HUASHEN_SERVER and HUASHEN_TOKEN override the file (CI jobs, a one-off call with another account).
"""

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Config:
    server: str = ""
    token: str = ""
    token_id: int | None = None
    username: str = ""
    language: str = ""


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "huashen" / "config.json"


def load() -> Config:
    path = config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    known = {key: value for key, value in data.items() if key in Config.__dataclass_fields__}
    config = Config(**known)
    config.server = os.environ.get("HUASHEN_SERVER") or config.server
    config.token = os.environ.get("HUASHEN_TOKEN") or config.token
    return config


def save(config: Config) -> Path:
    """Write the file readable by its owner only: it holds a secret. Created 0600, never widened."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(asdict(config), file, ensure_ascii=False, indent=1)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return path


def forget() -> None:
    config_path().unlink(missing_ok=True)
