"""Check for trial 3.3, custom-dataset. Runs outside the sandbox and scores the driver's observations.

Every expected record is rebuilt here with exercises.kit.oddfiles from the seeds in generate.py and
probe.py (read as literals): the public folder, the fresh folder the probe wrote, and the hand-made
collate batch. Nothing the sandbox wrote is used as an expected value.

Verified (items and batches reached the driver as data and were summarised there): length, items,
collate, fresh-files, and loader-workers' batches. Observed (reported by the student's process): the
loader's type, worker count and iterator class within loader-workers.
"""

from pathlib import Path

import numpy as np

from exercises.kit.check import Check, literal_from, show
from exercises.kit.data import seed_from, seeded_array
from exercises.kit.oddfiles import make_records

HERE = Path(__file__).resolve().parent
PROBE = HERE / "probe.py"
PUBLIC = make_records(literal_from(HERE / "generate.py", "COUNT"), literal_from(HERE / "generate.py", "SEED"))
FRESH = make_records(literal_from(PROBE, "FRESH_COUNT"), literal_from(PROBE, "FRESH_SEED"))
PUBLIC_BATCH = literal_from(PROBE, "PUBLIC_BATCH")
FRESH_BATCH = literal_from(PROBE, "FRESH_BATCH")
COLLATE_LENGTHS = literal_from(PROBE, "COLLATE_LENGTHS")
COLLATE_LABELS = literal_from(PROBE, "COLLATE_LABELS")
WORKERS = literal_from(PROBE, "WORKERS")
TOLERANCE = 1e-6

CHECKS = [
    Check(
        "length",
        zh="__len__ 只数 .rec 文件",
        en="__len__ counts the .rec files only",
        points=15,
        basis="verified",
        basis_note="returned as data and compared by the driver",
    ),
    Check(
        "items",
        zh="__getitem__ 按文件名顺序返回 (数值, 标签)",
        en="__getitem__ returns (values, label) in file-name order",
        points=25,
        basis="verified",
        basis_note="the items returned as data and summarised by the driver",
    ),
    Check(
        "collate",
        zh="collate_fn 把变长序列补零成批，并给出长度和标签",
        en="collate_fn pads variable-length sequences and returns lengths and labels",
        points=25,
        basis="verified",
        basis_note="the batches returned as data",
    ),
    Check(
        "loader-workers",
        zh="DataLoader 用 2 个工作进程给出正确的批次",
        en="The DataLoader gives the right batches with 2 worker processes",
        points=20,
        basis="verified",
        basis_note="the batches returned as data; the loader's type, worker count and iterator class are observed",
    ),
    Check(
        "fresh-files",
        zh="换一个新文件夹也全部正确",
        en="Everything also works on a fresh folder",
        points=15,
        visible=False,
        basis="verified",
        basis_note="items read from files the driver writes",
    ),
]


def check(ctx):
    yield ctx.evaluate("length", check_length)
    yield ctx.evaluate("items", check_items)
    yield ctx.evaluate("collate", check_collate)
    yield ctx.evaluate("loader-workers", check_loader)
    yield ctx.evaluate("fresh-files", check_fresh)


# ---------------------------------------------------------------------------------------------------
# Shared pieces


def folder_text(prefix):
    return ("public/records", "public/records") if prefix == "public" else ("这个文件夹", "this folder")


def dataset_problem(ctx, prefix):
    """Why RecordDataset(folder) / len() gave nothing, as (zh, en), or None."""
    zh_folder, en_folder = folder_text(prefix)
    if error := ctx.error_of(f"{prefix}.init"):
        return f"RecordDataset({zh_folder}) 出错：\n{error}", f"RecordDataset({en_folder}) raised:\n{error}"
    if error := ctx.error_of(f"{prefix}.len"):
        return (
            f"len(RecordDataset({zh_folder})) 出错：\n{error}",
            f"len(RecordDataset({en_folder})) raised:\n{error}",
        )
    count = ctx.observed(f"{prefix}.len")
    if not isinstance(count, int) or isinstance(count, bool):
        return (
            f"len(RecordDataset({zh_folder})) 的结果是 {show(count)}，应是整数。",
            f"len(RecordDataset({en_folder})) gave {show(count)}; it must be an int.",
        )
    return None


