"""Check for trial 5.4, deploy-automation. Runs outside the sandbox: a static review of the student's files.

The driver receives the files `deployment_files()` returns as data and records their texts; every check
here is *verified*: it reads those texts, which are the student's whole answer. Here the YAML files are
parsed with `yaml.safe_load` (never a loader that builds Python objects), the Dockerfile is read
instruction by instruction, and the CI pipeline is turned into "occurrences" of five kinds of step —
test, login, build, push, deploy — placed in an order relation: two steps of one job in their order, and
a job before every job that (transitively) needs it (GitHub Actions `needs:`; GitLab CI stages or
`needs:`). The pipeline passes when some test precedes some build, that build some push, that push
some deploy.

Everything here reads untrusted text, so files are capped in size, YAML errors of any kind are a
failed check, and the traversal only walks the few known keys (never a whole document, which YAML
aliases could make exponentially large).

This is a hybrid trial: these checks gate; a reviewer scores the files by the rubric in exercise.toml.
"""

import itertools
import json
import re

import yaml

from exercises.kit.check import Check

MAX_TEXT_BYTES = 64 * 1024
DOCKERFILE = "Dockerfile"
COMPOSE_NAMES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")
GITLAB_CI = ".gitlab-ci.yml"
GITHUB_WORKFLOWS = re.compile(r"^\.github/workflows/[^/]+\.ya?ml$")
HEALTH_PATH = "/healthz"

FILES_NOTE = "The files' texts reached the driver as data (the answer itself); they are read and judged here."
CHECKS = [
    Check(
        "files",
        zh="返回 Dockerfile、docker-compose.yml 和 CI 配置",
        en="Returns a Dockerfile, a docker-compose.yml and a CI configuration",
        points=10,
        basis="verified",
        basis_note=FILES_NOTE,
    ),
    Check(
        "pinned-base",
        zh="基础镜像固定了版本标签",
        en="The base image is pinned to a version tag",
        points=15,
        basis="verified",
        basis_note=FILES_NOTE,
    ),
    Check(
        "non-root",
        zh="容器以非 root 用户运行",
        en="The container runs as a non-root user",
        points=15,
        basis="verified",
        basis_note=FILES_NOTE,
    ),
    Check(
        "healthcheck",
        zh=f"HEALTHCHECK 访问 {HEALTH_PATH}，并且能在镜像里运行",
        en=f"A HEALTHCHECK that hits {HEALTH_PATH} and can run in the image",
        points=15,
        basis="verified",
        basis_note=FILES_NOTE,
    ),
    Check(
        "compose",
        zh="docker-compose 定义了服务：镜像、端口、重启策略",
        en="docker-compose defines the service: image, ports, restart policy",
        points=10,
        basis="verified",
        basis_note=FILES_NOTE,
    ),
    Check(
        "ci-order",
        zh="CI 依次执行：测试 → 构建镜像 → 推送 → 部署",
        en="CI runs test → build image → push → deploy, in that order",
        points=25,
        basis="verified",
        basis_note=FILES_NOTE,
    ),
    Check(
        "ci-secrets",
        zh="推送前登录镜像仓库，凭据来自 CI 的密钥",
        en="A registry login precedes the push, with credentials from CI secrets",
        points=10,
        basis="verified",
        basis_note=FILES_NOTE,
    ),
]


def check(ctx):
    yield ctx.evaluate("files", check_files)
    yield ctx.evaluate("pinned-base", check_pinned)
    yield ctx.evaluate("non-root", check_user)
    yield ctx.evaluate("healthcheck", check_health)
    yield ctx.evaluate("compose", check_compose)
    yield ctx.evaluate("ci-order", check_order)
    yield ctx.evaluate("ci-secrets", check_secrets)


# ---------------------------------------------------------------------------------------------------
# Reading the files


def submitted(ctx):
    """{name: text} of the files that came back, or a (zh, en) problem."""
    if error := ctx.error_of("files"):
        return None, (
            f"调用 deployment_files() 时出错：\n{error}",
            f"deployment_files() raised an error:\n{error}",
        )
    observed = ctx.observed("files")
    if not isinstance(observed, dict):
        return None, ("没有 deployment_files() 的观测结果。", "No observation of deployment_files().")
    if observed.get("type") != "dict":
        kind = observed.get("type")
        return None, (
            f"deployment_files() 返回的是 {kind}，应返回 dict：文件名 → 文件内容（字符串）。",
            f"deployment_files() returned a {kind}; it should return a dict of file name → file content (a string).",
        )
    texts = {}
    for entry in observed.get("entries") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        name = entry["name"]
        if entry.get("type") != "str":
            return None, (
                f"文件 {name!r} 的内容是 {entry.get('type')}，应是字符串。",
                f"The content of {name!r} is a {entry.get('type')}; it should be a string.",
            )
        size = entry.get("bytes")
        if entry.get("cut") is True or (isinstance(size, int) and size > MAX_TEXT_BYTES):
            return None, (
                f"文件 {name!r} 超过了 {MAX_TEXT_BYTES // 1024} KiB 的上限。",
                f"{name!r} is over the {MAX_TEXT_BYTES // 1024} KiB limit.",
            )
        array = ctx.array(entry["array"]) if isinstance(entry.get("array"), str) else None
        if array is None or array.dtype.kind != "u" or array.dtype.itemsize != 1 or array.ndim != 1:
            texts[name] = ""
            continue
        texts[name] = array.tobytes().decode("utf-8", errors="replace")
    return texts, None


