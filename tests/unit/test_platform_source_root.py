"""`platform/` is a source root, never a package: a package of that name shadows the standard library."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_platform_has_no_init_file() -> None:
    assert not (ROOT / "platform" / "__init__.py").exists()
    assert (ROOT / "platform" / "huashen" / "__init__.py").is_file()


def test_stdlib_platform_works_under_pytest() -> None:
    import platform

    assert platform.system() == "Linux"
    assert Path(platform.__file__).parent == Path(sys.modules["os"].__file__).parent


def test_stdlib_platform_and_uuid_work_under_django() -> None:
    script = "import platform, uuid; print(platform.system(), uuid.uuid4().version)"
    completed = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v0", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["Linux", "4"]