def length_problem(ctx, prefix, expected):
    if problem := dataset_problem(ctx, prefix):
        return problem
    count = ctx.observed(f"{prefix}.len")
    if count == len(expected):
        return None
    zh_folder, en_folder = folder_text(prefix)
    zh = f"{zh_folder} 里有 {len(expected)} 个 .rec 文件，len(dataset) 却是 {count}。"
    en = f"{en_folder} holds {len(expected)} .rec files, but len(dataset) is {count}."
    if count > len(expected):
        zh += (
            "文件夹里还有别的东西（README.txt、子文件夹 archive/、notes.rec.bak……）："
            "只收集直接位于该文件夹中、名字以 .rec 结尾的文件，例如 sorted(Path(folder).glob('*.rec'))。"
        )
        en += (
            " The folder holds other things too (README.txt, an archive/ subfolder, notes.rec.bak…): collect "
            "only the files directly inside it whose names end in .rec, e.g. sorted(Path(folder).glob('*.rec'))."
        )
    else:
        zh += "请确认 __len__ 返回的是文件列表的长度，而不是写死的数字。"
        en += " Make __len__ return the length of the file list, not a fixed number."
    return zh, en


def items_problem(ctx, prefix, expected):
    """What is wrong with the items read from a folder, as (zh, en), or None."""
    if problem := dataset_problem(ctx, prefix):
        return problem
    zh_folder, en_folder = folder_text(prefix)
    if error := ctx.error_of(f"{prefix}.items"):
        index = ctx.observed(f"{prefix}.failed_index")
        return (
            f"{zh_folder}：dataset[{show(index)}] 出错：\n{error}",
            f"{en_folder}: dataset[{show(index)}] raised:\n{error}",
        )
    summaries = ctx.observed(f"{prefix}.items")
    if not isinstance(summaries, list):
        return (
            None
            if not expected
            else (f"没有读取 {zh_folder} 的结果。", f"No items were read from {en_folder}.")
        )
    count = min(len(summaries), len(expected))
    for index in range(count):
        summary = summaries[index]
        if not isinstance(summary, dict) or not summary.get("pair"):
            kind = summary.get("type") if isinstance(summary, dict) else "?"
            return (
                f"dataset[{index}] 返回的是 {kind}，应返回一个二元组 (values, label)。",
                f"dataset[{index}] returned a {kind}; it should return a pair (values, label).",
            )
        values = summary.get("values") or {}
        if (
            values.get("type") != "torch.Tensor"
            or values.get("dtype") != "torch.float32"
            or len(values.get("shape", [])) != 1
        ):
            described = f"{values.get('type')} {values.get('dtype', '')} {values.get('shape', '')}".strip()
            return (
                f"dataset[{index}] 的 values 是 {described}，应是一维的 torch.float32 张量。"
                "用 torch.tensor(np.frombuffer(data, dtype='<f4', count=count, offset=8))。",
                f"values from dataset[{index}] is {described}; it should be a 1-D torch.float32 tensor. Use "
                "torch.tensor(np.frombuffer(data, dtype='<f4', count=count, offset=8)).",
            )
        if summary.get("label") is None:
            return (
                f"dataset[{index}] 的 label 是 {summary.get('label_type')}，应是整数（int 或 0 维整数张量）。",
                f"label from dataset[{index}] is a {summary.get('label_type')}; it should be an integer "
                "(an int or a 0-d integer tensor).",
            )
    lengths = [summary["values"]["shape"][0] for summary in summaries[:count]]
    labels = [summary["label"] for summary in summaries[:count]]
    expected_lengths = [len(values) for _, values, _ in expected]
    expected_labels = [label for _, _, label in expected]
    if lengths != expected_lengths[:count] or labels != expected_labels[:count]:
        if sorted(zip(lengths, labels, strict=True)) == sorted(
            zip(expected_lengths[:count], expected_labels[:count], strict=True)
        ):
            return (
                f"{zh_folder} 的样本都读对了，但顺序不对：dataset[i] 应是按文件名排序后的第 i 个文件。"
                "glob() 和 listdir() 的顺序由文件系统决定，要自己 sorted()。",
                f"The samples of {en_folder} are right but in the wrong order: dataset[i] must be the i-th file "
                "in sorted name order. glob() and listdir() return whatever order the file system has; sort them.",
            )
        for index in range(count):
            if lengths[index] != expected_lengths[index] or labels[index] != expected_labels[index]:
                name = expected[index][0]
                return (
                    f"dataset[{index}]（{name}）应有 {expected_lengths[index]} 个数值、标签 {expected_labels[index]}，"
                    f"读到的是 {lengths[index]} 个数值、标签 {labels[index]}。文件头是 8 个字节，小端序："
                    "4 字节魔数 b'HSR1'、1 字节标签、1 字节保留、2 字节数值个数（uint16），之后是 float32 数值。",
                    f"dataset[{index}] ({name}) should have {expected_lengths[index]} values and label "
                    f"{expected_labels[index]}; it has {lengths[index]} values and label {labels[index]}. The header is "
                    "8 bytes, little-endian: the 4-byte magic b'HSR1', a 1-byte label, a reserved byte, a 2-byte "
                    "count (uint16); then the float32 values.",
                )
    values = ctx.array(f"{prefix}_item_values")
    wanted = np.concatenate([values for _, values, _ in expected[:count]]).astype(np.float64)
    if (
        values is None
        or values.shape != wanted.shape
        or not np.allclose(values, wanted, atol=TOLERANCE, rtol=0)
    ):
        return (
            f"{zh_folder} 的长度和标签都对，但数值不对：数值是小端 float32（dtype '<f4'），从第 8 个字节开始。",
            f"Lengths and labels from {en_folder} are right, but the values are not: they are little-endian "
            "float32 (dtype '<f4') starting at byte 8.",
        )
    return None


