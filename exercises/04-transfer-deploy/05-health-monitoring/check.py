"""Check for trial 4.5, health-monitoring. Runs outside the sandbox and scores the probe's observations.

The right predictions are computed here with numpy from the bundle's own files (the two classifier
versions and the held-out images the probe sent). Latencies are judged against what is known outside
the student's code: every model forward took at least DELAY_SECONDS (the probe's wrapper sleeps), and
no inference can take longer than the whole request the probe timed.
"""

import functools
from pathlib import Path

import numpy as np

from exercises.kit.check import Check, literal_from, number, show

HERE = Path(__file__).resolve().parent
PROBE = HERE / "probe.py"
DELAY_MS = literal_from(PROBE, "DELAY_SECONDS") * 1000
IMAGES = literal_from(PROBE, "IMAGES")
BAD_VERSIONS = literal_from(PROBE, "BAD_VERSIONS")
SCRIPT = literal_from(PROBE, "SCRIPT")
VERSION_NAMES = literal_from(PROBE, "VERSION_NAMES")
MEAN = literal_from(HERE / "generate.py", "MEAN")
STD = literal_from(HERE / "generate.py", "STD")
TOLERANCE = 1e-4
IMAGE_OF = {step: what for step, _, path, what in SCRIPT if path == "/predict"}

BAD_TEXT = {
    "corrupt": ("一个损坏的文件", "a corrupt file"),
    "raises": ("一个一运行就抛异常的模型", "a model that raises when run"),
    "nan": ("一个输出 NaN 的模型", "a model that answers NaN"),
    "five-classes": ("一个只有 5 个类别的模型", "a model with 5 classes"),
}

CHECKS = [
    Check(
        "health-check",
        zh="/healthz 报告版本，模型坏了时回 503",
        en="/healthz reports the version, and 503 when the model is broken",
        points=15,
        basis="verified",
        basis_note="status, headers and body received as data",
    ),
    Check(
        "errors-are-503",
        zh="推理失败时 /predict 回 503",
        en="/predict answers 503 when inference fails",
        points=10,
        basis="verified",
        basis_note="status, headers and body received as data",
    ),
    Check(
        "predictions",
        zh="/predict 的答案正确",
        en="/predict answers correctly",
        points=10,
        basis="verified",
        basis_note="the app's answers to the driver's requests",
    ),
    Check(
        "latency-metrics",
        zh="每个请求都计时，并在响应头和 /metrics 中报告",
        en="Every inference is timed and reported in a header and on /metrics",
        points=20,
        basis="verified",
        basis_note="a reported latency within the request's round trip timed by the driver; the lower bound (the added delay) is observed",
    ),
    Check(
        "rejects-bad-version",
        zh="坏的新版本被拒绝，旧版本继续服务",
        en="A bad new version is refused and the old one keeps serving",
        points=20,
        visible=False,
        basis="verified",
        basis_note="the app's answers to the driver's requests",
    ),
    Check(
        "versioned-deploy",
        zh="好的新版本上线，版本号随之改变",
        en="A good new version goes live, and the reported version follows",
        points=10,
        visible=False,
        basis="verified",
        basis_note="the app's answers to the driver's requests",
    ),
    Check(
        "rollback-on-failure",
        zh="上线后出错的版本自动回滚到上一个版本",
        en="A version that fails in production is rolled back to the previous one",
        points=15,
        visible=False,
        basis="verified",
        basis_note="the app's answers to the driver's requests",
    ),
]


def check(ctx):
    yield ctx.evaluate("health-check", check_health)
    yield ctx.evaluate("errors-are-503", check_errors)
    yield ctx.evaluate("predictions", check_predictions)
    yield ctx.evaluate("latency-metrics", check_latency)
    yield ctx.evaluate("rejects-bad-version", check_rejects)
    yield ctx.evaluate("versioned-deploy", check_deploy)
    yield ctx.evaluate("rollback-on-failure", check_rollback)


# ---------------------------------------------------------------------------------------------------
# Expected answers


@functools.cache
def pixels():
    with np.load(HERE / "public" / "digits.npz", allow_pickle=False) as archive:
        return np.round(archive["test_x"][:IMAGES] * 255).astype(np.float64)


@functools.cache
def probabilities(version):
    with np.load(HERE / "public" / f"classifier_{version}.npz", allow_pickle=False) as archive:
        weight, bias = archive["weight"].astype(np.float64), archive["bias"].astype(np.float64)
    z = ((pixels() / 255.0 - MEAN) / STD) @ weight.T + bias
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------------------------------------------
# Reading the answers


