"""Check for trial 2.5, tensorboard. Runs outside the sandbox and scores the driver's observations.

The event files arrive as uint8 arrays, loaded by the kit's safe loader (`ctx.array`: regular files
only, no symlinks, size-capped) and parsed here with exercises.kit.tbevents; the experiment record
arrives the same way and is parsed as strict JSON or with yaml.safe_load. A file that does not parse
counts as missing. Nothing the student wrote is ever opened by path on this side.

Verified (the event files and the record are the experiment's outcome, read by the driver and parsed
here): event-files, tags, config-record, steps-monotonic, values. Observed (the writers, watched in the
student's process): writer-closed.
"""

import math
from pathlib import Path

from exercises.kit.check import Check, literal_from, number
from exercises.kit.observations import parse_json
from exercises.kit.tbevents import event_file_from_array

HERE = Path(__file__).resolve().parent
EPOCHS = literal_from(HERE / "probe.py", "EPOCHS")
TRAIN_TAG, VAL_TAG, ACCURACY_TAG = "loss/train", "loss/val", "accuracy/val"
REQUIRED_TAGS = [TRAIN_TAG, VAL_TAG, ACCURACY_TAG]
DURATION_SLACK = 1.0  # seconds: the record's own clock and the probe's differ a little

CHECKS = [
    Check(
        "event-files",
        zh="log_dir 里有完整的 TensorBoard 事件文件",
        en="log_dir holds intact TensorBoard event files",
        points=15,
        basis="verified",
        basis_note="the driver reads the event files in the log folder it made",
    ),
    Check(
        "tags",
        zh="记录了 loss/train、loss/val、accuracy/val",
        en="loss/train, loss/val and accuracy/val are logged",
        points=20,
        basis="verified",
        basis_note="the tags in the event files the driver reads",
    ),
    Check(
        "config-record",
        zh="实验记录：超参数、硬件、时长",
        en="The experiment record: hyperparameters, hardware, duration",
        points=20,
        basis="verified",
        basis_note="the record the driver reads from the log folder",
    ),
    Check(
        "steps-monotonic",
        zh="每个标签的 step 严格递增",
        en="Every tag's steps strictly increase",
        points=15,
        visible=False,
        basis="verified",
        basis_note="the steps in the event files the driver reads",
    ),
    Check(
        "values",
        zh="数值有限、准确率在 [0, 1]、训练损失下降",
        en="Values are finite, accuracy in [0, 1], the training loss falls",
        points=10,
        visible=False,
        basis="verified",
        basis_note="the values in the event files the driver reads",
    ),
    Check(
        "writer-closed",
        zh="SummaryWriter 关闭了，所有事件都写进了文件",
        en="The SummaryWriter was closed and every event reached the file",
        points=20,
        visible=False,
        basis="observed",
        basis_note="whether the writer was closed is seen only in the student's process",
    ),
]


def check(ctx):
    yield ctx.evaluate("event-files", check_event_files)
    yield ctx.evaluate("tags", check_tags)
    yield ctx.evaluate("config-record", check_config_record)
    yield ctx.evaluate("steps-monotonic", check_steps)
    yield ctx.evaluate("values", check_values)
    yield ctx.evaluate("writer-closed", check_writer_closed)


# ---------------------------------------------------------------------------------------------------
# Shared pieces


def brief(value):
    """A short rendering of a value from the record without ever repr()-ing a container (YAML aliases
    can make a small file expand enormously)."""
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:59] + "…")
    return f"<{type(value).__name__}>"


def run_problem(ctx):
    error = ctx.error_of("run")
    if error:
        return (
            f"run_experiment(log_dir, epochs) 出错了：\n{error}",
            f"run_experiment(log_dir, epochs) raised an error:\n{error}",
        )
    if not isinstance(ctx.observed("run"), dict):
        return ("没有 run_experiment 的观测结果（代码可能提前退出或超时）。",
                "No observation of run_experiment (the code may have exited early or timed out).")  # fmt: skip
    return None