def parsed(ctx):
    """The files, read once per check run: {"texts", "dockerfile", "compose", "ci"} or a (zh, en) problem."""
    cache = ctx.__dict__.setdefault("_deploy_files", {})
    if "result" not in cache:
        cache["result"] = _parse(ctx)
    return cache["result"]


def _parse(ctx):
    texts, problem = submitted(ctx)
    if problem:
        return None, problem
    dockerfile = texts.get(DOCKERFILE, "")
    compose_name = next((name for name in COMPOSE_NAMES if texts.get(name, "").strip()), None)
    ci_names = [
        name for name in texts if (GITHUB_WORKFLOWS.match(name) or name == GITLAB_CI) and texts[name].strip()
    ]
    missing_zh, missing_en = [], []
    if not dockerfile.strip():
        missing_zh.append("'Dockerfile'")
        missing_en.append("'Dockerfile'")
    if compose_name is None:
        missing_zh.append("'docker-compose.yml'")
        missing_en.append("'docker-compose.yml'")
    if not ci_names:
        missing_zh.append("CI 配置（'.github/workflows/ci.yml' 或 '.gitlab-ci.yml'）")
        missing_en.append("a CI configuration ('.github/workflows/ci.yml' or '.gitlab-ci.yml')")
    if missing_zh:
        got = ", ".join(repr(name) for name in texts) or "—"
        return None, (
            f"缺少 {'、'.join(missing_zh)}（返回的键：{got}）。键是文件在仓库里的路径，值是完整的文件内容。",
            f"Missing {', '.join(missing_en)} (keys returned: {got}). Keys are the files' paths in the "
            "repository, values their whole content.",
        )
    documents = {}
    for name in [compose_name, *ci_names]:
        data, error = load_yaml(texts[name])
        if error:
            return None, (
                f"{name} 不是有效的 YAML：{error}",
                f"{name} is not valid YAML: {error}",
            )
        if not isinstance(data, dict):
            return None, (
                f"{name} 的顶层应是一个映射（键: 值），现在是 {type(data).__name__}。",
                f"The top level of {name} should be a mapping (key: value); it is a {type(data).__name__}.",
            )
        documents[name] = data
    return {
        "texts": texts,
        "dockerfile": dockerfile,
        "compose_name": compose_name,
        "compose": documents[compose_name],
        "ci": {name: documents[name] for name in ci_names},
    }, None


def load_yaml(text):
    try:
        return yaml.safe_load(text), None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        return None, f"{getattr(error, 'problem', None) or type(error).__name__}{where}"
    except (RecursionError, MemoryError, ValueError, TypeError) as error:
        return None, type(error).__name__


def files_or_fail(ctx, key):
    files, problem = parsed(ctx)
    if problem:
        return None, ctx.failed(key, zh=problem[0], en=problem[1])
    return files, None


def check_files(ctx):
    files, failure = files_or_fail(ctx, "files")
    if failure:
        return failure
    names = ", ".join(sorted(files["texts"]))
    return ctx.passed(
        "files",
        zh=f"收到了这些文件：{names}；YAML 都能解析。",
        en=f"Received {names}; the YAML files parse.",
    )


# ---------------------------------------------------------------------------------------------------
# The Dockerfile


def instructions(text):
    """[(line number, INSTRUCTION, arguments)]: continuation lines joined, comments and heredoc bodies skipped."""
    escape = "\\"
    lines = text.splitlines()
    for line in lines:  # parser directives come first, as comments: "# escape=`"
        directive = re.match(r"^\s*#\s*escape\s*=\s*(\S)\s*$", line)
        if directive:
            escape = directive.group(1)
        elif not re.match(r"^\s*#\s*\w+\s*=", line):
            break
    result, current, start, heredocs = [], None, 0, []
    for number, line in enumerate(lines, start=1):
        if heredocs:
            if line.strip() == heredocs[0]:
                heredocs.pop(0)
            continue
        stripped = line.strip()
        if current is None:
            if not stripped or stripped.startswith("#"):
                continue
            current, start = stripped, number
        elif stripped.startswith("#") or not stripped:
            continue
        else:
            current = f"{current} {stripped}"
        if current.endswith(escape):
            current = current[: -len(escape)].rstrip()
            continue
        word, _, arguments = current.partition(" ")
        result.append((start, word.upper(), arguments.strip()))
        heredocs += [
            match.group(2) for match in re.finditer(r"<<-?\s*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\1", arguments)
        ]
        current = None
    if current is not None:
        word, _, arguments = current.partition(" ")
        result.append((start, word.upper(), arguments.strip()))
    return result


VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+]([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def substitute(text, variables):
    """`text` with $VAR, ${VAR} and ${VAR:-default} replaced; None if a variable has no value."""
    unresolved = False

    def replace(match):
        nonlocal unresolved
        name = match.group(1) or match.group(3)
        if name in variables:
            return variables[name]
        if match.group(2) is not None:
            return match.group(2)
        unresolved = True
        return ""

    result = VARIABLE.sub(replace, text)
    return None if unresolved else result


def assignments(arguments):
    """ARG/ENV arguments as {name: value} (`NAME=value ...` or the old `ENV NAME value`)."""
    values = {}
    if "=" not in arguments.split(" ", 1)[0]:
        name, _, value = arguments.partition(" ")
        if name and value:
            values[name] = value.strip().strip("\"'")
        return values
    for match in re.finditer(r"([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|'[^']*'|\S*)", arguments):
        values[match.group(1)] = match.group(2).strip("\"'")
    return values


def stages(text):
    """[{"line", "image", "alias", "instructions"}] per FROM, images resolved with the global ARG defaults."""
    global_args, found = {}, []
    for number, word, arguments in instructions(text):
        if word == "FROM":
            tokens = [token for token in arguments.split() if not token.startswith("--")]
            image = tokens[0] if tokens else ""
            alias = tokens[2] if len(tokens) >= 3 and tokens[1].lower() == "as" else None
            found.append({"line": number, "raw": image, "image": substitute(image, global_args),
                          "alias": alias, "instructions": []})  # fmt: skip
        elif not found:
            if word == "ARG":
                global_args.update({name: value for name, value in assignments(arguments).items() if value})
        else:
            found[-1]["instructions"].append((number, word, arguments))
    return found


def image_problem(stage, earlier_aliases):
    """Why a FROM is not pinned, as (zh, en), or None."""
    raw, image = stage["raw"], stage["image"]
    where = f"FROM {raw}（第 {stage['line']} 行）", f"FROM {raw} (line {stage['line']})"
    if image is None:
        return (
            f"{where[0]} 里的变量没有默认值，看不出用的是哪个版本：给 ARG 一个固定的默认值，例如 ARG PYTHON_VERSION=3.11.9。",
            f"{where[1]} uses a variable without a default, so the version cannot be told: give the ARG a "
            "pinned default, e.g. ARG PYTHON_VERSION=3.11.9.",
        )
    if image.lower() == "scratch" or image.lower() in earlier_aliases or "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else None
    if tag and tag.lower() != "latest" and not PINNED_TAG.search(tag):
        return (
            f"{where[0]} 的标签 {tag} 没有固定到具体版本：像 3-slim、slim、stable、lts 这样只写主版本号或名字的标签，"
            "会随着新版本发布指向新的镜像（python:3-slim 今天是 3.12，明天可能是 3.13）。标签至少要写到次版本号，"
            "例如 python:3.11-slim 或 python:3.11.9-slim，或者用 @sha256: 摘要。",
            f"{where[1]} uses the tag {tag}, which is not pinned to a release: a tag naming only a major version "
            "or a name (3-slim, slim, stable, lts) moves to every new release (python:3-slim is 3.12 today and "
            "may be 3.13 tomorrow). Name at least the minor version, e.g. python:3.11-slim or "
            "python:3.11.9-slim, or use an @sha256: digest.",
        )
    if tag is None or tag == "" or tag.lower() == "latest":
        shown = "没有写标签（等于 latest）" if not tag else "用的是 latest"
        shown_en = "has no tag (which means latest)" if not tag else "uses latest"
        return (
            f"{where[0]} {shown}。latest 会随时指向新版本：今天能构建的镜像，明天可能就坏了，出问题时也无法回到同一个环境。"
            "固定一个版本标签，例如 python:3.11.9-slim（更严格的做法是再加上 @sha256: 摘要）。",
            f"{where[1]} {shown_en}. latest moves to new releases at any time: an image that builds today may "
            "break tomorrow, and you can never rebuild the same environment. Pin a version tag such as "
            "python:3.11.9-slim (stricter still: add an @sha256: digest).",
        )
    return None


def check_pinned(ctx):
    files, failure = files_or_fail(ctx, "pinned-base")
    if failure:
        return failure
    found = stages(files["dockerfile"])
    if not found:
        return ctx.failed(
            "pinned-base",
            zh="Dockerfile 里没有 FROM 指令：每个 Dockerfile 都从一个基础镜像开始。",
            en="The Dockerfile has no FROM instruction: every Dockerfile starts from a base image.",
        )
    aliases = set()
    for stage in found:
        if problem := image_problem(stage, aliases):
            return ctx.failed("pinned-base", zh=problem[0], en=problem[1])
        if stage["alias"]:
            aliases.add(stage["alias"].lower())
    images = ", ".join(stage["image"] for stage in found)
    return ctx.passed(
        "pinned-base", zh=f"基础镜像都固定了版本：{images}。", en=f"Every base image is pinned: {images}."
    )


def stage_variables(stage):
    variables = {}
    for _, word, arguments in stage["instructions"]:
        if word in ("ARG", "ENV"):
            variables.update(assignments(arguments))
    return variables


def check_user(ctx):
    files, failure = files_or_fail(ctx, "non-root")
    if failure:
        return failure
    found = stages(files["dockerfile"])
    if not found:
        return ctx.failed(
            "non-root", zh="Dockerfile 里没有 FROM 指令。", en="The Dockerfile has no FROM instruction."
        )
    final = found[-1]
    users = [(number, arguments) for number, word, arguments in final["instructions"] if word == "USER"]
    advice_zh = (
        "在最终阶段创建一个普通用户并切换过去，例如：\nRUN useradd --create-home --uid 10001 app\nUSER app\n"
        "容器默认以 root 运行：一旦应用被攻破，攻击者就拥有容器里的 root 权限，离宿主机也更近一步。"
    )
    advice_en = (
        "Create an ordinary user in the final stage and switch to it, e.g.:\nRUN useradd --create-home --uid "
        "10001 app\nUSER app\nContainers run as root by default: if the app is compromised, the attacker "
        "is root in the container, one step closer to the host."
    )
    if not users:
        return ctx.failed(
            "non-root",
            zh="最终阶段没有 USER 指令，容器会以 root 运行。" + advice_zh,
            en="The final stage has no USER instruction, so the container runs as root. " + advice_en,
        )
    number, arguments = users[-1]
    value = substitute(arguments.strip(), stage_variables(final))
    user = (value if value is not None else arguments).split(":", 1)[0].strip()
    if user.lower() in ("root", "0", ""):
        return ctx.failed(
            "non-root",
            zh=f"最后一条 USER（第 {number} 行）切换到的是 {user or '（空）'}，仍是 root。" + advice_zh,
            en=f"The last USER (line {number}) switches to {user or '(nothing)'}, which is root. "
            + advice_en,
        )
    return ctx.passed(
        "non-root",
        zh=f"容器以用户 {user} 运行（第 {number} 行）。",
        en=f"The container runs as {user} (line {number}).",
    )


def base_image(found):
    """The image the final stage really starts from, following `FROM <earlier stage>` back."""
    stage = found[-1]
    for _ in range(len(found)):
        image = (stage["image"] or stage["raw"]).lower()
        earlier = [
            item for item in found[: found.index(stage)] if item["alias"] and item["alias"].lower() == image
        ]
        if not earlier:
            return stage["image"] or stage["raw"]
        stage = earlier[-1]
    return stage["image"] or stage["raw"]


# A pinned tag names a release down to at least the minor version (3.11, 3.11.9-slim, 22.04, 12.4.1-cuda)
# or a dated build (20240513); a digest pins an image exactly.
PINNED_TAG = re.compile(r"\d+\.\d+|\d{6,}")
QUOTED = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"")
# What may follow `||` in a health check: something that still fails.
STILL_FAILS = re.compile(r"\bexit\s+[1-9]\d*\b|\bfalse\b")
SWALLOWS = re.compile(r"\s*(exit(\s+0)?|true|:|echo\b.*|printf\b.*)\s*")
CURL_FAILS = re.compile(r"(^|\s)(-[a-zA-Z]*f[a-zA-Z]*|--fail|--fail-with-body)(\s|$)")


def health_command(arguments):
    """(shell command or None, every word of the command) of a HEALTHCHECK's arguments."""
    match = re.search(r"(?:^|\s)CMD\s+(.*)$", arguments, re.DOTALL | re.IGNORECASE)
    command = match.group(1).strip() if match else arguments.strip()
    if command.startswith("["):
        try:
            words = [str(word) for word in json.loads(command)]
        except ValueError:
            return command, command.split()
        if words and words[0] == "CMD-SHELL":
            return " ".join(words[1:]), " ".join(words[1:]).split()
        return None, words[1:] if words and words[0] == "CMD" else words
    return command, command.split()


def health_problem(arguments):
    """Why a HEALTHCHECK could never report a failing service, as (zh, en), or None."""
    shell, words = health_command(arguments)
    text = QUOTED.sub("''", shell) if shell is not None else ""
    if shell is not None:
        rescues = text.split("||")[1:]
        if any(not STILL_FAILS.search(rescue) for rescue in rescues):
            return (
                "它在 || 之后把失败吞掉了（例如 || exit 0、|| true、|| echo ...）：这样的检查永远成功，服务挂了容器也显示 healthy。"
                "检查失败时要以非 0 状态退出，例如 curl -f ... || exit 1，或者干脆不写 ||。",
                "it swallows the failure after || (such as || exit 0, || true, || echo ...): such a check always "
                "succeeds, and a dead service still shows as healthy. It must exit non-zero when the check fails, "
                "e.g. curl -f ... || exit 1, or simply no ||.",
            )
        commands = [part for part in re.split(r";|\n", text) if part.strip()]
        if len(commands) > 1 and SWALLOWS.fullmatch(commands[-1]):
            return (
                f"它最后执行的是 {commands[-1].strip()}，整个检查的退出状态就是它的：永远成功。让访问 /healthz 的命令决定退出状态。",
                f"its last command is {commands[-1].strip()}, whose exit status becomes the check's: always "
                "success. Let the command that requests /healthz decide the exit status.",
            )
    if "curl" in words and not any(CURL_FAILS.search(f" {word} ") for word in words):
        return (
            "curl 没有加 -f（--fail）：服务返回 500 这样的错误时 curl 仍然以 0 退出，检查照样通过。写成 curl -f（或 -fsS）。",
            "curl runs without -f (--fail): when the service answers with an error such as 500, curl still exits "
            "0 and the check passes. Use curl -f (or -fsS).",
        )
    return None


TOOL_INSTALL = re.compile(r"\b(apt-get|apt|apk|yum|dnf|microdnf)\b[^\n]*\b(install|add)\b")


def check_health(ctx):
    files, failure = files_or_fail(ctx, "healthcheck")
    if failure:
        return failure
    found = stages(files["dockerfile"])
    if not found:
        return ctx.failed(
            "healthcheck", zh="Dockerfile 里没有 FROM 指令。", en="The Dockerfile has no FROM instruction."
        )
    final = found[-1]
    words = [word for _, word, _ in final["instructions"]]
    checks = [
        (number, arguments) for number, word, arguments in final["instructions"] if word == "HEALTHCHECK"
    ]
    if not checks or checks[-1][1].strip().upper() == "NONE":
        return ctx.failed(
            "healthcheck",
            zh=f"最终阶段没有 HEALTHCHECK。没有它，Docker 只知道进程还活着，不知道服务能不能响应。例如：\n"
            f'HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; '
            f"urllib.request.urlopen('http://localhost:8000{HEALTH_PATH}', timeout=2)\"",
            en="The final stage has no HEALTHCHECK. Without one Docker only knows the process is alive, not "
            f"that the service answers. For example:\nHEALTHCHECK --interval=30s --timeout=3s CMD python -c "
            f"\"import urllib.request; urllib.request.urlopen('http://localhost:8000{HEALTH_PATH}', timeout=2)\"",
        )
    number, arguments = checks[-1]
    if HEALTH_PATH not in arguments:
        return ctx.failed(
            "healthcheck",
            zh=f"HEALTHCHECK（第 {number} 行）没有访问 {HEALTH_PATH}。服务在 {HEALTH_PATH} 上提供健康检查接口，就检查它。",
            en=f"The HEALTHCHECK (line {number}) does not hit {HEALTH_PATH}. The service answers health checks "
            f"on {HEALTH_PATH}; probe that.",
        )
    if "CMD" not in words and "ENTRYPOINT" not in words:
        return ctx.failed(
            "healthcheck",
            zh="最终阶段没有 CMD 或 ENTRYPOINT：容器不知道要启动什么服务，健康检查也就无从谈起。",
            en="The final stage has no CMD or ENTRYPOINT: the container does not know which service to start, "
            "so there is nothing for the health check to reach.",
        )
    command = arguments.lower()
    base = base_image(found).lower()
    installs = " ".join(args.lower() for _, word, args in final["instructions"] if word == "RUN")
    for tool, lacking in (("curl", ("slim", "alpine", "distroless")), ("wget", ("slim", "distroless"))):
        uses_tool = re.search(rf"\b{tool}\b", command) and any(kind in base for kind in lacking)
        installed = TOOL_INSTALL.search(installs) and re.search(rf"\b{tool}\b", installs)
        if uses_tool and not installed:
            return ctx.failed(
                "healthcheck",
                zh=f"HEALTHCHECK 用 {tool}，但基础镜像 {base} 里没有 {tool}，也没有安装它：检查会一直失败，容器永远是 unhealthy。"
                f"安装它（RUN apt-get install -y --no-install-recommends {tool}），或者用镜像里现成的 Python："
                f"python -c \"import urllib.request; urllib.request.urlopen('http://localhost:8000{HEALTH_PATH}')\"。",
                en=f"The HEALTHCHECK uses {tool}, but the base image {base} has no {tool} and nothing installs "
                "it: the check would always fail and the container stay unhealthy. Install it (RUN apt-get "
                f"install -y --no-install-recommends {tool}) or use the Python that is there: python -c "
                f"\"import urllib.request; urllib.request.urlopen('http://localhost:8000{HEALTH_PATH}')\".",
            )
    if problem := health_problem(arguments):
        return ctx.failed(
            "healthcheck",
            zh=f"HEALTHCHECK（第 {number} 行）不能报告服务出了问题：{problem[0]}",
            en=f"The HEALTHCHECK (line {number}) cannot report a failing service: {problem[1]}",
        )
    return ctx.passed(
        "healthcheck",
        zh=f"HEALTHCHECK（第 {number} 行）检查 {HEALTH_PATH}，容器有启动命令。",
        en=f"The HEALTHCHECK (line {number}) probes {HEALTH_PATH}, and the container has a start command.",
    )


# ---------------------------------------------------------------------------------------------------
# docker-compose


def check_compose(ctx):
    files, failure = files_or_fail(ctx, "compose")
    if failure:
        return failure
    name, compose = files["compose_name"], files["compose"]
    services = compose.get("services")
    if not isinstance(services, dict) or not services:
        return ctx.failed(
            "compose",
            zh=f"{name} 里没有 services：每个要运行的容器是 services 下的一项。",
            en=f"{name} has no services: every container to run is an entry under services.",
        )
    runnable = {
        key: value
        for key, value in services.items()
        if isinstance(value, dict) and ("build" in value or "image" in value)
    }
    if not runnable:
        return ctx.failed(
            "compose",
            zh=f"{name} 的服务既没有 build 也没有 image，Compose 不知道运行哪个镜像。",
            en=f"No service in {name} has build or image, so Compose does not know what to run.",
        )
    published = {
        key: value
        for key, value in runnable.items()
        if isinstance(value.get("ports"), list) and value["ports"]
    }
    if not published:
        return ctx.failed(
            "compose",
            zh=f'{name} 里没有服务发布端口（ports），服务跑起来了也访问不到。例如 ports: ["8000:8000"]。',
            en=f"No service in {name} publishes a port (ports), so nothing can reach it. For example "
            'ports: ["8000:8000"].',
        )
    key, service = next(iter(published.items()))
    restart = service.get("restart")
    if not isinstance(restart, str) or not (
        restart in ("always", "unless-stopped") or restart.startswith("on-failure")
    ):
        return ctx.failed(
            "compose",
            zh=f"服务 {key!r} 没有重启策略（restart），进程崩溃或服务器重启后就不会再起来。部署时加上 restart: unless-stopped。",
            en=f"Service {key!r} has no restart policy (restart): after a crash or a server reboot it stays "
            "down. For a deployment add restart: unless-stopped.",
        )
    return ctx.passed(
        "compose",
        zh=f"{name} 定义了服务 {key!r}：镜像、端口和重启策略（{restart}）。",
        en=f"{name} defines service {key!r} with an image, ports and a restart policy ({restart}).",
    )


# ---------------------------------------------------------------------------------------------------
# The CI pipeline

RUN_PATTERNS = {
    "test": re.compile(r"\b(pytest|py\.test|unittest|tox|nox)\b|\bmake\s+(test|check)\b|manage\.py\s+test"),
    "login": re.compile(r"\b(docker|podman|buildah)\s+login\b|\baws\s+ecr\s+get-login"),
    "build": re.compile(
        r"\b(docker|podman)\s+(buildx\s+)?build\b|\bdocker[- ]compose\b[^\n]*\bbuild\b|\bbuildah\s+(bud|build)\b|/kaniko/executor"
    ),
    "push": re.compile(
        r"\b(docker|podman|buildah)\s+push\b|\bdocker[- ]compose\b[^\n]*\bpush\b|\bbuildx\s+build\b[^\n]*--push|/kaniko/executor[^\n]*--destination"
    ),
    "deploy": re.compile(
        r"\b(ssh|scp|rsync)\b|\bkubectl\s+(apply|set|rollout|replace)\b|\bhelm\s+(upgrade|install)\b"
        r"|\bdocker[- ]compose\b[^\n]*\bup\b|\bdocker\s+stack\s+deploy\b|\bfly(ctl)?\s+deploy\b"
        r"|\bgcloud\s+run\s+deploy\b|\baz\s+(webapp|containerapp)\b|\baws\s+ecs\s+update-service\b|\bdeploy\b"
    ),
}
DEPLOY_ACTIONS = re.compile(r"ssh|deploy|kubectl|k8s|helm|scp|rsync|render|railway|fly")
PHASES = ("test", "build", "push", "deploy")
SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|TOKEN|SECRET|API_KEY|ACCESS_KEY)", re.IGNORECASE)
FROM_SECRET_STORE = re.compile(r"\$\{\{.*\}\}|^\$[A-Za-z_{]|^\s*$")


