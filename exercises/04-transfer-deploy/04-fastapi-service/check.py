"""Check for trial 4.4, fastapi-service. Runs outside the sandbox and scores the driver's observations.

The right answers are computed here with numpy from the bundle's own files: the classifier's weights
(public/classifier.npz, which the probe scripted into the served model) and the held-out images
(public/digits.npz) that the probe sent. The usual mistakes are recognised by computing what they would
have answered, so the message can say which one it was.

Verified (the app's answers reached the driver as data): predictions, input-validation, deterministic.
Observed (counted in the student's process): loaded-once.
"""

import functools
import math
from pathlib import Path

import numpy as np

from exercises.kit.check import Check, literal_from, number, show

HERE = Path(__file__).resolve().parent
N_IMAGES = literal_from(HERE / "probe.py", "N_IMAGES")
REPEATS = literal_from(HERE / "probe.py", "REPEATS")
INVALID = literal_from(HERE / "probe.py", "INVALID")
MEAN = literal_from(HERE / "generate.py", "MEAN")
STD = literal_from(HERE / "generate.py", "STD")
TOLERANCE = 1e-4

INVALID_TEXT = {
    "missing-field": ("没有 pixels 字段", "no pixels field"),
    "seven-rows": ("只有 7 行", "only 7 rows"),
    "ragged-row": ("最后一行有 9 个数", "a last row of 9 values"),
    "above-255": ("有一个像素是 256", "a pixel of 256"),
    "negative": ("有一个像素是 −1", "a pixel of −1"),
    "text": ("pixels 是一段文字", "pixels given as text"),
}

CHECKS = [
    Check(
        "predictions",
        zh="/predict 对留出图像给出正确的类别和概率",
        en="/predict answers held-out images with the right label and probabilities",
        points=40,
        basis="verified",
        basis_note="the app's answers to the driver's images",
    ),
    Check(
        "input-validation",
        zh="无效输入得到 422",
        en="Invalid input is answered with 422",
        points=25,
        basis="verified",
        basis_note="the app's answers to the driver's requests",
    ),
    Check(
        "deterministic",
        zh="同一张图每次得到同样的答案（eval 模式）",
        en="The same image always gets the same answer (eval mode)",
        points=15,
        visible=False,
        basis="verified",
        basis_note="repeated answers compared by the driver",
    ),
    Check(
        "loaded-once",
        zh="模型只在启动时加载一次",
        en="The model is loaded once, at startup",
        points=20,
        visible=False,
        basis="observed",
        basis_note="torch.jit.load calls counted in the student's process",
    ),
]


def check(ctx):
    yield ctx.evaluate("predictions", check_predictions)
    yield ctx.evaluate("input-validation", check_validation)
    yield ctx.evaluate("deterministic", check_deterministic)
    yield ctx.evaluate("loaded-once", check_loaded_once)


# ---------------------------------------------------------------------------------------------------
# The right answers, and the answers of the usual mistakes


@functools.cache
def pixels():
    with np.load(HERE / "public" / "digits.npz", allow_pickle=False) as archive:
        return np.round(archive["test_x"][:N_IMAGES] * 255).astype(np.float64)


@functools.cache
def weights():
    with np.load(HERE / "public" / "classifier.npz", allow_pickle=False) as archive:
        return archive["weight"].astype(np.float64), archive["bias"].astype(np.float64)


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def scores(inputs):
    weight, bias = weights()
    return inputs @ weight.T + bias


def variants():
    """name → (probabilities the service would return, zh, en) for the right pipeline and its mistakes."""
    p = pixels()
    right = (p / 255.0 - MEAN) / STD
    return {
        "right": (softmax(scores(right)), "", ""),
        "logits": (
            scores(right),
            "返回的是模型的原始分数（logits），不是概率：对输出做 torch.softmax(..., dim=1)。",
            "you returned the model's raw scores (logits), not probabilities: apply torch.softmax(..., dim=1).",
        ),
        "no-normalisation": (
            softmax(scores(p / 255.0)),
            f"像素只除以了 255，没有减均值、除标准差：应为 (p / 255 − {MEAN}) / {STD}。",
            f"the pixels were divided by 255 but not normalised: use (p / 255 − {MEAN}) / {STD}.",
        ),
        "raw-pixels": (
            softmax(scores(p)),
            f"像素直接以 0–255 输入了模型：先除以 255，再 (x − {MEAN}) / {STD}。",
            f"the pixels went into the model as 0–255: divide by 255, then (x − {MEAN}) / {STD}.",
        ),
        "no-scaling": (
            softmax(scores((p - MEAN) / STD)),
            f"归一化之前没有先除以 255：应为 (p / 255 − {MEAN}) / {STD}。",
            f"the pixels were not divided by 255 before normalising: use (p / 255 − {MEAN}) / {STD}.",
        ),
    }