def parsed_files(ctx):
    """([(entry, EventFile or None)], None) or ([], (zh, en))."""
    problem = run_problem(ctx)
    if problem:
        return [], problem
    entries = ctx.observed("event_files")
    if not isinstance(entries, list):
        return [], ("没有观察到事件文件。", "No event files were observed.")
    files = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        key = entry.get("array")
        events = event_file_from_array(ctx.array(key)) if isinstance(key, str) else None
        files.append((entry, events))
    return files, None


def scalars(ctx):
    """({tag: [Scalar, ...]} over every intact file in file-name order, None) or ({}, (zh, en))."""
    files, problem = parsed_files(ctx)
    if problem:
        return {}, problem
    good = [events for _, events in files if events is not None]
    if not good:
        return {}, (
            "log_dir 里没有可读的事件文件（见“事件文件”检查）。",
            "There is no readable event file in log_dir (see the event-files check).",
        )
    series = {}
    for events in good:
        for scalar in events.scalars:
            series.setdefault(scalar.tag, []).append(scalar)
    return series, None


def failed(ctx, key, problem):
    return ctx.failed(key, zh=problem[0], en=problem[1])


def required_series(ctx):
    """(series, None) when every required tag has points, else ({}, (zh, en))."""
    series, problem = scalars(ctx)
    if problem:
        return {}, problem
    missing = [tag for tag in REQUIRED_TAGS if not series.get(tag)]
    if missing:
        return {}, (
            f"缺少标签 {', '.join(missing)}，没有可检查的点（见“标签”检查）。",
            f"Tags {', '.join(missing)} are missing, so there is nothing to check (see the tags check).",
        )
    return series, None


# ---------------------------------------------------------------------------------------------------
# The checks


def check_event_files(ctx):
    files, problem = parsed_files(ctx)
    if problem:
        return failed(ctx, "event-files", problem)
    writers = ctx.observed("writers") or []
    outside = [w.get("file") for w in writers if isinstance(w, dict) and not w.get("inside_log_dir")]
    if outside:
        return ctx.failed(
            "event-files",
            zh=f"事件文件写到了 log_dir 之外：{outside[0]}。把参数 log_dir 传给 SummaryWriter：SummaryWriter(log_dir=log_dir)"
            "（不传时它写到当前目录下的 runs/）。",
            en=f"An event file was written outside log_dir: {outside[0]}. Pass the log_dir argument to the writer: "
            "SummaryWriter(log_dir=log_dir) (without it, it writes under runs/ in the current folder).",
        )
    if not files:
        return ctx.failed(
            "event-files",
            zh="log_dir 里没有任何事件文件（events.out.tfevents.*）。用 SummaryWriter(log_dir=log_dir) 创建写入器，再 add_scalar。",
            en="log_dir holds no event file (events.out.tfevents.*). Create the writer with "
            "SummaryWriter(log_dir=log_dir), then add_scalar.",
        )
    for entry, events in files:
        if events is None:
            return ctx.failed(
                "event-files",
                zh=f"{entry.get('file')} 不是完整的 TensorBoard 事件文件（损坏、被截断或超过 4 MiB），当作缺失处理。"
                "只通过 SummaryWriter 写这个文件，不要自己改动它。",
                en=f"{entry.get('file')} is not an intact TensorBoard event file (damaged, truncated or over 4 MiB) "
                "and counts as missing. Write it only through SummaryWriter; never edit it yourself.",
            )
    count = len(files)
    return ctx.passed(
        "event-files",
        zh=f"log_dir 里有 {count} 个完整的事件文件。",
        en=f"log_dir holds {count} intact event file{'s' if count > 1 else ''}.",
    )