def collated_problem(summary, rows, what_zh, what_en, lengths, labels):
    """What is wrong with one collated batch summary, as (zh, en), or None."""
    if not isinstance(summary, dict) or not summary.get("triple"):
        kind = summary.get("type") if isinstance(summary, dict) else "?"
        return (
            f"{what_zh}返回的是 {kind}，应返回三元组 (padded, lengths, labels)。",
            f"{what_en} returned a {kind}; it should return a triple (padded, lengths, labels).",
        )
    for name, values in (("lengths", lengths), ("labels", labels)):
        described = summary.get(name) or {}
        got = summary.get(f"{name}_values")
        if described.get("dtype") != "torch.int64" or got != list(values):
            return (
                f"{what_zh}的 {name} 是 {show(got)}（{described.get('dtype')}），应是 {list(values)}（torch.int64），"
                "顺序与输入相同。",
                f"{name} from {what_en} is {show(got)} ({described.get('dtype')}); expected {list(values)} "
                "(torch.int64), in the input's order.",
            )
    longest = max(lengths)
    padded = summary.get("padded") or {}
    if padded.get("shape") != [rows, longest] or padded.get("dtype") != "torch.float32":
        zh = f"{what_zh}的 padded 是 {show(padded.get('shape'))} {padded.get('dtype')}，应是 [{rows}, {longest}] 的 torch.float32。"
        en = f"padded from {what_en} is {show(padded.get('shape'))} {padded.get('dtype')}; expected [{rows}, {longest}] torch.float32."
        shape = padded.get("shape")
        if isinstance(shape, list) and len(shape) == 2 and shape[0] == rows and shape[1] > longest:
            zh += f"只需补到这一批中最长的序列（{longest}），不要补到固定长度。"
            en += f" Pad to the longest sequence in this batch ({longest}), not to a fixed length."
        return zh, en
    return None


def loader_problem(ctx, key, expected, batch_size, *, shuffled, items_ok=True):
    """What is wrong with a drained loader, as (zh, en), or None."""
    problem = _loader_problem(ctx, key, expected, batch_size, shuffled=shuffled)
    if problem and not items_ok and not ctx.error_of(key):
        return (
            problem[0]
            + "\nDataLoader 的批次来自 dataset[i]，而 dataset[i] 本身就不对：先修好 __getitem__（见上面的检查）。",
            problem[1]
            + "\nThe loader's batches are built from dataset[i], which is wrong itself: fix __getitem__ "
            "first (see the checks above).",
        )
    return problem