def close(a, b):
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= TOLERANCE))


def probabilities_of(record):
    """The probabilities list of a 200 answer as an array, or None."""
    body = record.get("json") if isinstance(record, dict) else None
    values = body.get("probabilities") if isinstance(body, dict) else None
    if not isinstance(values, list) or not all(number(v) is not None for v in values):
        return None
    return np.array([number(v) for v in values], dtype=np.float64)


def app_failure(ctx, key):
    error = ctx.error_of("create_app")
    if error:
        return ctx.failed(
            key, zh=f"create_app(model_path) 出错：\n{error}", en=f"create_app(model_path) failed:\n{error}"
        )
    return None


def describe_answer(record):
    if "exception" in record:
        return f"exception {record['exception']}"
    body = record.get("json", record.get("text"))
    return f"HTTP {record.get('status')}: {show(body, 300)}"


# ---------------------------------------------------------------------------------------------------


def check_predictions(ctx):
    key = "predictions"
    failure = app_failure(ctx, key)
    if failure:
        return failure
    answers = ctx.observed("predict")
    if not isinstance(answers, list) or len(answers) != N_IMAGES:
        return ctx.failed(key)
    expected = variants()["right"][0]
    for index, record in enumerate(answers):
        if record.get("status") != 200:
            hint_zh, hint_en = "", ""
            if record.get("status") == 500:
                hint_zh = "（500 表示处理请求时抛了异常：看看日志里的 traceback。模型要的是形状 (1, 1, 8, 8) 的 float32 张量。）"
                hint_en = (
                    " (500 means the handler raised: see the traceback in the log. The model wants a float32 "
                    "tensor of shape (1, 1, 8, 8).)"
                )
            return ctx.failed(
                key,
                zh=f"POST /predict 发送第 {index + 1} 张留出图像，得到 {describe_answer(record)}，应为 200。{hint_zh}",
                en=f"POST /predict with held-out image {index + 1} got {describe_answer(record)}; expected 200.{hint_en}",
            )
    got = [probabilities_of(record) for record in answers]
    if any(p is None or p.shape != (10,) for p in got):
        bad = next(record for record, p in zip(answers, got, strict=True) if p is None or p.shape != (10,))
        return ctx.failed(
            key,
            zh=f"回答应是 {{'label': 整数, 'probabilities': 10 个数的列表}}，实际是 {show(bad.get('json'), 300)}。"
            "用 tensor.tolist() 把张量变成列表。",
            en=f"The answer should be {{'label': int, 'probabilities': a list of 10 numbers}}; it was "
            f"{show(bad.get('json'), 300)}. Turn tensors into lists with tensor.tolist().",
        )
    got = np.stack(got)
    if not close(got, expected):
        for name, (candidate, zh, en) in variants().items():
            if name != "right" and close(got, candidate):
                return ctx.failed(
                    key,
                    zh=f"{N_IMAGES} 张图的概率都不对：{zh}",
                    en=f"The probabilities of all {N_IMAGES} images are off: {en}",
                )
        worst = float(np.max(np.abs(got - expected)))
        repeat = ctx.observed("repeat")
        varying = (
            isinstance(repeat, list) and len({show(r.get("json")) for r in repeat if isinstance(r, dict)}) > 1
        )
        zh = f"概率与正确值最多相差 {worst:.3g}。"
        en = f"The probabilities differ from the right ones by up to {worst:.3g}."
        if varying:
            zh += "同一张图几次请求的结果都不一样：模型还在训练模式，dropout 开着——加载后调用 model.eval()。"
            en += " The same image got different answers each time: the model is still in train mode with dropout on; call model.eval() after loading."
        else:
            zh += f"检查预处理：float32，(p / 255 − {MEAN}) / {STD}，形状 (1, 1, 8, 8)，再做 softmax。"
            en += f" Check the preprocessing: float32, (p / 255 − {MEAN}) / {STD}, shape (1, 1, 8, 8), then softmax."
        return ctx.failed(key, zh=zh, en=en)
    labels = [record["json"].get("label") for record in answers]
    right_labels = expected.argmax(axis=1).tolist()
    if labels != right_labels:
        return ctx.failed(
            key,
            zh=f"概率正确，但 label 是 {labels}，应为 {right_labels}（概率最大的类别，int）。",
            en=f"The probabilities are right but the labels are {labels}; expected {right_labels} (the most "
            "probable class, as an int).",
        )
    return ctx.passed(
        key,
        zh=f"{N_IMAGES} 张留出图像的类别和概率全部正确。",
        en=f"All {N_IMAGES} held-out images got the right label and probabilities.",
    )