def check_tags(ctx):
    series, problem = scalars(ctx)
    if problem:
        return failed(ctx, "tags", problem)
    found = ", ".join(sorted(series)) or "（无）"
    missing = [tag for tag in REQUIRED_TAGS if tag not in series]
    if missing:
        return ctx.failed(
            "tags",
            zh=f"缺少标签 {', '.join(missing)}；文件里的标量标签有：{found}。标签名要一字不差，例如 "
            "writer.add_scalar('loss/train', loss.item(), step)。",
            en=f"Tags {', '.join(missing)} are missing; the scalar tags in the files are: {found}. Use the names "
            "exactly, e.g. writer.add_scalar('loss/train', loss.item(), step).",
        )
    for tag in (VAL_TAG, ACCURACY_TAG):
        if len(series[tag]) != EPOCHS:
            return ctx.failed(
                "tags",
                zh=f"{tag} 有 {len(series[tag])} 个点，应每个 epoch 一个，共 {EPOCHS} 个：验证每个 epoch 做一次，结果记录一次。",
                en=f"{tag} has {len(series[tag])} points; it should have one per epoch, {EPOCHS} in all: validate "
                "once per epoch and log the result once.",
            )
    if len(series[TRAIN_TAG]) < 2 * EPOCHS:
        return ctx.failed(
            "tags",
            zh=f"{TRAIN_TAG} 只有 {len(series[TRAIN_TAG])} 个点（{EPOCHS} 个 epoch）。训练损失要每一步（每个 batch）记录一次，"
            "曲线才看得出训练过程。",
            en=f"{TRAIN_TAG} has only {len(series[TRAIN_TAG])} points ({EPOCHS} epochs). Log the training loss at "
            "every step (every batch) so the curve shows how training went.",
        )
    return ctx.passed(
        "tags",
        zh=f"{TRAIN_TAG} 有 {len(series[TRAIN_TAG])} 个点，{VAL_TAG} 和 {ACCURACY_TAG} 各 {EPOCHS} 个（每个 epoch 一个）。",
        en=f"{TRAIN_TAG} has {len(series[TRAIN_TAG])} points, {VAL_TAG} and {ACCURACY_TAG} {EPOCHS} each (one per epoch).",
    )


def check_steps(ctx):
    series, problem = required_series(ctx)
    if problem:
        return failed(ctx, "steps-monotonic", problem)
    for tag in REQUIRED_TAGS:
        points = series.get(tag) or []
        if len(points) < 2:
            continue  # the tags check reports missing or sparse series
        steps = [point.step for point in points]
        bad = next((i for i in range(1, len(steps)) if steps[i] <= steps[i - 1]), None)
        if bad is None:
            continue
        shown = steps[: min(len(steps), bad + 3)]
        if len(set(steps)) == 1:
            hint_zh = (
                "所有点的 step 都一样：add_scalar 的第三个参数 global_step 没传（默认是 0），或者传了个常数。"
            )
            hint_en = "Every point has the same step: the third argument of add_scalar, global_step, is missing (it defaults to 0) or constant."
        elif tag == TRAIN_TAG:
            hint_zh = "看起来用了 batch 序号或 epoch 作 step，每个 epoch 又从头开始。用一个在整个训练中持续增加的全局步数（每个 batch 加 1）。"
            hint_en = "It looks like the batch index or the epoch is used as the step, restarting every epoch. Use a global step that keeps increasing over the whole run (+1 per batch)."
        else:
            hint_zh = "验证指标每个 epoch 记录一次，step 用 epoch 序号或当时的全局步数。"
            hint_en = "Validation metrics are logged once per epoch, with the epoch index or the global step at that time as their step."
        return ctx.failed(
            "steps-monotonic",
            zh=f"{tag} 的 step 没有严格递增：{shown}…（第 {bad + 1} 个点）。TensorBoard 按 step 画横轴，重复或倒退的 step 会让曲线折回、重叠。{hint_zh}",
            en=f"The steps of {tag} do not strictly increase: {shown}… (point {bad + 1}). TensorBoard plots against the "
            f"step, so repeated or falling steps fold the curve back on itself. {hint_en}",
        )
    return ctx.passed(
        "steps-monotonic",
        zh="每个标签的 step 都严格递增。",
        en="Every tag's steps strictly increase.",
    )