def _loader_problem(ctx, key, expected, batch_size, *, shuffled):
    call = f"make_loader(folder, {batch_size}, shuffle={shuffled}, num_workers={WORKERS})"
    if error := ctx.error_of(key):
        zh, en = f"{call} 或遍历它时出错：\n{error}", f"{call} or iterating over it raised:\n{error}"
        if "pickle" in error.lower() or "lambda" in error.lower():
            zh += "\n工作进程要能拿到 collate_fn：把它写成模块级函数，而不是 lambda 或嵌套函数。"
            en += "\nWorker processes need the collate_fn: make it a module-level function, not a lambda or a nested one."
        return zh, en
    info = ctx.observed(key)
    if not isinstance(info, dict):
        return f"没有 {call} 的观测结果。", f"No observation for {call}."
    if not info.get("is_dataloader"):
        return (
            f"{call} 返回的是 {info.get('type')}，应返回 torch.utils.data.DataLoader。",
            f"{call} returned a {info.get('type')}; it should return a torch.utils.data.DataLoader.",
        )
    if info.get("num_workers") != WORKERS or info.get("iterator") != "_MultiProcessingDataLoaderIter":
        return (
            f"{call} 的 DataLoader 用了 num_workers={show(info.get('num_workers'))}：把参数 num_workers 传给 "
            "DataLoader(..., num_workers=num_workers)，数据才会在工作进程里并行读取。",
            f"The DataLoader from {call} has num_workers={show(info.get('num_workers'))}: pass the argument on, "
            "DataLoader(..., num_workers=num_workers), so that files are read in parallel worker processes.",
        )
    batches = info.get("batches")
    sizes = [min(batch_size, len(expected) - start) for start in range(0, len(expected), batch_size)]
    if not isinstance(batches, list) or len(batches) != len(sizes):
        return (
            f"{len(expected)} 个样本、批大小 {batch_size}，应得到 {len(sizes)} 个批次，实际得到 "
            f"{len(batches) if isinstance(batches, list) else '?'} 个。把 batch_size 传给 DataLoader。",
            f"{len(expected)} samples in batches of {batch_size} make {len(sizes)} batches; the loader gave "
            f"{len(batches) if isinstance(batches, list) else '?'}. Pass batch_size on to the DataLoader.",
        )
    all_lengths, all_labels = [], []
    for number, (summary, size) in enumerate(zip(batches, sizes, strict=True)):
        if not isinstance(summary, dict) or not summary.get("triple"):
            return collated_problem(summary, size, f"第 {number + 1} 个批次", f"batch {number + 1}", [1], [0])
        all_lengths += summary.get("lengths_values") or []
        all_labels += summary.get("labels_values") or []
    expected_lengths = [len(values) for _, values, _ in expected]
    expected_labels = [label for _, _, label in expected]
    if shuffled:
        if sorted(zip(all_lengths, all_labels, strict=False)) != sorted(
            zip(expected_lengths, expected_labels, strict=True)
        ):
            return (
                f"shuffle=True 时，{call} 没有把每个样本恰好给出一次。",
                f"With shuffle=True, {call} did not yield every sample exactly once.",
            )
        if all_lengths == expected_lengths and all_labels == expected_labels:
            return (
                "shuffle=True 时批次仍按文件名顺序排列：把参数 shuffle 传给 DataLoader(..., shuffle=shuffle)。",
                "With shuffle=True the batches still come in file-name order: pass the argument on, "
                "DataLoader(..., shuffle=shuffle).",
            )
        return None
    start = 0
    for number, (summary, size) in enumerate(zip(batches, sizes, strict=True)):
        part = expected[start : start + size]
        start += size
        problem = collated_problem(
            summary, size, f"第 {number + 1} 个批次", f"batch {number + 1}",
            [len(values) for _, values, _ in part], [label for _, _, label in part],
        )  # fmt: skip
        if problem:
            return problem
    values = ctx.array(key.replace(".", "_") + "_values")
    wanted = np.concatenate([values for _, values, _ in expected]).astype(np.float64)
    if (
        values is None
        or values.shape != wanted.shape
        or not np.allclose(values, wanted, atol=TOLERANCE, rtol=0)
    ):
        return (
            "批次的形状、长度、标签都对，但补零前的数值和文件里的不一致。",
            "The batches have the right shapes, lengths and labels, but their unpadded values differ from the files.",
        )
    return None


# ---------------------------------------------------------------------------------------------------
# The checks


def check_length(ctx):
    if problem := length_problem(ctx, "public", PUBLIC):
        return ctx.failed("length", *problem)
    return ctx.passed(
        "length",
        zh=f"len(dataset) = {len(PUBLIC)}，README.txt 和子文件夹都被跳过了。",
        en=f"len(dataset) = {len(PUBLIC)}; README.txt and the subfolder were skipped.",
    )


def check_items(ctx):
    if problem := items_problem(ctx, "public", PUBLIC):
        return ctx.failed("items", *problem)
    if ctx.observed("public.len") != len(PUBLIC):
        return ctx.failed(
            "items",
            zh="前面的样本都读对了，但样本个数不对（见 __len__ 的检查）。",
            en="The items read are right, but the number of items is not (see the __len__ check).",
        )
    return ctx.passed(
        "items",
        zh=f"{len(PUBLIC)} 个样本的数值和标签都正确，顺序与文件名一致。",
        en=f"All {len(PUBLIC)} items have the right values and labels, in file-name order.",
    )


