"""What a finished run says about the student's PyTorch, read from what the platform stored of it: the
traceback, the metric events and the measured resources, among them what the kit's instruments measured
inside the run (`resources["instruments"]`: gradient norms per layer, data wait against the loop, the
largest tensors at a memory peak). Advice beside the verdict; it never scores.

Each diagnosis names the mistake in words a learner can act on (zh and en), with the line of the student's
`solution.py` the traceback points at, and the concrete values the run showed (both devices of a device
mismatch, the shapes of a failed matrix product, the first step whose metric was not finite). Nothing runs
here: a traceback is text the job produced, so only fixed patterns are matched and every value taken from
it is cut short before it is shown.
"""

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_SOLUTION_LINE = re.compile(r'File "[^"\n]*solution\.py", line (\d+)')
_DEVICE = re.compile(r"\b(cuda:\d+|cuda|cpu|mps|meta)\b")
_LONGEST = 40  # characters of any value quoted from the run


@dataclass(frozen=True)
class Diagnosis:
    rule: str
    line: int | None
    title: dict[str, str]
    why: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "line": self.line, "title": self.title, "why": self.why}


def _short(value: str) -> str:
    value = value.strip()
    return value if len(value) <= _LONGEST else value[: _LONGEST - 1] + "…"


def _solution_line(traceback: str) -> int | None:
    lines = _SOLUTION_LINE.findall(traceback)
    return int(lines[-1]) if lines else None


def _device_mismatch(traceback: str) -> Diagnosis | None:
    message = next(
        (
            line
            for line in traceback.splitlines()
            if "Expected all tensors to be on the same device" in line
            or ("Input type" in line and "weight type" in line and ".cuda." in line)
        ),
        None,
    )
    if message is None:
        return None
    if "Input type" in message and "weight type" in message:  # a convolution's words: tensor types
        devices = ["cuda" if ".cuda." in part else "cpu" for part in message.split("weight type")[:2]]
    else:
        devices = list(dict.fromkeys(_DEVICE.findall(message)))
    both = " 和 ".join(_short(device) for device in devices[:2]) or "两个设备"
    both_en = " and ".join(_short(device) for device in devices[:2]) or "two devices"
    return Diagnosis(
        "device-mismatch",
        _solution_line(traceback),
        {"zh": f"张量不在同一设备上（{both}）", "en": f"Tensors on different devices ({both_en})"},
        {
            "zh": "一次运算的输入必须在同一设备上。用一个 device 变量，把模型（model.to(device)）和每个批次的"
            "输入与标签（x.to(device)）都移过去；新建的张量也要传 device=。",
            "en": "Every input of one operation must live on the same device. Keep one `device` variable and "
            "move the model (model.to(device)) and each batch's inputs and labels (x.to(device)) to it; "
            "tensors you create need device= too.",
        },
    )


_MATMUL = re.compile(r"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)")


def _shape_mismatch(traceback: str) -> Diagnosis | None:
    found = _MATMUL.search(traceback)
    if found is None:
        return None
    _rows, features, expected, out = found.groups()
    return Diagnosis(
        "linear-in-features",
        _solution_line(traceback),
        {
            "zh": f"矩阵乘法形状不匹配：输入每个样本有 {features} 个特征，这一层要的是 {expected} 个",
            "en": f"Shapes do not multiply: each sample has {features} features, the layer expects {expected}",
        },
        {
            "zh": f"nn.Linear 的 in_features 必须等于进入它的每个样本的特征数（这里是 {features}）。"
            f"检查展平（nn.Flatten 或 x.flatten(1)）之后的大小，或把 in_features 改为 {features}；"
            f"它的输出是 {out} 个特征。",
            "en": f"nn.Linear's in_features must equal the features per sample that reach it (here {features}). "
            f"Check the size after flattening (nn.Flatten or x.flatten(1)), or set in_features to {features}; "
            f"its output has {out} features.",
        },
    )


_DTYPE = re.compile(
    r"expected scalar type (\w+) but found (\w+)|mat1 and mat2 must have the same dtype(?:, but got (\w+) and (\w+))?"
    r"|Input type \(([\w.]+)\) and weight type \(([\w.]+)\) should be the same"
)