def check_values(ctx):
    series, problem = required_series(ctx)
    if problem:
        return failed(ctx, "values", problem)
    for tag in REQUIRED_TAGS:
        for point in series.get(tag) or []:
            if not math.isfinite(point.value):
                return ctx.failed(
                    "values",
                    zh=f"{tag} 在 step {point.step} 的值是 {point.value}：训练发散了，或者记录了 0/0 这样的值。",
                    en=f"{tag} at step {point.step} is {point.value}: training diverged, or a value like 0/0 was logged.",
                )
    for point in series.get(ACCURACY_TAG) or []:
        if not 0.0 <= point.value <= 1.0:
            return ctx.failed(
                "values",
                zh=f"{ACCURACY_TAG} 在 step {point.step} 的值是 {point.value:.4g}，不在 [0, 1] 里。记录比例（正确数 / 总数），不要乘 100。",
                en=f"{ACCURACY_TAG} at step {point.step} is {point.value:.4g}, outside [0, 1]. Log the fraction "
                "(correct / total), not a percentage.",
            )
    for tag in (TRAIN_TAG, VAL_TAG):
        for point in series.get(tag) or []:
            if point.value < 0:
                return ctx.failed(
                    "values",
                    zh=f"{tag} 在 step {point.step} 是负数 {point.value:.4g}：交叉熵损失不会是负的。",
                    en=f"{tag} at step {point.step} is negative ({point.value:.4g}): a cross-entropy loss never is.",
                )
    train = [point.value for point in series.get(TRAIN_TAG) or []]
    if len(train) >= 3:
        third = max(1, len(train) // 3)
        first, last = sum(train[:third]) / third, sum(train[-third:]) / third
        if not last < first:
            return ctx.failed(
                "values",
                zh=f"训练损失没有下降：前三分之一平均 {first:.4g}，后三分之一平均 {last:.4g}。确认记录的是每一步真实的损失"
                "（loss.item()），并且模型确实在训练（zero_grad、backward、step）。",
                en=f"The training loss did not fall: the first third averages {first:.4g}, the last third {last:.4g}. "
                "Make sure each step logs its real loss (loss.item()) and that the model trains (zero_grad, backward, step).",
            )
    return ctx.passed(
        "values",
        zh="所有数值都是有限的，准确率在 [0, 1] 内，训练损失在下降。",
        en="All values are finite, accuracy lies in [0, 1], and the training loss falls.",
    )


def check_writer_closed(ctx):
    files, problem = parsed_files(ctx)
    if problem:
        return failed(ctx, "writer-closed", problem)
    writers = [w for w in ctx.observed("writers") or [] if isinstance(w, dict)]
    if not writers:
        return ctx.failed(
            "writer-closed",
            zh="没有创建任何 SummaryWriter（torch.utils.tensorboard）。",
            en="No SummaryWriter (torch.utils.tensorboard) was created.",
        )
    open_writers = [w for w in writers if not w.get("closed")]
    if open_writers:
        return ctx.failed(
            "writer-closed",
            zh=f"run_experiment 返回时，{len(open_writers)} 个写入器还没关闭（{open_writers[0].get('file')}）。SummaryWriter "
            "把事件交给后台线程排队写出：不调用 writer.close()，程序结束时还在队列里的事件就丢了，文件也一直开着。"
            "训练结束调用 writer.close()，或者用 with SummaryWriter(log_dir) as writer: 让它自动关闭。flush() 只写盘，不关闭。",
            en=f"When run_experiment returned, {len(open_writers)} writer(s) were still open ({open_writers[0].get('file')}). "
            "SummaryWriter hands events to a background thread through a queue: without writer.close(), whatever "
            "is still queued when the program ends is lost, and the file stays open. Call writer.close() when "
            "training ends, or use "
            "with SummaryWriter(log_dir) as writer: to close it automatically. flush() writes but does not close.",
        )
    records = {entry.get("name"): events for entry, events in files}
    for writer in writers:
        events = records.get(writer.get("name"))
        if events is None:
            return ctx.failed(
                "writer-closed",
                zh=f"写入器的文件 {writer.get('file')} 在 log_dir 里找不到或无法解析。",
                en=f"The writer's file {writer.get('file')} is missing from log_dir or does not parse.",
            )
        if events.records != writer.get("added"):
            return ctx.failed(
                "writer-closed",
                zh=f"{writer.get('file')} 里有 {events.records} 个事件，写入器却收到了 {writer.get('added')} 个：有事件没写进文件。",
                en=f"{writer.get('file')} holds {events.records} events but its writer was given {writer.get('added')}: "
                "some never reached the file.",
            )
    return ctx.passed(
        "writer-closed",
        zh="所有 SummaryWriter 在 run_experiment 返回前都关闭了，交给它们的每个事件都在文件里。",
        en="Every SummaryWriter was closed before run_experiment returned, and every event it was given is in its file.",
    )


def load_record(ctx):
    """(dict, name, None) or (None, name, (zh, en))."""
    problem = run_problem(ctx)
    if problem:
        return None, None, problem
    found = ctx.observed("record")
    name = found.get("name") if isinstance(found, dict) else None
    if not name:
        listing = found.get("listing") if isinstance(found, dict) else None
        return (
            None,
            None,
            (
                f"log_dir 里没有 config.json、config.yaml 或 config.yml（log_dir 里有：{listing}）。把实验记录写到 "
                "os.path.join(log_dir, 'config.json')。",
                f"log_dir holds no config.json, config.yaml or config.yml (log_dir holds: {listing}). Write the "
                "experiment record to os.path.join(log_dir, 'config.json').",
            ),
        )
    array = ctx.array("record")
    if array is None or array.dtype.kind != "u" or array.ndim != 1:
        return None, name, (f"{name} 读不出来。", f"{name} could not be read.")
    data = array.tobytes()
    try:
        if name.endswith(".json"):
            record = parse_json(data)
        else:
            import yaml

            record = yaml.safe_load(data.decode("utf-8"))
    except Exception as error:  # any parse failure: the record counts as missing
        kind = "JSON" if name.endswith(".json") else "YAML"
        return (
            None,
            name,
            (
                f"{name} 不是合法的 {kind}：{str(error)[:200]}。用 json.dump(record, f) 或 yaml.safe_dump(record, f) 写出。",
                f"{name} is not valid {kind}: {str(error)[:200]}. Write it with json.dump(record, f) or yaml.safe_dump(record, f).",
            ),
        )
    if not isinstance(record, dict):
        return (
            None,
            name,
            (
                f"{name} 的顶层应是一个映射（dict），实际是 {brief(record)}。",
                f"The top level of {name} should be a mapping (dict); it is {brief(record)}.",
            ),
        )
    return record, name, None


def record_problem(record, name, run):
    """(zh, en) for the first thing wrong with the record, else None."""
    missing = [key for key in ("hyperparameters", "hardware", "duration_seconds") if key not in record]
    if missing:
        return (
            f"{name} 缺少 {', '.join(missing)}。实验记录至少要有 hyperparameters、hardware、duration_seconds 三项。",
            f"{name} lacks {', '.join(missing)}. The record needs at least hyperparameters, hardware and duration_seconds.",
        )
    hyper = record["hyperparameters"]
    if not isinstance(hyper, dict):
        return (
            f"hyperparameters 应是一个映射，实际是 {brief(hyper)}。",
            f"hyperparameters should be a mapping; it is {brief(hyper)}.",
        )
    rate = hyper.get("learning_rate", hyper.get("lr"))
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not (math.isfinite(rate) and rate > 0):
        return (
            f"hyperparameters 里的学习率（learning_rate 或 lr）应是正数，实际是 {brief(rate)}。",
            f"The learning rate in hyperparameters (learning_rate or lr) should be a positive number; it is {brief(rate)}.",
        )
    batch = hyper.get("batch_size")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        return (
            f"hyperparameters 里的 batch_size 应是正整数，实际是 {brief(batch)}。",
            f"batch_size in hyperparameters should be a positive integer; it is {brief(batch)}.",
        )
    epochs = hyper.get("epochs")
    if isinstance(epochs, bool) or epochs != EPOCHS:
        return (
            f"hyperparameters 里的 epochs 是 {brief(epochs)}，这次运行的是 {EPOCHS} 个 epoch：记录实际使用的值（函数参数 epochs）。",
            f"epochs in hyperparameters is {brief(epochs)}, but this run trained {EPOCHS} epochs: record the value "
            "actually used (the epochs argument).",
        )
    hardware = record["hardware"]
    device = hardware.get("device") if isinstance(hardware, dict) else None
    # Without a GPU only "cpu" can be true; with one, the run may have used either.
    possible = ("cuda", "cpu") if run.get("cuda_available") else ("cpu",)
    if not isinstance(device, str) or not device.lower().startswith(possible):
        where_zh = "这台机器没有 GPU，只能是 'cpu'" if possible == ("cpu",) else "'cuda…' 或 'cpu'"
        where_en = (
            "this machine has no GPU, so only 'cpu' is true" if possible == ("cpu",) else "'cuda…' or 'cpu'"
        )
        return (
            f"hardware 应是一个映射，其中 device 写明这次运行实际使用的设备（{where_zh}），实际是 {brief(device)}。"
            "用训练时选设备的那个变量（例如 'cuda' if torch.cuda.is_available() else 'cpu'），不要另写一个常数。",
            f"hardware should be a mapping whose device names the device the run actually used ({where_en}); it is "
            f"{brief(device)}. Record the variable the training used to choose it (e.g. 'cuda' if "
            "torch.cuda.is_available() else 'cpu'), not a separate constant.",
        )
    duration = record["duration_seconds"]
    elapsed = number(run.get("seconds")) or 0.0
    value = float(duration) if isinstance(duration, int | float) and not isinstance(duration, bool) else None
    if value is None or not math.isfinite(value) or value <= 0:
        return (
            f"duration_seconds 应是正数（秒），实际是 {brief(duration)}。",
            f"duration_seconds should be a positive number of seconds; it is {brief(duration)}.",
        )
    if value > elapsed + DURATION_SLACK:
        return (
            f"duration_seconds 是 {value:.4g}，可 run_experiment 整个只运行了 {elapsed:.3g} 秒。在函数开头用 "
            "time.perf_counter() 记下开始时间，结束时相减；单位是秒，不是毫秒。",
            f"duration_seconds is {value:.4g}, but run_experiment ran for only {elapsed:.3g} s in all. Take "
            "time.perf_counter() at the start of the function and subtract at the end; the unit is seconds, not "
            "milliseconds.",
        )
    return None


def check_config_record(ctx):
    record, name, problem = load_record(ctx)
    if problem:
        return failed(ctx, "config-record", problem)
    problem = record_problem(record, name, ctx.observed("run"))
    if problem:
        return failed(ctx, "config-record", problem)
    return ctx.passed(
        "config-record",
        zh=f"{name} 记录了超参数、硬件（{record['hardware']['device']}）和时长（{float(record['duration_seconds']):.3g} 秒）。",
        en=f"{name} records the hyperparameters, the hardware ({record['hardware']['device']}) and the duration "
        f"({float(record['duration_seconds']):.3g} s).",
    )
