"""docker-compose.yml, the distributed shape: its services, their health, and who holds which credentials.

No Docker engine runs in the test environment, so the file is only parsed (PyYAML resolves the `<<`
merge keys of the x-* anchors) and checked for the properties the deployment relies on.
"""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"

SERVICES = ("postgres", "redis", "web", "platform-worker", "grader-cpu", "grader-gpu")
PLATFORM = ("web", "platform-worker")
GRADERS = ("grader-cpu", "grader-gpu")


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    compose = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(compose, dict), "docker-compose.yml is not a mapping"
    found = compose.get("services")
    assert isinstance(found, dict), "docker-compose.yml has no services mapping"
    return found


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _command_words(command: Any) -> list[str]:
    return [str(word) for word in command] if isinstance(command, list) else str(command or "").split()


def _healthcheck_test(service: dict[str, Any]) -> str:
    """The healthcheck's command as one string, or "" when there is none or it is disabled."""
    healthcheck = service.get("healthcheck") or {}
    if healthcheck.get("disable"):
        return ""
    test = healthcheck.get("test")
    if isinstance(test, list):
        if not test or test[0] == "NONE":
            return ""
        return " ".join(str(part) for part in (test[1:] if test[0] in {"CMD", "CMD-SHELL"} else test))
    return str(test or "")


def _env_file_variables(path: Path) -> dict[str, str]:
    variables = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        variables[key.strip()] = value.strip()
    return variables


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """Every variable the service's container gets: its env_file entries, then its environment."""
    variables: dict[str, str] = {}
    for entry in _as_list(service.get("env_file")):
        name = entry if isinstance(entry, str) else entry["path"]
        path = ROOT / name
        assert path.is_file(), f"env_file {name} does not exist here, so what it hands over cannot be checked"
        variables.update(_env_file_variables(path))
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        for item in environment:
            key, _, value = str(item).partition("=")
            variables[key] = value
    else:
        variables.update(
            {str(key): "" if value is None else str(value) for key, value in environment.items()}
        )
    return variables


def _celery_app(words: list[str]) -> str | None:
    for flag in ("-A", "--app"):
        if flag in words and words.index(flag) + 1 < len(words):
            return words[words.index(flag) + 1]
    return next((word.split("=", 1)[1] for word in words if word.startswith("--app=")), None)


def _is_worker(service: dict[str, Any]) -> bool:
    words = _command_words(service.get("command"))
    return bool(words) and words[0] == "celery" and "worker" in words


def test_the_six_services_exist(services: dict[str, dict[str, Any]]) -> None:
    missing = [name for name in SERVICES if name not in services]
    assert not missing, f"docker-compose.yml lacks the services {missing}"


@pytest.mark.parametrize("name", ["postgres", "redis"])
def test_the_stores_have_healthchecks(services: dict[str, dict[str, Any]], name: str) -> None:
    assert _healthcheck_test(services[name]), f"{name} has no healthcheck, so nothing can wait on it"


@pytest.mark.parametrize("name", PLATFORM)
def test_the_platform_waits_for_healthy_stores(services: dict[str, dict[str, Any]], name: str) -> None:
    depends_on = services[name].get("depends_on")
    assert isinstance(depends_on, dict), f"{name}: depends_on must be a mapping with conditions"
    for store in ("postgres", "redis"):
        condition = (depends_on.get(store) or {}).get("condition")
        assert condition == "service_healthy", (
            f"{name} must wait for {store} to be healthy, not {condition!r}"
        )


@pytest.mark.parametrize("name", GRADERS)
def test_graders_hold_no_database_credentials(services: dict[str, dict[str, Any]], name: str) -> None:
    variables = _environment(services[name])
    leaked = sorted(key for key in variables if key == "DATABASE_URL" or key.startswith(("POSTGRES", "PG")))
    assert not leaked, f"{name} gets database variables {leaked}; graders must hold no database credentials"
    for key, value in variables.items():
        assert not re.search(r"postgres(ql)?://|\$\{?POSTGRES", value), (
            f"{name}: {key} carries a database URL"
        )
    assert "postgres" not in (services[name].get("depends_on") or {}), f"{name} must not depend on postgres"


