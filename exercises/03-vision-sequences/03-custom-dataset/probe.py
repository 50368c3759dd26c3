"""Driver for trial 3.3, custom-dataset. The student's code runs in the agent; this process drives it.

Datasets and loaders are live objects, so the agent opens them and reads every item and batch
(`agent_dataset`, `agent_loader`); the items and batches themselves come back as data, and every
summary and value below is computed here from them (*verified*: the check rebuilds the expected values
from the seeds). The loader's type, worker count and iterator class are *observed*. As before, it opens the student's RecordDataset on public/records and (on Submit) on a fresh folder of .rec files
that it writes to /tmp with the kit (different count, names and clutter), reads every item, collates a
hand-made batch of five sequences of lengths 3, 1, 7, 2, 5 (and a batch of one), and drains
make_loader(...) with two worker processes, in order and shuffled. check.py rebuilds every expected
value from the same seeds with exercises.kit.oddfiles (constants below are read as literals).
"""

import tempfile
from pathlib import Path

import numpy as np
import torch

from exercises.kit.data import seed_from, seeded_array
from exercises.kit.oddfiles import write_record_folder
from exercises.kit.probe import FAILED

FRESH_SEED = 3311
FRESH_COUNT = 41
PUBLIC_BATCH = 4
FRESH_BATCH = 5  # 41 records: the last batch holds a single record
COLLATE_LENGTHS = [3, 1, 7, 2, 5]
COLLATE_LABELS = [2, 0, 3, 1, 2]
SHUFFLE_SEED = 3313
WORKERS = 2
MAX_ITEMS = 200


def collate_batch():
    """The hand-made batch: (float32 tensor, int label) pairs, values rebuilt by the check."""
    return [
        (torch.from_numpy(seeded_array((length,), "float32", seed_from("collate", index))), label)
        for index, (length, label) in enumerate(zip(COLLATE_LENGTHS, COLLATE_LABELS, strict=True))
    ]


def label_value(label):
    """An int label, or None: Python ints and 0-d integer tensors/arrays both count."""
    if isinstance(label, bool):
        return None
    if isinstance(label, int | np.integer):
        return int(label)
    if isinstance(label, torch.Tensor) and label.numel() == 1 and not label.is_floating_point():
        return int(label.item())
    return None


def type_name(value):
    return getattr(value, "type_name", type(value).__name__)


def item_summary(ctx, item):
    if not isinstance(item, tuple | list) or len(item) != 2:
        return {"pair": False, "type": type_name(item)}
    values, label = item
    return {
        "pair": True,
        "values": ctx.describe_tensor(values),
        "label": label_value(label),
        "label_type": type_name(label),
    }


def as_float_array(values):
    if torch.is_tensor(values):
        return values.detach().cpu().to(torch.float64).reshape(-1).numpy()
    return None


def _error(solution, error):
    from exercises.kit.probe import trim_traceback

    return trim_traceback(error, solution.__file__)


def agent_dataset(solution, folder, as_path):
    """Open RecordDataset(folder) (a Path or a str), take its len and read every item (up to MAX_ITEMS)."""
    folder = Path(folder) if as_path else folder
    try:
        dataset = solution.RecordDataset(folder)
    except Exception as error:
        return {"failed": "init", "error": _error(solution, error)}
    try:
        count = len(dataset)
    except Exception as error:
        return {"failed": "len", "error": _error(solution, error)}
    items = []
    for index in range(min(count, MAX_ITEMS)):
        try:
            items.append(dataset[index])
        except Exception as error:
            return {
                "len": count,
                "items": items,
                "failed": "items",
                "index": index,
                "error": _error(solution, error),
            }
    return {"len": count, "items": items}


def observe_dataset(ctx, prefix, folder, *, as_path):
    answer = ctx.run(f"{prefix}.init", "agent_dataset", folder, as_path)
    if not isinstance(answer, dict):
        return
    failed = answer.get("failed")
    if failed in ("init", "len"):
        ctx.observe(f"{prefix}.{failed}", {"error": str(answer.get("error"))})
        return
    count = answer.get("len")
    ctx.observe(f"{prefix}.len", count)
    items = answer.get("items") if isinstance(answer.get("items"), list) else []
    if failed == "items":
        ctx.observe(f"{prefix}.items", {"error": str(answer.get("error"))})
        ctx.observe(f"{prefix}.failed_index", answer.get("index"))
        return
    summaries, chunks = [], []
    for item in items:
        summary = item_summary(ctx, item)
        summaries.append(summary)
        if summary["pair"]:
            array = as_float_array(item[0])
            if array is not None:
                chunks.append(array)
    ctx.observe(f"{prefix}.items", summaries)
    if chunks:
        ctx.save_array(f"{prefix}_item_values", np.concatenate(chunks))