class Missing(Exception):
    """An answer the check needs is not there: the outcome is already decided."""

    def __init__(self, outcome):
        super().__init__(outcome.key)
        self.outcome = outcome


def app_answers(ctx, key, which):
    """The recorded answers of app `which` ("service" or "broken"), or raise Missing with the failure."""
    call = "create_app(v1 model, 'v1.0')" if which == "service" else "create_app(a model that raises, 'v1.0')"
    error = ctx.error_of("create_app" if which == "service" else "create_app.broken")
    if error:
        zh, en = f"{call} 出错：\n{error}", f"{call} raised:\n{error}"
        if which == "broken":
            zh += "\n模型文件能加载、只是推理出错时，应用照样要启动，由 /healthz 报告 503。"
            en += "\nWhen the file loads but inference fails, the app must still start and report 503 on /healthz."
        raise Missing(ctx.failed(key, zh=zh, en=en))
    answers = ctx.observed(which)
    if not isinstance(answers, dict):
        raise Missing(ctx.failed(key))
    if set(answers) == {"error"}:
        raise Missing(ctx.failed(key, zh=str(answers["error"]), en=str(answers["error"])))
    return answers


def describe(record):
    if not isinstance(record, dict):
        return "no answer"
    if "exception" in record:
        return f"exception {record['exception']}"
    return f"HTTP {record.get('status')} {show(record.get('json', record.get('text')), 240)}"


def body(record):
    value = record.get("json") if isinstance(record, dict) else None
    return value if isinstance(value, dict) else {}


def prediction_problem(record, version, index):
    """None if `record` is a 200 answer with version `version`'s probabilities for image `index`."""
    if not isinstance(record, dict) or record.get("status") != 200:
        return f"{describe(record)}（应为 200）", f"{describe(record)} (expected 200)"
    values = body(record).get("probabilities")
    if not isinstance(values, list) or len(values) != 10 or any(number(v) is None for v in values):
        return (
            f"回答缺少 10 个数的 probabilities：{describe(record)}",
            f"the answer has no list of 10 probabilities: {describe(record)}",
        )
    got = np.array([number(v) for v in values])
    if not np.all(np.abs(got - probabilities(version)[index]) <= TOLERANCE):
        for other in ("v1", "v2"):
            if other != version and np.all(np.abs(got - probabilities(other)[index]) <= TOLERANCE):
                return f"答案来自 {other}，应来自 {version}", f"the answer came from {other}, not {version}"
        return (
            f"概率与 {version} 的正确答案不符（别忘了 model.eval() 和 (p / 255 − {MEAN}) / {STD}）",
            f"the probabilities are not {version}'s (remember model.eval() and (p / 255 − {MEAN}) / {STD})",
        )
    return None


def version_header_problem(record, version):
    header = (record.get("headers") or {}).get("x-model-version") if isinstance(record, dict) else None
    if header != version:
        return (
            f"响应头 X-Model-Version 是 {show(header)}，应为 {version!r}",
            f"the X-Model-Version header is {show(header)}; expected {version!r}",
        )
    return None


def health_problem(record, version):
    if not isinstance(record, dict) or record.get("status") != 200:
        return (
            f"GET /healthz 得到 {describe(record)}，应为 200",
            f"GET /healthz got {describe(record)}; expected 200",
        )
    answer = body(record)
    if answer.get("status") != "ok" or answer.get("model_version") != version:
        return (
            f"GET /healthz 回答 {show(answer)}，应包含 {{'status': 'ok', 'model_version': {version!r}}}",
            f"GET /healthz answered {show(answer)}; it should hold {{'status': 'ok', 'model_version': {version!r}}}",
        )
    return None


def outcome(ctx, key, problems, zh_ok, en_ok):
    if not problems:
        return ctx.passed(key, zh=zh_ok, en=en_ok)
    return ctx.failed(key, zh="\n".join(zh for zh, _ in problems), en="\n".join(en for _, en in problems))


def guarded(function):
    @functools.wraps(function)
    def run(ctx):
        try:
            return function(ctx)
        except Missing as missing:
            return missing.outcome

    return run


# ---------------------------------------------------------------------------------------------------
# The checks