def text_of(value):
    """A script as one string: a str, or a list of str (GitLab); anything else is empty."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(item for item in value if isinstance(item, str))
    return ""


def truthy(value):
    return value is True or (isinstance(value, str) and value.strip().lower() not in ("", "false", "0", "no"))


class Pipeline:
    """Occurrences of each kind of step, and the order relation between them."""

    def __init__(self, kind, name):
        self.kind, self.name = kind, name
        self.occurrences = {phase: [] for phase in (*PHASES, "login")}
        self.before = {}  # job -> the set of jobs that finish before it starts
        self.literal_secrets = []  # (where, what in Chinese, what in English)

    def add(self, phase, job, step, sub=0):
        self.occurrences[phase].append((job, step, sub))

    def add_script(self, job, step, script):
        for line_number, line in enumerate(script.splitlines()):
            for phase, pattern in RUN_PATTERNS.items():
                if pattern.search(line):
                    self.add(phase, job, step, line_number)
            self.scan_login_line(job, line)

    def scan_login_line(self, job, line):
        if not RUN_PATTERNS["login"].search(line) or "--password-stdin" in line:
            return
        match = re.search(r"(?:-p|--password)(?:\s+|=)(\S+)", line)
        if match and not match.group(1).strip("\"'").startswith("$"):
            self.literal_secrets.append((f"job {job}", "docker login 的密码", "the docker login password"))

    def precedes(self, first, second):
        if first[0] == second[0]:
            return first[1:] < second[1:]
        return first[0] in self.before.get(second[0], set())

    def chain(self):
        """(True, None) when test ≺ build ≺ push ≺ deploy exists, else (False, the first missing link)."""
        reachable = self.occurrences["test"]
        if not reachable:
            return False, ("missing", "test")
        for earlier, later in itertools.pairwise(PHASES):
            candidates = self.occurrences[later]
            if not candidates:
                return False, ("missing", later)
            reachable = [b for b in candidates if any(self.precedes(a, b) for a in reachable)]
            if not reachable:
                return False, ("order", earlier, later)
        return True, None

    def login_before_push(self):
        return any(
            self.precedes(login, push)
            for login in self.occurrences["login"]
            for push in self.occurrences["push"]
        )


def closure(direct):
    """Transitive predecessors of every job, given each job's direct predecessors."""
    result = {}

    def visit(job, trail):
        if job in result:
            return result[job]
        if job in trail:
            return set()
        found = set()
        for parent in direct.get(job, ()):
            found |= {parent} | visit(parent, trail | {job})
        result[job] = found
        return found

    for job in direct:
        visit(job, frozenset())
    return result