def batch_summary(ctx, batch):
    if not isinstance(batch, tuple | list) or len(batch) != 3:
        size = len(batch) if isinstance(batch, tuple | list) else None
        return {"triple": False, "type": type_name(batch), "length": size}
    padded, lengths, labels = batch
    return {
        "triple": True,
        "padded": ctx.describe_tensor(padded),
        "lengths": ctx.describe_tensor(lengths),
        "labels": ctx.describe_tensor(labels),
        "lengths_values": lengths.tolist() if torch.is_tensor(lengths) and lengths.dim() == 1 else None,
        "labels_values": labels.tolist() if torch.is_tensor(labels) and labels.dim() == 1 else None,
    }


def unpadded_values(batch):
    """The real values of a collated batch, row by row (using its own lengths), or None."""
    padded, lengths = batch[0], batch[1]
    if not (
        torch.is_tensor(padded) and torch.is_tensor(lengths) and padded.dim() == 2 and lengths.dim() == 1
    ):
        return None
    if len(lengths) != padded.shape[0] or int(lengths.max()) > padded.shape[1] or int(lengths.min()) < 0:
        return None
    rows = [padded[row, : int(lengths[row])].detach().to(torch.float64) for row in range(padded.shape[0])]
    return torch.cat(rows).numpy()


def observe_collate(ctx):
    batch = collate_batch()
    for key, items in (("collate", batch), ("collate.single", batch[2:3])):
        result = ctx.call(key, "collate_records", items)
        if result is FAILED:
            continue
        summary = batch_summary(ctx, result)
        ctx.observe(key, summary)
        if summary["triple"] and torch.is_tensor(result[0]):
            ctx.save_array(key.replace(".", "_") + "_padded", result[0].detach().to(torch.float64))


def drain(loader):
    iterator = iter(loader)
    try:
        return type(iterator).__name__, list(iterator)
    finally:
        # Stop the worker processes now: after an error the traceback keeps the iterator alive in a
        # reference cycle, and its workers would be joined (slowly) whenever the garbage collector runs.
        shutdown = getattr(iterator, "_shutdown_workers", None)
        if callable(shutdown):
            shutdown()


def agent_loader(solution, folder, batch_size, shuffle):
    loader = solution.make_loader(folder, batch_size, shuffle=shuffle, num_workers=WORKERS)
    info = {
        "is_dataloader": isinstance(loader, torch.utils.data.DataLoader),
        "type": type(loader).__name__,
        "num_workers": getattr(loader, "num_workers", None),
        "batch_size": getattr(loader, "batch_size", None),
    }
    if not info["is_dataloader"]:
        return {"info": info}
    torch.manual_seed(SHUFFLE_SEED)
    info["iterator"], batches = drain(loader)
    return {"info": info, "batches": batches}


def observe_loader(ctx, prefix, folder, batch_size, *, shuffle):
    key = f"{prefix}.loader" + (".shuffled" if shuffle else "")
    answer = ctx.run(key, "agent_loader", folder, batch_size, shuffle)
    if not isinstance(answer, dict) or not isinstance(answer.get("info"), dict):
        return
    info = answer["info"]
    batches = answer.get("batches")
    if not isinstance(batches, list):
        ctx.observe(key, info)
        return
    info["batches"] = [batch_summary(ctx, batch) for batch in batches]
    ctx.observe(key, info)
    if not all(summary["triple"] for summary in info["batches"]):
        return
    chunks = [unpadded_values(batch) for batch in batches]
    if all(chunk is not None for chunk in chunks) and chunks:
        ctx.save_array(key.replace(".", "_") + "_values", np.concatenate(chunks))


def driver(ctx):
    torch.set_num_threads(1)
    ctx.load_solution()
    public = str(ctx.public / "records")
    observe_dataset(ctx, "public", public, as_path=True)
    observe_collate(ctx)
    observe_loader(ctx, "public", public, PUBLIC_BATCH, shuffle=False)
    observe_loader(ctx, "public", public, PUBLIC_BATCH, shuffle=True)
    if ctx.mode != "submit":
        return
    fresh = Path(tempfile.mkdtemp(prefix="records-")) / "fresh"
    write_record_folder(fresh, n=FRESH_COUNT, seed=FRESH_SEED, clutter=True)
    (fresh / "notes.rec.bak").write_bytes(b"not a record")  # a name that only looks like one
    observe_dataset(ctx, "fresh", str(fresh), as_path=False)  # a str this time, a Path above: both must work
    observe_loader(ctx, "fresh", str(fresh), FRESH_BATCH, shuffle=False)