@guarded
def check_health(ctx):
    key = "health-check"
    service = app_answers(ctx, key, "service")
    problems = [p for p in [health_problem(service.get("health.v1"), "v1.0")] if p]
    broken = app_answers(ctx, key, "broken")
    record = broken.get("health")
    if not isinstance(record, dict) or record.get("status") != 503:
        problems.append(
            (
                f"模型一运行就出错时，GET /healthz 得到 {describe(record)}，应为 503。健康检查要真的用模型跑一次"
                "（例如空白图像），失败就返回 503——进程还活着不等于服务可用。",
                f"With a model that fails whenever it runs, GET /healthz got {describe(record)}; expected 503. The "
                "health check must actually run the model (on a blank image, say) and answer 503 when that fails: a "
                "live process is not a working service.",
            )
        )
    elif body(record).get("status") == "ok":
        problems.append(("503 的回答里 status 还写着 'ok'。", "The 503 answer still says status 'ok'."))
    return outcome(
        ctx, key, problems,
        "/healthz 报告 {'status': 'ok', 'model_version': 'v1.0'}，模型坏了时回 503。",
        "/healthz reports {'status': 'ok', 'model_version': 'v1.0'}, and 503 when the model is broken.",
    )  # fmt: skip


@guarded
def check_errors(ctx):
    key = "errors-are-503"
    problems = []
    broken = app_answers(ctx, key, "broken")
    for label_zh, label_en, record in (
        ("模型一运行就出错时", "With a model that always fails", broken.get("predict")),
        ("上线的 v3.0 在真实图像上出错时", "When the live v3.0 failed on a real image", app_answers(ctx, key, "service").get("predict.fragile")),
    ):  # fmt: skip
        if not isinstance(record, dict) or record.get("status") != 503:
            problems.append(
                (
                    f"{label_zh}，POST /predict 得到 {describe(record)}，应为 503 Service Unavailable：捕获推理异常，"
                    "raise HTTPException(status_code=503, ...)。500 说的是“服务器有 bug”，503 说的是“暂时不可用，稍后重试”。",
                    f"{label_en}, POST /predict got {describe(record)}; expected 503 Service Unavailable: catch the "
                    "inference error and raise HTTPException(status_code=503, ...). A 500 says “the server has a bug”; "
                    "503 says “unavailable for now, try again”.",
                )
            )
    return outcome(ctx, key, problems, "推理失败时回答 503。", "Failed inferences are answered with 503.")


@guarded
def check_predictions(ctx):
    key = "predictions"
    service = app_answers(ctx, key, "service")
    problems = []
    for step, index in IMAGE_OF.items():
        if step.startswith("predict.v1."):
            problem = prediction_problem(service.get(step), "v1", index)
            if problem:
                problems.append((f"第 {index + 1} 张图：{problem[0]}", f"Image {index + 1}: {problem[1]}"))
    return outcome(
        ctx, key, problems[:3],
        "v1.0 对每张图都给出了正确的概率。", "v1.0 gave the right probabilities for every image.",
    )  # fmt: skip


def latency_problem(record):
    headers = record.get("headers") or {} if isinstance(record, dict) else {}
    raw = headers.get("x-inference-time-ms")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return (
            f"响应头 X-Inference-Time-Ms 是 {show(raw)}，应是推理耗时的毫秒数。",
            f"The X-Inference-Time-Ms header is {show(raw)}; it should be the inference time in milliseconds.",
        )
    elapsed = number(record.get("ms")) or 0.0
    if value < 0.9 * DELAY_MS:
        hint = (
            ("像是用秒而不是毫秒：(time.perf_counter() − start) × 1000。", "It looks like seconds, not milliseconds: (time.perf_counter() − start) × 1000.")
            if value < DELAY_MS / 100
            else ("计时要把模型调用包在里面。", "The timing must enclose the model call.")
        )  # fmt: skip
        return (
            f"X-Inference-Time-Ms 报告 {value:.3g}，可这次推理至少花了 {DELAY_MS:.0f} ms。{hint[0]}",
            f"X-Inference-Time-Ms says {value:.3g}, but this inference took at least {DELAY_MS:.0f} ms. {hint[1]}",
        )
    if value > elapsed + 1.0:
        return (
            f"X-Inference-Time-Ms 报告 {value:.1f} ms，比整个请求用的 {elapsed:.1f} ms 还长：要实测，不要编造。",
            f"X-Inference-Time-Ms says {value:.1f} ms, longer than the whole request took ({elapsed:.1f} ms): measure it.",
        )
    return None