def names_in(value):
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [
            item if isinstance(item, str) else item.get("job")
            for item in value
            if isinstance(item, str | dict)
        ]
    return []


def scan_env(pipeline, where, env):
    if not isinstance(env, dict):
        return
    for key, value in env.items():
        literal = (
            isinstance(value, str | int)
            and not isinstance(value, bool)
            and not FROM_SECRET_STORE.search(str(value))
        )
        if isinstance(key, str) and SECRET_NAME.search(key) and literal:
            pipeline.literal_secrets.append((where, f"变量 {key}", f"the variable {key}"))


def github_pipeline(name, workflow):
    pipeline = Pipeline("github", name)
    jobs = workflow.get("jobs")
    if not isinstance(jobs, dict):
        return pipeline
    scan_env(pipeline, "workflow env", workflow.get("env"))
    direct = {}
    for job_id, job in jobs.items():
        if not isinstance(job, dict):
            continue
        job_id = str(job_id)
        direct[job_id] = [str(need) for need in names_in(job.get("needs")) if need]
        scan_env(pipeline, f"job {job_id}", job.get("env"))
        steps = job.get("steps") if isinstance(job.get("steps"), list) else []
        label = f"{job_id} {job.get('name') if isinstance(job.get('name'), str) else ''}".lower()
        for index, step in enumerate(steps):
            if not isinstance(step, dict):
                continue
            scan_env(pipeline, f"job {job_id}", step.get("env"))
            script = text_of(step.get("run"))
            uses = step.get("uses").split("@")[0].lower() if isinstance(step.get("uses"), str) else ""
            options = step.get("with") if isinstance(step.get("with"), dict) else {}
            step_name = step.get("name").lower() if isinstance(step.get("name"), str) else ""
            pipeline.add_script(job_id, index, script)
            if uses.startswith("docker/build-push-action"):
                pipeline.add("build", job_id, index, 0)
                if truthy(options.get("push")):
                    pipeline.add("push", job_id, index, 1)
            if uses.startswith("docker/login-action"):
                pipeline.add("login", job_id, index, 0)
                password = options.get("password")
                if password is not None and not (
                    isinstance(password, str) and FROM_SECRET_STORE.search(password)
                ):
                    pipeline.literal_secrets.append(
                        (
                            f"job {job_id}",
                            "docker/login-action 的 password",
                            "the password of docker/login-action",
                        )
                    )
            if uses and DEPLOY_ACTIONS.search(uses) and not uses.startswith("docker/"):
                pipeline.add("deploy", job_id, index, 0)
            if (script or uses) and "deploy" in step_name:
                pipeline.add("deploy", job_id, index, 0)
            if script and re.search(r"\btests?\b", step_name):
                pipeline.add("test", job_id, index, 0)
        if steps and ("deploy" in label or "environment" in job):
            pipeline.add("deploy", job_id, len(steps) - 1, 10**6)
    pipeline.before = closure(direct)
    return pipeline