def test_the_gpu_grader_reserves_an_nvidia_device(services: dict[str, dict[str, Any]]) -> None:
    service = services["grader-gpu"]
    reservations = ((service.get("deploy") or {}).get("resources") or {}).get("reservations") or {}
    devices = [
        device
        for device in _as_list(reservations.get("devices"))
        if device.get("driver") == "nvidia" and "gpu" in _as_list(device.get("capabilities"))
    ]
    assert devices, "grader-gpu reserves no nvidia device with the gpu capability"
    device = devices[0]
    assert device.get("count") == "all" or int(device.get("count", 0)) >= 1 or device.get("device_ids")
    assert "-Q" in _command_words(service["command"]), "grader-gpu consumes no named queue"
    assert _command_words(service["command"])[_command_words(service["command"]).index("-Q") + 1] == "gpu"


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_has_a_healthcheck(services: dict[str, dict[str, Any]], name: str) -> None:
    service = services[name]
    test = _healthcheck_test(service)
    assert test, f"{name} has no healthcheck"
    if _is_worker(service):
        app = _celery_app(_command_words(service["command"]))
        probe = test.split()
        assert "inspect" in probe and "ping" in probe, (
            f"{name} is a Celery worker: probe it with inspect ping"
        )
        assert _celery_app(probe) == app, f"{name}: the ping must use the worker's own app {app!r}"
        assert re.search(r"-d\s+celery@\$\$?\{?HOSTNAME", test), f"{name}: ping this container's node only"


def _dockerfiles(services: dict[str, dict[str, Any]]) -> set[Path]:
    paths = set()
    for service in services.values():
        build = service.get("build")
        if isinstance(build, dict):
            paths.add(ROOT / build.get("context", ".") / build.get("dockerfile", "Dockerfile"))
        elif isinstance(build, str):
            paths.add(ROOT / build / "Dockerfile")
    return paths


def test_the_dockerfiles_exist_and_drop_root(services: dict[str, dict[str, Any]]) -> None:
    dockerfiles = _dockerfiles(services)
    assert {path.relative_to(ROOT).as_posix() for path in dockerfiles} >= {
        "docker/web.Dockerfile",
        "docker/grader.Dockerfile",
    }, "the services must build docker/web.Dockerfile and docker/grader.Dockerfile"
    for path in dockerfiles:
        assert path.is_file(), f"{path.relative_to(ROOT)} is referenced but missing"
        users = re.findall(r"^\s*USER\s+(\S+)", path.read_text(encoding="utf-8"), flags=re.MULTILINE | re.I)
        assert users, f"{path.relative_to(ROOT)} has no USER line: it would run as root"
        user = users[-1].split(":")[0]
        assert user not in {"root", "0"}, f"{path.relative_to(ROOT)} ends as {users[-1]}: that is root"


def test_web_and_platform_worker_share_the_web_image(services: dict[str, dict[str, Any]]) -> None:
    web, worker = services["web"], services["platform-worker"]
    assert web.get("image") == worker.get("image")
    assert web.get("build") == worker.get("build")
    assert services["grader-cpu"].get("build") == services["grader-gpu"].get("build")


# --- the shape of issue 7: two web replicas behind a proxy, env files, graceful stops, one slot per GPU ----

WORKERS = ("web", "platform-worker", "grader-cpu", "grader-gpu")
DOCKER = ROOT / "docker"