@guarded
def check_latency(ctx):
    key = "latency-metrics"
    service = app_answers(ctx, key, "service")
    records = [service.get(step) for step in IMAGE_OF if step.startswith("predict.v1.")]
    answered = [r for r in records if isinstance(r, dict) and r.get("status") == 200]
    if not answered:
        return ctx.failed(
            key,
            zh="v1.0 没有成功回答任何 /predict 请求，无法检查计时（见“/predict 的答案正确”）。",
            en="v1.0 answered no /predict request successfully, so no timing could be checked (see the predictions check).",
        )
    problems = [p for p in map(latency_problem, answered) if p][:1]
    metrics = service.get("metrics.v1")
    answer = body(metrics)
    latency = answer.get("latency_ms") if isinstance(answer.get("latency_ms"), dict) else {}
    mean, largest = number(latency.get("mean")), number(latency.get("max"))
    slowest = max(number(r.get("ms")) or 0.0 for r in answered)
    if not isinstance(metrics, dict) or metrics.get("status") != 200:
        problems.append(
            (
                f"GET /metrics 得到 {describe(metrics)}，应为 200。",
                f"GET /metrics got {describe(metrics)}; expected 200.",
            )
        )
    elif (
        answer.get("predictions") != len(answered)
        or answer.get("errors") != 0
        or answer.get("model_version") != "v1.0"
    ):
        problems.append(
            (
                f"{len(answered)} 次成功预测之后，/metrics 报告 predictions={show(answer.get('predictions'))}、"
                f"errors={show(answer.get('errors'))}、model_version={show(answer.get('model_version'))}，"
                f"应为 {len(answered)}、0、'v1.0'。",
                f"After {len(answered)} successful predictions, /metrics reports predictions="
                f"{show(answer.get('predictions'))}, errors={show(answer.get('errors'))}, model_version="
                f"{show(answer.get('model_version'))}; expected {len(answered)}, 0, 'v1.0'.",
            )
        )
    elif mean is None or largest is None or not 0.9 * DELAY_MS <= mean <= largest <= slowest + 1.0:
        problems.append(
            (
                f"/metrics 的 latency_ms 是 {show(latency)}：每次推理至少 {DELAY_MS:.0f} ms，最慢的请求总共 "
                f"{slowest:.1f} ms，所以应有 {DELAY_MS:.0f} ≤ mean ≤ max ≤ {slowest:.1f}（单位毫秒）。",
                f"/metrics says latency_ms = {show(latency)}: every inference took at least {DELAY_MS:.0f} ms and the "
                f"slowest request took {slowest:.1f} ms in all, so {DELAY_MS:.0f} ≤ mean ≤ max ≤ {slowest:.1f} (ms).",
            )
        )
    return outcome(
        ctx, key, problems,
        f"每次推理的耗时都如实报告（X-Inference-Time-Ms，/metrics 平均 {mean or 0:.1f} ms）。",
        f"Every inference time is reported truthfully (X-Inference-Time-Ms; /metrics mean {mean or 0:.1f} ms).",
    )  # fmt: skip


@guarded
def check_rejects(ctx):
    key = "rejects-bad-version"
    service = app_answers(ctx, key, "service")
    problems = []
    for bad in BAD_VERSIONS:
        record = service.get(f"deploy.{bad}")
        zh, en = BAD_TEXT[bad]
        answer = body(record)
        if (
            not isinstance(record, dict)
            or not isinstance(record.get("status"), int)
            or record["status"] < 400
        ):
            problems.append(
                (
                    f"部署{zh}（{VERSION_NAMES[bad]}）得到 {describe(record)}：应以错误状态（如 409）拒绝。"
                    "上线前先加载、eval()，再用空白图像做冒烟测试：要能运行、输出形状 (1, 10)、全部有限。",
                    f"Deploying {en} ({VERSION_NAMES[bad]}) got {describe(record)}: it should be refused with an "
                    "error status (409, say). Before switching, load it, eval() it and smoke-test it on a blank image: "
                    "it must run and answer shape (1, 10) with finite values.",
                )
            )
        elif answer.get("status") != "rolled_back" or answer.get("model_version") != "v1.0":
            problems.append(
                (
                    f"拒绝{zh}时回答了 {show(answer)}，应包含 {{'status': 'rolled_back', 'model_version': 'v1.0'}}。",
                    f"Refusing {en}, the answer was {show(answer)}; it should hold "
                    "{'status': 'rolled_back', 'model_version': 'v1.0'}.",
                )
            )
    for problem in (
        health_problem(service.get("health.after-bad"), "v1.0"),
        prediction_problem(service.get("predict.after-bad"), "v1", IMAGE_OF["predict.after-bad"]),
        version_header_problem(service.get("predict.after-bad"), "v1.0"),
    ):
        if problem:
            problems.append((f"拒绝坏版本之后：{problem[0]}", f"After the refused versions: {problem[1]}"))
    return outcome(
        ctx, key, problems,
        f"{len(BAD_VERSIONS)} 个坏版本都被拒绝，v1.0 一直在正常服务。",
        f"All {len(BAD_VERSIONS)} bad versions were refused and v1.0 kept serving.",
    )  # fmt: skip