GITLAB_RESERVED = {
    "stages", "variables", "default", "include", "workflow", "image", "services", "before_script",
    "after_script", "cache",
}  # fmt: skip


def gitlab_pipeline(name, document):
    pipeline = Pipeline("gitlab", name)
    stage_list = (
        document.get("stages") if isinstance(document.get("stages"), list) else ["build", "test", "deploy"]
    )
    stage_list = [".pre", *[str(stage) for stage in stage_list], ".post"]
    scan_env(pipeline, "variables", document.get("variables"))
    default = document.get("default") if isinstance(document.get("default"), dict) else {}
    global_before = text_of(document.get("before_script")) or text_of(default.get("before_script"))
    jobs = {
        str(key): value
        for key, value in document.items()
        if key not in GITLAB_RESERVED
        and not str(key).startswith(".")
        and isinstance(value, dict)
        and "script" in value
    }
    position = {job: stage_list.index(str(spec.get("stage", "test"))) if str(spec.get("stage", "test")) in stage_list else 0
                for job, spec in jobs.items()}  # fmt: skip
    direct = {}
    for job, spec in jobs.items():
        if "needs" in spec:
            direct[job] = [str(need) for need in names_in(spec.get("needs")) if need]
        else:
            direct[job] = [other for other in jobs if position[other] < position[job]]
        scan_env(pipeline, f"job {job}", spec.get("variables"))
        before = text_of(spec.get("before_script")) if "before_script" in spec else global_before
        pipeline.add_script(job, 0, before)
        pipeline.add_script(job, 1, text_of(spec.get("script")))
        if "deploy" in job.lower() or "environment" in spec or str(spec.get("stage", "")).lower() == "deploy":
            pipeline.add("deploy", job, 2, 0)
        if str(spec.get("stage", "")).lower() == "test":
            pipeline.add("test", job, 2, 0)
    pipeline.before = closure(direct)
    return pipeline