def _seconds(duration: str) -> float:
    """A compose duration ("16m", "1m30s", "30s") in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", str(duration))
    assert parts and "".join(n + u for n, u in parts) == str(duration), f"not a duration: {duration!r}"
    return sum(float(number) * units[unit] for number, unit in parts)


def _option(words: list[str], flag: str) -> str:
    assert flag in words, f"{flag} missing from {words}"
    return words[words.index(flag) + 1]


def test_two_web_replicas_behind_one_proxy(services: dict[str, dict[str, Any]]) -> None:
    web = services["web"]
    assert (web.get("deploy") or {}).get("replicas") == 2
    assert not web.get("ports"), "replicas cannot share a published port: publish the proxy instead"
    proxy = services["proxy"]
    assert proxy.get("ports"), "the proxy is the one published port"
    assert (proxy.get("depends_on") or {}).get("web", {}).get("condition") == "service_healthy"
    assert _healthcheck_test(proxy)
    config = (DOCKER / "nginx.conf").read_text(encoding="utf-8")
    assert re.search(r"proxy_pass\s+\$web;", config) and "http://web:8000" in config
    assert "proxy_set_header Upgrade $http_upgrade" in config, "WebSockets need the upgrade headers"
    assert not re.search(r"\b(ip_hash|sticky|hash\s+\$)", config), "no sticky sessions: any replica serves"
    assert re.search(r"location\s*=\s*/metrics\s*\{\s*return 404;", config), "/metrics is never public"


@pytest.mark.parametrize("name", WORKERS)
def test_the_application_services_read_env_files_with_json_logs(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    files = [
        entry if isinstance(entry, str) else entry["path"]
        for entry in _as_list(services[name].get("env_file"))
    ]
    assert files, f"{name} has no env_file"
    assert _environment(services[name]).get("LOG_FORMAT") == "json"


@pytest.mark.parametrize("name", ("web", "platform-worker"))
def test_the_platform_reads_its_secrets_from_files(services: dict[str, dict[str, Any]], name: str) -> None:
    variables = _environment(services[name])
    assert variables["SECRET_KEY_FILE"].startswith("/run/secrets/")
    assert variables["METRICS_TOKEN_FILE"].startswith("/run/secrets/")
    assert {"secret_key", "metrics_token"} <= set(services[name].get("secrets") or [])
    assert "SECRET_KEY" not in variables and "METRICS_TOKEN" not in variables


def test_both_sides_agree_on_the_hard_limit(services: dict[str, dict[str, Any]]) -> None:
    limits = {name: _environment(services[name]).get("GRADING_HARD_LIMIT_SECONDS") for name in WORKERS}
    assert len(set(limits.values())) == 1 and None not in limits.values(), limits


@pytest.mark.parametrize("name", GRADERS)
def test_a_stopped_grader_has_time_to_finish_its_run(services: dict[str, dict[str, Any]], name: str) -> None:
    service = services[name]
    hard_limit = int(_environment(service)["GRADING_HARD_LIMIT_SECONDS"])
    grace = _seconds(service.get("stop_grace_period", "10s"))
    assert grace >= hard_limit, f"{name}: SIGKILL after {grace}s would cut a run allowed {hard_limit}s"
    assert service.get("stop_signal", "SIGTERM") == "SIGTERM", "SIGTERM is Celery's warm shutdown"


def test_the_gpu_grader_has_one_slot_for_its_one_gpu(services: dict[str, dict[str, Any]]) -> None:
    service = services["grader-gpu"]
    assert _option(_command_words(service["command"]), "--concurrency") == "1"
    visible = _environment(service)["CUDA_VISIBLE_DEVICES"]
    assert re.fullmatch(r"\d+", visible), f"one GPU per grader process, not {visible!r}"
    devices = service["deploy"]["resources"]["reservations"]["devices"]
    assert len(devices) == 1
    assert devices[0].get("count") == 1 or len(devices[0].get("device_ids") or []) == 1
    assert _environment(service)["HUASHEN_DEVICE"] == "gpu"


@pytest.mark.parametrize("name", GRADERS)
def test_graders_get_only_the_capabilities_confinement_needs(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    service = services[name]
    assert service.get("cap_drop") == ["ALL"]
    allowed = {"SYS_ADMIN", "SETUID", "SETGID", "KILL", "CHOWN", "FOWNER", "DAC_OVERRIDE"}
    added = set(service.get("cap_add") or [])
    assert added <= allowed, f"{name} adds {sorted(added - allowed)}"
    assert not service.get("privileged"), f"{name} must not be privileged"
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    undocumented = sorted(cap for cap in added if cap not in guide)
    assert not undocumented, f"docs/deploy.md does not explain {undocumented}"


def test_the_web_image_has_no_torch_and_the_grader_image_has_torch_and_bwrap() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    base = [re.match(r"[A-Za-z0-9_.-]+", line).group(0).lower() for line in project["dependencies"]]  # type: ignore[union-attr]
    assert not {"torch", "torchvision", "grad-cam"} & set(base), (
        "the web image installs the base dependencies"
    )
    web = (DOCKER / "web.Dockerfile").read_text(encoding="utf-8")
    assert "['project']['dependencies']" in web and "torch" not in re.sub(r"#.*", "", web)
    grader = (DOCKER / "grader.Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"pip install torch==", grader) and "bubblewrap" in grader
    assert re.search(r"useradd .*huashen-sandbox", grader), "the grader image creates the sandbox account"