@guarded
def check_deploy(ctx):
    key = "versioned-deploy"
    service = app_answers(ctx, key, "service")
    problems = []
    record = service.get("deploy.v2")
    answer = body(record)
    if (
        not isinstance(record, dict)
        or record.get("status") != 200
        or answer.get("status") != "deployed"
        or answer.get("model_version") != "v2.0"
    ):
        problems.append(
            (
                f"部署 v2.0 得到 {describe(record)}，应为 200 和 {{'status': 'deployed', 'model_version': 'v2.0'}}。",
                f"Deploying v2.0 got {describe(record)}; expected 200 with {{'status': 'deployed', 'model_version': 'v2.0'}}.",
            )
        )
    if problem := health_problem(service.get("health.v2"), "v2.0"):
        problems.append(problem)
    for step, index in IMAGE_OF.items():
        if step.startswith("predict.v2."):
            for problem in (
                prediction_problem(service.get(step), "v2", index),
                version_header_problem(service.get(step), "v2.0"),
            ):
                if problem:
                    problems.append(
                        (f"第 {index + 1} 张图：{problem[0]}", f"Image {index + 1}: {problem[1]}")
                    )
    return outcome(
        ctx, key, problems[:4],
        "v2.0 上线后，健康检查、响应头和答案都换成了 v2.0。",
        "Once v2.0 was deployed, the health check, the headers and the answers all followed.",
    )  # fmt: skip


@guarded
def check_rollback(ctx):
    key = "rollback-on-failure"
    service = app_answers(ctx, key, "service")
    record = service.get("deploy.fragile")
    if (
        not isinstance(record, dict)
        or record.get("status") != 200
        or body(record).get("model_version") != "v3.0"
    ):
        return ctx.failed(
            key,
            zh=f"部署 v3.0 得到 {describe(record)}。v3.0 能通过空白图像的冒烟测试，应当上线（它要到真实流量下才出错）。"
            "冒烟测试请用空白图像（全 0 像素，照常预处理）。",
            en=f"Deploying v3.0 got {describe(record)}. v3.0 passes a smoke test on a blank image and should go "
            "live (it only fails on real traffic). Smoke-test with a blank image (all pixels 0, preprocessed as usual).",
        )
    problems = []
    failing = service.get("predict.fragile")
    if not isinstance(failing, dict) or failing.get("status") != 503:
        problems.append(
            (
                f"v3.0 在真实图像上出错时，POST /predict 得到 {describe(failing)}，应为 503。",
                f"When v3.0 failed on a real image, POST /predict got {describe(failing)}; expected 503.",
            )
        )
    health = service.get("health.after-failure")
    if health_problem(health, "v2.0"):
        problems.append(
            (
                f"v3.0 出错之后，/healthz 回答 {describe(health)}。监控发现线上版本出错时，应自动回滚到上一个版本 v2.0。",
                f"After v3.0 failed, /healthz answered {describe(health)}. When monitoring sees the live version fail, "
                "the service should roll back to the previous version, v2.0.",
            )
        )
    after = service.get("predict.after-failure")
    for problem in (
        prediction_problem(after, "v2", IMAGE_OF["predict.after-failure"]),
        version_header_problem(after, "v2.0"),
    ):
        if problem:
            problems.append(
                (f"回滚之后再预测：{problem[0]}", f"Predicting again after the rollback: {problem[1]}")
            )
    metrics = body(service.get("metrics.end"))
    if metrics.get("errors") != 1 or metrics.get("model_version") != "v2.0":
        problems.append(
            (
                f"最后 /metrics 报告 errors={show(metrics.get('errors'))}、model_version={show(metrics.get('model_version'))}，"
                "应为 1 和 'v2.0'。",
                f"At the end /metrics reports errors={show(metrics.get('errors'))}, model_version="
                f"{show(metrics.get('model_version'))}; expected 1 and 'v2.0'.",
            )
        )
    return outcome(
        ctx,
        key,
        problems,
        "v3.0 在线上出错：那次请求得到 503，错误被记录，服务自动回滚到 v2.0 并继续正确回答。",
        "v3.0 failed in production: that request got 503, the error was counted, and the service rolled back to "
        "v2.0 and kept answering correctly.",
    )