_TARGET = re.compile(r"expected target dtype to be Long(?: or Byte)?, but got (\w+)")


def _dtype_mismatch(traceback: str) -> Diagnosis | None:
    target = _TARGET.search(traceback)
    found = _DTYPE.search(traceback)
    if found is None and target is None:
        return None
    names = [_short(name) for name in found.groups() if name] if found is not None else []
    if len(names) == 2 and ("cuda" in names[0]) != ("cuda" in names[1]):
        return None  # a device mismatch in dtype's words: _device_mismatch says it
    pair = " / ".join(names) if names else ""
    if target is not None or ("Long" in names and ("cross_entropy" in traceback or "nll_loss" in traceback)):
        return Diagnosis(
            "cross-entropy-target-dtype",
            _solution_line(traceback),
            {"zh": "CrossEntropyLoss 的标签类型不对", "en": "CrossEntropyLoss got labels of the wrong type"},
            {
                "zh": "类别标签应是 torch.long（int64）的类别编号，形状为 (N,)，不是浮点数或 one-hot。用 "
                "labels.long()，或在建数据集时就用整数。",
                "en": "Class labels must be class indices of dtype torch.long (int64), shape (N,), not floats "
                "or one-hot rows. Use labels.long(), or build the dataset with integers.",
            },
        )
    return Diagnosis(
        "dtype-mismatch",
        _solution_line(traceback),
        {
            "zh": f"运算的输入类型不一致（{pair}）" if pair else "运算的输入类型不一致",
            "en": f"Inputs of one operation have different dtypes ({pair})" if pair else "Mixed dtypes",
        },
        {
            "zh": "模型的参数默认是 float32；从 numpy 来的数组常是 float64。把输入转成同一类型："
            "torch.from_numpy(a).float() 或 x.to(torch.float32)。",
            "en": "A model's parameters are float32 by default; arrays from numpy are often float64. Give both "
            "one dtype: torch.from_numpy(a).float() or x.to(torch.float32).",
        },
    )


_AUTOGRAD = [
    (
        "element 0 of tensors does not require grad and does not have a grad_fn",
        "backward-without-graph",
        ("对一个没有计算图的张量调用了 backward()", "backward() on a tensor with no graph behind it"),
        (
            "loss 与参数之间的联系断了：它可能是在 torch.no_grad() 里算的，或经过了 .detach()、.item()、"
            "torch.tensor(...) 或 numpy。让 loss 直接由模型的输出算出。",
            "The loss lost its link to the parameters: it was computed under torch.no_grad(), or went "
            "through .detach(), .item(), torch.tensor(...) or numpy. Compute the loss straight from the "
            "model's output.",
        ),
    ),
    (
        "Trying to backward through the graph a second time",
        "backward-twice",
        ("同一个计算图被 backward() 了两次", "backward() through the same graph twice"),
        (
            "第一次 backward() 之后计算图就被释放了。常见原因是把上一批的 loss 张量累加进了这一批"
            "（用 loss.item() 记录数值），或在循环外算了一次前向、循环里反复 backward()。",
            "The graph is freed after the first backward(). Usually an earlier batch's loss tensor was "
            "added into this one (record loss.item() instead), or one forward pass made outside the loop "
            "is backpropagated again inside it.",
        ),
    ),
    (
        "modified by an inplace operation",
        "inplace-on-saved-tensor",
        ("就地操作改写了反向传播需要的张量", "An in-place operation changed a tensor backward() needs"),
        (
            "像 x += 1、x.relu_() 或 nn.ReLU(inplace=True) 这样的就地操作改写了前向时保存下来的值。"
            "改用不带下划线的版本（x = x + 1、torch.relu(x)）。",
            "An in-place operation such as x += 1, x.relu_() or nn.ReLU(inplace=True) overwrote a value "
            "saved during the forward pass. Use the out-of-place form (x = x + 1, torch.relu(x)).",
        ),
    ),
    (
        "CUDA out of memory",
        "cuda-out-of-memory",
        ("显存不足", "The GPU ran out of memory"),
        (
            "减小批大小或模型；验证和推理放在 torch.no_grad() 里；记录损失用 loss.item()，不要把带计算图的"
            "张量存进列表。",
            "Use a smaller batch or model, run validation and inference under torch.no_grad(), and record "
            "losses with loss.item() instead of keeping tensors (and their graphs) in a list.",
        ),
    ),
]


