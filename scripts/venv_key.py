"""The cache key of the Python environment: a hash of every dependency pyproject.toml declares.

`venv_key.py pyproject.toml` prints the key; `venv_key.py --requirements pyproject.toml` prints the
requirement lines to install. Tool configuration in pyproject.toml does not change the key, so editing a
ruff rule never rebuilds torch.
"""

import hashlib
import platform
import sys
import tomllib


def requirements(path: str) -> list[str]:
    with open(path, "rb") as handle:
        project = tomllib.load(handle)["project"]
    lines = list(project.get("dependencies", []))
    for group in sorted(project.get("optional-dependencies", {})):
        lines.extend(project["optional-dependencies"][group])
    return lines


def main(argv: list[str]) -> None:
    if argv[0] == "--requirements":
        print("\n".join(requirements(argv[1])))
        return
    spec = "\n".join([platform.python_version(), *requirements(argv[0])])
    print(hashlib.sha256(spec.encode()).hexdigest()[:16])


if __name__ == "__main__":
    main(sys.argv[1:])