def check_collate(ctx):
    expected = [
        seeded_array((length,), "float32", seed_from("collate", index))
        for index, length in enumerate(COLLATE_LENGTHS)
    ]
    for key, rows, lengths, labels, arrays, what_zh, what_en in (
        ("collate", 5, COLLATE_LENGTHS, COLLATE_LABELS, expected, "collate_records(5 个样本)", "collate_records(5 items)"),
        ("collate.single", 1, COLLATE_LENGTHS[2:3], COLLATE_LABELS[2:3], expected[2:3], "collate_records(1 个样本)", "collate_records(1 item)"),
    ):  # fmt: skip
        if error := ctx.error_of(key):
            zh, en = f"{what_zh} 出错：\n{error}", f"{what_en} raised:\n{error}"
            if "stack expects each tensor to be equal size" in error:
                zh += "\n长度不同的张量不能直接 torch.stack：先建一个全零的 (B, 最长长度) 张量再逐行填入，或用 pad_sequence。"
                en += (
                    "\nTensors of different lengths cannot be stacked: fill a zero (B, longest) tensor row by "
                    "row, or use torch.nn.utils.rnn.pad_sequence."
                )
            return ctx.failed("collate", zh=zh, en=en)
        summary = ctx.observed(key)
        if problem := collated_problem(summary, rows, what_zh, what_en, lengths, labels):
            return ctx.failed("collate", *problem)
        padded = ctx.array(key.replace(".", "_") + "_padded")
        wanted = np.zeros((rows, max(lengths)))
        for row, values in enumerate(arrays):
            wanted[row, : len(values)] = values
        if (
            padded is None
            or padded.shape != wanted.shape
            or not np.allclose(padded, wanted, atol=TOLERANCE, rtol=0)
        ):
            return ctx.failed(
                "collate",
                zh=f"{what_zh}的 padded 数值不对：第 i 行应是第 i 个序列，后面补 0。",
                en=f"padded from {what_en} has the wrong values: row i is sequence i, followed by zeros.",
            )
    return ctx.passed(
        "collate",
        zh=f"长度 {COLLATE_LENGTHS} 的序列补成 (5, {max(COLLATE_LENGTHS)})，长度和标签都对；单个样本的批次也对。",
        en=f"Sequences of lengths {COLLATE_LENGTHS} became a (5, {max(COLLATE_LENGTHS)}) batch with the right "
        "lengths and labels; a batch of one works too.",
    )


def check_loader(ctx):
    items_ok = items_problem(ctx, "public", PUBLIC) is None and ctx.observed("public.len") == len(PUBLIC)
    if problem := loader_problem(
        ctx, "public.loader", PUBLIC, PUBLIC_BATCH, shuffled=False, items_ok=items_ok
    ):
        return ctx.failed("loader-workers", *problem)
    if problem := loader_problem(
        ctx, "public.loader.shuffled", PUBLIC, PUBLIC_BATCH, shuffled=True, items_ok=items_ok
    ):
        return ctx.failed("loader-workers", *problem)
    return ctx.passed(
        "loader-workers",
        zh=f"两个工作进程给出了全部 {len(PUBLIC)} 个样本：按顺序时批次完全正确，shuffle=True 时顺序被打乱。",
        en=f"Two worker processes delivered all {len(PUBLIC)} samples: in order the batches are exactly right, "
        "and shuffle=True shuffles them.",
    )


def check_fresh(ctx):
    for problem in (
        length_problem(ctx, "fresh", FRESH),
        items_problem(ctx, "fresh", FRESH),
        loader_problem(ctx, "fresh.loader", FRESH, FRESH_BATCH, shuffled=False),
    ):
        if problem:
            zh, en = problem
            return ctx.failed("fresh-files", zh="在一个新的文件夹上：" + zh, en="On a fresh folder: " + en)
    return ctx.passed(
        "fresh-files",
        zh=f"在 {len(FRESH)} 个文件的新文件夹上，长度、样本和批次（最后一批只有 1 个）都正确。",
        en=f"On a fresh folder of {len(FRESH)} files, length, items and batches (the last one holding a "
        "single record) are all right.",
    )