def _autograd(traceback: str) -> list[Diagnosis]:
    found = []
    for needle, rule, title, why in _AUTOGRAD:
        if needle in traceback:
            found.append(
                Diagnosis(
                    rule,
                    _solution_line(traceback),
                    {"zh": title[0], "en": title[1]},
                    {"zh": why[0], "en": why[1]},
                )
            )
    return found


def _metric_events(log: Iterable[Any]) -> list[tuple[int, dict[str, Any]]]:
    events: list[tuple[int, dict[str, Any]]] = []
    for event in log:
        if not isinstance(event, dict) or event.get("kind") != "metric":
            continue
        payload = event.get("payload")
        if isinstance(payload, dict) and isinstance(payload.get("metrics"), dict):
            step = payload.get("step")
            events.append((step if isinstance(step, int) else len(events), payload["metrics"]))
    return events


def _non_finite(log: Iterable[Any]) -> Diagnosis | None:
    """The first step whose reported metric was not a number (NaN and infinities are stored as null)."""
    for step, metrics in _metric_events(log):
        bad = sorted(_short(str(name)) for name, value in metrics.items() if value is None)
        if bad:
            names = ", ".join(bad[:3])
            return Diagnosis(
                "non-finite-metric",
                None,
                {
                    "zh": f"第 {step} 步起 {names} 不再是有限数（NaN 或无穷）",
                    "en": f"{names} stopped being a finite number (NaN or infinity) at step {step}",
                },
                {
                    "zh": "常见原因：学习率太大、对 0 取对数或除以 0、输入没有归一化。"
                    "先把学习率调小十倍，再检查这一步之前的损失是否在变大。",
                    "en": "Common causes: a learning rate too high, the log of zero or a division by zero, "
                    "inputs that were never normalised. Try a learning rate ten times smaller, and look at "
                    "whether the loss grew in the steps before.",
                },
            )
    return None


def _diverging(log: Iterable[Any]) -> Diagnosis | None:
    """A loss that ended far above where it started: the steps are too large."""
    losses = [
        float(metrics["loss"])
        for _step, metrics in _metric_events(log)
        if isinstance(metrics.get("loss"), int | float) and not isinstance(metrics.get("loss"), bool)
    ]
    if len(losses) < 3 or losses[0] <= 0 or losses[-1] < 10 * losses[0]:
        return None
    return Diagnosis(
        "loss-diverging",
        None,
        {
            "zh": f"损失从 {losses[0]:.3g} 涨到了 {losses[-1]:.3g}",
            "en": f"The loss grew from {losses[0]:.3g} to {losses[-1]:.3g}",
        },
        {
            "zh": "训练在发散：学习率多半太大，或者梯度在累加（循环里没有 zero_grad()）。",
            "en": "Training is diverging: most likely the learning rate is too high, or gradients accumulate "
            "(no zero_grad() in the loop).",
        },
    )


def _memory(
    verdict: str, resources: dict[str, Any], limits: dict[str, Any], measured: dict[str, Any]
) -> Diagnosis | None:
    if verdict != "memory_limit":
        return None
    peak, limit = resources.get("peak_memory_mb"), limits.get("memory_mb")
    if not isinstance(peak, int | float) or not isinstance(limit, int | float):
        return None
    tensors = _largest_tensors(measured)
    return Diagnosis(
        "memory-limit",
        None,
        {
            "zh": f"内存峰值 {peak:.0f} MB，上限 {limit:.0f} MB",
            "en": f"Peak memory {peak:.0f} MB against a limit of {limit:.0f} MB",
        },
        {
            "zh": (f"内存猛涨时最大的张量：{tensors}。" if tensors else "")
            + "减小批大小；验证放在 torch.no_grad() 里；不要把每一步的输出或带计算图的损失存进列表；"
            "大数据集按批读取，不要一次全读进内存。",
            "en": (f"The largest tensors alive as memory grew: {tensors}. " if tensors else "")
            + "Use a smaller batch; validate under torch.no_grad(); do not keep every step's outputs or "
            "losses with their graphs in a list; read a large dataset batch by batch, not all at once.",
        },
    )