def pipelines(files):
    found = []
    for name, document in files["ci"].items():
        found.append(
            gitlab_pipeline(name, document) if name == GITLAB_CI else github_pipeline(name, document)
        )
    return found


PHASE_TEXT = {
    "test": ("运行测试的步骤（pytest 等）", "step that runs the tests (pytest, …)"),
    "build": ("构建镜像的步骤（docker build 或 docker/build-push-action）", "step that builds the image (docker build or docker/build-push-action)"),
    "push": ("推送镜像的步骤（docker push，或 build-push-action 加 push: true）", "step that pushes the image (docker push, or build-push-action with push: true)"),
    "deploy": ("部署步骤（ssh 到服务器执行 docker compose pull/up、kubectl、helm，或名为 deploy 的作业）", "deploy step (ssh to the server and docker compose pull/up, kubectl, helm, or a job named deploy)"),
}  # fmt: skip
ORDER_ADVICE = {
    "github": (
        "GitHub Actions 的作业默认并行运行：后一个作业要用 needs: 指向前一个，例如 build 作业写 needs: test。",
        "GitHub Actions runs jobs in parallel unless told otherwise: give the later job needs: pointing at "
        "the earlier one, e.g. needs: test on the build job.",
    ),
    "gitlab": (
        "GitLab CI 按 stages 的顺序运行各阶段：stages: [test, build, push, deploy]，并给每个作业设对 stage（needs: 会越过阶段顺序）。",
        "GitLab CI runs stages in the order of stages: [test, build, push, deploy]; give every job the right "
        "stage (needs: overrides the stage order).",
    ),
}