def check_validation(ctx):
    key = "input-validation"
    failure = app_failure(ctx, key)
    if failure:
        return failure
    answers = ctx.observed("invalid")
    if not isinstance(answers, dict):
        return ctx.failed(key)
    wrong_zh, wrong_en = [], []
    for name in INVALID:
        record = answers.get(name) or {}
        if record.get("status") != 422:
            zh, en = INVALID_TEXT[name]
            wrong_zh.append(f"{zh} → {describe_answer(record)}")
            wrong_en.append(f"{en} → {describe_answer(record)}")
    if wrong_en:
        return ctx.failed(
            key,
            zh="这些无效请求应得到 422 Unprocessable Entity：\n"
            + "\n".join(wrong_zh)
            + "\n用 pydantic 模型声明请求体（缺字段、类型不对时 FastAPI 自动回 422），再检查 8×8 的形状和 0–255 的范围"
            "（在 field_validator 里 raise ValueError，或 raise HTTPException(status_code=422)）。500 说明坏输入走进了模型。",
            en="These invalid requests should get 422 Unprocessable Entity:\n"
            + "\n".join(wrong_en)
            + "\nDeclare the body with a pydantic model (FastAPI answers 422 by itself for a missing field or a "
            "wrong type), then check the 8×8 shape and the 0–255 range (raise ValueError in a field_validator, or "
            "HTTPException(status_code=422)). A 500 means bad input reached the model.",
        )
    return ctx.passed(
        key,
        zh=f"{len(INVALID)} 种无效请求都得到了 422。",
        en=f"All {len(INVALID)} kinds of invalid request got 422.",
    )


def check_deterministic(ctx):
    key = "deterministic"
    failure = app_failure(ctx, key)
    if failure:
        return failure
    repeat = ctx.observed("repeat")
    if not isinstance(repeat, list) or len(repeat) != REPEATS:
        return ctx.failed(key)
    loads = ctx.observed("loads")
    if isinstance(loads, dict) and not loads.get("after_requests"):
        return ctx.failed(
            key,
            zh="服务从没加载模型（没有调用 torch.jit.load），相同的回答说明不了什么。",
            en="The service never loaded the model (torch.jit.load was not called), so equal answers prove nothing.",
        )
    got = [probabilities_of(record) for record in repeat]
    if any(p is None for p in got):
        return ctx.failed(
            key,
            zh="重复发送同一张图时没有得到带 probabilities 的回答（见第一项）。",
            en="Sending the same image again gave no answer with probabilities (see the first check).",
        )
    spread = max(float(np.max(np.abs(p - got[0]))) if p.shape == got[0].shape else math.inf for p in got)
    if spread > TOLERANCE:
        return ctx.failed(
            key,
            zh=f"同一张图发送 {REPEATS} 次，概率最多相差 {spread:.3g}：模型还在训练模式，dropout 随机丢弃输入。"
            "torch.jit.load 之后调用 model.eval()（模型按保存时的模式加载）。",
            en=f"The same image sent {REPEATS} times got probabilities differing by up to {spread:.3g}: the model "
            "is still in train mode and dropout drops inputs at random. Call model.eval() after torch.jit.load "
            "(a model loads in the mode it was saved in).",
        )
    return ctx.passed(
        key,
        zh=f"同一张图发送 {REPEATS} 次，答案完全一样。",
        en=f"The same image sent {REPEATS} times got the very same answer.",
    )


def check_loaded_once(ctx):
    key = "loaded-once"
    failure = app_failure(ctx, key)
    if failure:
        return failure
    loads = ctx.observed("loads")
    if not isinstance(loads, dict):
        return ctx.failed(key)
    before, after = loads.get("before_requests"), loads.get("after_requests")
    requests = N_IMAGES + REPEATS + len(INVALID)
    if before == 0 and after == 0:
        return ctx.failed(
            key,
            zh="从没调用 torch.jit.load：服务要加载 create_app 收到的 model_path 这个 TorchScript 文件。",
            en="torch.jit.load was never called: the service should load the TorchScript file at the model_path "
            "given to create_app.",
        )
    if after != before:
        return ctx.failed(
            key,
            zh=f"处理 {requests} 个请求期间 torch.jit.load 又被调用了 {after - before} 次：每个请求都加载模型既慢又浪费内存。"
            "在 create_app 里（或 lifespan 启动时）加载一次，请求里复用。",
            en=f"While handling {requests} requests, torch.jit.load was called {after - before} more times: loading "
            "the model per request is slow and wastes memory. Load it once in create_app (or at lifespan "
            "startup) and reuse it.",
        )
    return ctx.passed(
        key,
        zh=f"模型在启动时加载了 {before} 次，之后 {requests} 个请求都复用它。",
        en=f"The model was loaded at startup ({before}×) and reused by all {requests} requests.",
    )