# -- what the kit's instruments measured inside the run (resources["instruments"]) ---------------------
# The grader rebuilt the summary from known keys and numbers; it is read here as if it had not, since it
# was measured in the student's process: every value is type-checked, and anything odd is left unsaid.

EXPLODING_NORM = 1e4  # the kit's threshold (exercises.kit.instruments), for the words only
VANISHING_RATIO = 1e-3  # the first layer's gradient norm below this share of the last layer's
DATA_BOUND_SHARE = 0.5  # of the loop's time spent waiting for the next batch
DATA_BOUND_SECONDS = 1.0  # waited at least this long in all: a short run's timings say nothing


def _instruments(resources: dict[str, Any]) -> dict[str, Any]:
    summary = resources.get("instruments")
    return summary if isinstance(summary, dict) else {}


def _section(summary: dict[str, Any], key: str) -> dict[str, Any]:
    section = summary.get(key)
    return section if isinstance(section, dict) else {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _largest_tensors(summary: dict[str, Any]) -> str:
    """The largest tensors as `float32[4096, 4096] cpu 64 MB`, at most three."""
    tensors = _section(summary, "memory").get("tensors")
    described = []
    for tensor in tensors if isinstance(tensors, list) else []:
        if not isinstance(tensor, dict):
            continue
        shape, dtype, device, size = (tensor.get(key) for key in ("shape", "dtype", "device", "mb"))
        if not isinstance(shape, list) or not all(_count(n) is not None for n in shape):
            continue
        if not isinstance(dtype, str) or not isinstance(device, str) or _number(size) is None:
            continue
        name = tensor.get("name")
        label = f"{_short(name)} " if isinstance(name, str) and name else ""
        dims = ", ".join(str(n) for n in shape[:8])
        described.append(
            f"{label}{_short(dtype.removeprefix('torch.'))}[{dims}] {_short(device)} {size:.0f} MB"
        )
        if len(described) == 3:
            break
    return "; ".join(described)


def _exploding(summary: dict[str, Any]) -> Diagnosis | None:
    found = _section(summary, "grad").get("exploding")
    if not isinstance(found, dict):
        return None
    step, layer, norm = _count(found.get("step")), found.get("layer"), found.get("norm")
    if step is None or not isinstance(layer, str) or not layer:
        return None
    if norm in ("nan", "inf", "-inf"):
        size_zh, size_en = "不再是有限数", "stopped being finite"
    elif _number(norm) is not None:
        size_zh, size_en = f"达到 {norm:.3g}", f"reached {norm:.3g}"
    else:
        return None
    layer = _short(layer)
    return Diagnosis(
        "gradient-exploding",
        None,
        {
            "zh": f"梯度爆炸：第 {step + 1} 次 optimizer.step() 时，{layer} 层的梯度范数{size_zh}",
            "en": f"Exploding gradients: at optimizer.step() number {step + 1}, layer {layer}'s gradient norm "
            f"{size_en}",
        },
        {
            "zh": f"梯度的 L2 范数超过 {EXPLODING_NORM:.0e} 或成了 NaN/无穷，参数一步就被推得太远。"
            "把学习率调小（常见的是十倍），把输入和目标归一化，或在 backward() 之后、step() 之前用 "
            "torch.nn.utils.clip_grad_norm_ 裁剪梯度。",
            "en": f"A gradient's L2 norm went above {EXPLODING_NORM:.0e} or became NaN/infinite, so one step "
            "throws the parameters far away. Lower the learning rate (often tenfold), normalise inputs and "
            "targets, or clip with torch.nn.utils.clip_grad_norm_ between backward() and step().",
        },
    )


def _vanishing(summary: dict[str, Any]) -> Diagnosis | None:
    """The first layer's gradient orders of magnitude below the last layer's, at the first measured step
    and at the last: the early layers barely learn."""
    layers = _section(summary, "grad").get("layers")
    if not isinstance(layers, list) or len(layers) < 3:
        return None
    rows = []
    for layer in (layers[0], layers[-1]):
        if not isinstance(layer, list) or len(layer) != 5 or not isinstance(layer[0], str):
            return None
        first, last = _number(layer[1]), _number(layer[2])
        if first is None or last is None:
            return None
        rows.append((_short(layer[0]), first, last))
    (early, early_first, early_last), (final, final_first, final_last) = rows
    if final_first <= 0 or final_last <= 0 or early_last <= 0:
        return None
    if early_first >= VANISHING_RATIO * final_first or early_last >= VANISHING_RATIO * final_last:
        return None
    ratio = early_last / final_last
    return Diagnosis(
        "gradient-vanishing",
        None,
        {
            "zh": f"梯度消失：第一层 {early} 的梯度范数（{early_last:.2g}）只有最后一层 {final}（{final_last:.2g}）"
            f"的 {ratio:.1g} 倍",
            "en": f"Vanishing gradients: the first layer {early}'s gradient norm ({early_last:.2g}) is "
            f"{ratio:.1g} times the last layer {final}'s ({final_last:.2g})",
        },
        {
            "zh": "梯度一层层往回传时被压小了，前面的层几乎学不到东西。常见原因是很深的 sigmoid/tanh 堆叠。"
            "换成 ReLU 一类的激活，加 BatchNorm/LayerNorm 或残差连接，并用合适的初始化（如 "
            "nn.init.kaiming_normal_）。",
            "en": "The gradient shrinks on its way back through the layers, so the early layers barely learn. "
            "Deep stacks of sigmoid/tanh are the usual cause. Use ReLU-like activations, add "
            "BatchNorm/LayerNorm or residual connections, and a fitting initialisation "
            "(e.g. nn.init.kaiming_normal_).",
        },
    )


def _data_bound(summary: dict[str, Any]) -> Diagnosis | None:
    data = _section(summary, "data")
    wait, loop = _number(data.get("wait_s")), _number(data.get("loop_s"))
    workers, size = _count(data.get("num_workers")), _count(data.get("batch_size"))
    if wait is None or loop is None or workers is None or loop <= 0:
        return None
    share = min(wait / loop, 1.0)
    if wait < DATA_BOUND_SECONDS or share <= DATA_BOUND_SHARE:
        return None
    loader = f"num_workers={workers}, batch_size={size if size is not None else '?'}"
    return Diagnosis(
        "data-loader-bound",
        None,
        {
            "zh": f"训练循环 {share:.0%} 的时间在等数据（{wait:.1f} 秒，共 {loop:.1f} 秒；{loader}）",
            "en": f"The training loop spent {share:.0%} of its time waiting for data ({wait:.1f} s of "
            f"{loop:.1f} s; {loader})",
        },
        {
            "zh": "DataLoader 供数据的速度跟不上计算。把昂贵的预处理（读文件、解码、变换）提前到数据集的 "
            "__init__ 里一次做完，__getitem__ 只做索引；或者调大 num_workers 让多个进程并行取数据；"
            "批太小时也可以调大 batch_size。",
            "en": "The DataLoader cannot keep up with the computation. Move expensive preparation (reading "
            "files, decoding, transforms) into the dataset's __init__ so __getitem__ only indexes; or raise "
            "num_workers so several processes fetch batches in parallel; with tiny batches, a larger "
            "batch_size helps too.",
        },
    )


def run_diagnose(
    *, traceback: str, log: Iterable[Any], verdict: str, resources: dict[str, Any], limits: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every diagnosis the stored run supports, most specific first; each rule at most once."""
    traceback = traceback or ""
    log = list(log or [])
    measured = _instruments(resources or {})  # what the kit's instruments measured inside the run
    found: list[Diagnosis | None] = [
        _device_mismatch(traceback),
        _shape_mismatch(traceback),
        _dtype_mismatch(traceback),
        *_autograd(traceback),
        _non_finite(log),
        _diverging(log),
        _exploding(measured),
        _vanishing(measured),
        _data_bound(measured),
        _memory(verdict, resources or {}, limits or {}, measured),
    ]
    seen: set[str] = set()
    diagnoses = []
    for diagnosis in found:
        if diagnosis is not None and diagnosis.rule not in seen:
            seen.add(diagnosis.rule)
            diagnoses.append(diagnosis.as_dict())
    return diagnoses