def check_order(ctx):
    files, failure = files_or_fail(ctx, "ci-order")
    if failure:
        return failure
    problems = []
    for pipeline in pipelines(files):
        ok, problem = pipeline.chain()
        if ok:
            return ctx.passed(
                "ci-order",
                zh=f"{pipeline.name}：测试通过后才构建镜像，构建后推送，推送后部署。",
                en=f"{pipeline.name}: the image is built only after the tests pass, pushed after the build, "
                "and deployed after the push.",
            )
        problems.append((pipeline, problem))
    pipeline, problem = problems[0]
    if problem[0] == "missing":
        zh, en = PHASE_TEXT[problem[1]]
        return ctx.failed(
            "ci-order",
            zh=f"{pipeline.name} 里找不到{zh}。完整的流水线是：测试 → 构建镜像 → 推送到镜像仓库 → 部署。",
            en=f"{pipeline.name} has no {en}. The whole pipeline is: test → build the image → push it to a "
            "registry → deploy.",
        )
    _, earlier, later = problem
    advice = ORDER_ADVICE[pipeline.kind]
    return ctx.failed(
        "ci-order",
        zh=f"{pipeline.name} 里，{PHASE_TEXT[later][0]}并不等待{PHASE_TEXT[earlier][0]}完成。{advice[0]}",
        en=f"In {pipeline.name}, the {PHASE_TEXT[later][1]} does not wait for the {PHASE_TEXT[earlier][1]}. {advice[1]}",
    )


def check_secrets(ctx):
    files, failure = files_or_fail(ctx, "ci-secrets")
    if failure:
        return failure
    found = pipelines(files)
    for pipeline in found:
        if pipeline.literal_secrets:
            where, what_zh, what_en = pipeline.literal_secrets[0]
            return ctx.failed(
                "ci-secrets",
                zh=f"{pipeline.name}（{where}）里，{what_zh}直接写成了明文。任何能读仓库的人都能看到它，它也会留在 Git 历史里。"
                "把它存进 CI 的密钥（GitHub：Settings → Secrets，用 ${{ secrets.REGISTRY_PASSWORD }} 引用；"
                "GitLab：CI/CD Variables，用 $CI_REGISTRY_PASSWORD）。",
                en=f"In {pipeline.name} ({where}), {what_en} is written in plain text. Anyone who can read the "
                "repository can read it, and it stays in the Git history. Keep it in the CI's secret store "
                "(GitHub: Settings → Secrets, referenced as ${{ secrets.REGISTRY_PASSWORD }}; GitLab: CI/CD "
                "Variables, $CI_REGISTRY_PASSWORD).",
            )
    if any(pipeline.login_before_push() for pipeline in found):
        return ctx.passed(
            "ci-secrets",
            zh="推送之前先登录了镜像仓库，凭据来自 CI 的密钥。",
            en="The pipeline logs in to the registry before pushing, with credentials from the CI's secrets.",
        )
    return ctx.failed(
        "ci-secrets",
        zh="推送镜像之前没有登录镜像仓库：推送会被拒绝。GitHub Actions 用 docker/login-action（password: ${{ secrets.GITHUB_TOKEN }}），"
        '或者 echo "$REGISTRY_PASSWORD" | docker login -u ... --password-stdin。',
        en="Nothing logs in to the registry before the push, so the push would be refused. In GitHub Actions "
        'use docker/login-action (password: ${{ secrets.GITHUB_TOKEN }}), or echo "$REGISTRY_PASSWORD" | '
        "docker login -u ... --password-stdin.",
    )
