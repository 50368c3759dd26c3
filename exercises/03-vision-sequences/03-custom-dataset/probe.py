"""Probe for trial 3.3, custom-dataset. Runs inside the sandbox; observes, never judges.

It opens the student's RecordDataset on public/records and (on Submit) on a fresh folder of .rec files
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
from exercises.kit.probe import FAILED, describe_tensor

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


def item_summary(item):
    if not isinstance(item, tuple | list) or len(item) != 2:
        return {"pair": False, "type": type(item).__name__}
    values, label = item
    return {
        "pair": True,
        "values": describe_tensor(values),
        "label": label_value(label),
        "label_type": type(label).__name__,
    }


def as_float_array(values):
    if torch.is_tensor(values):
        return values.detach().cpu().to(torch.float64).reshape(-1).numpy()
    return None


def observe_dataset(ctx, prefix, folder):
    dataset = ctx.call(f"{prefix}.init", "RecordDataset", folder)
    if dataset is FAILED:
        return
    count = ctx.call(f"{prefix}.len", len, dataset)
    if count is FAILED:
        return
    ctx.observe(f"{prefix}.len", count)
    summaries, chunks = [], []
    for index in range(min(count, MAX_ITEMS)):
        item = ctx.call(f"{prefix}.items", dataset.__getitem__, index)
        if item is FAILED:
            ctx.observe(f"{prefix}.failed_index", index)
            return
        summary = item_summary(item)
        summaries.append(summary)
        if summary["pair"]:
            array = as_float_array(item[0])
            if array is not None:
                chunks.append(array)
    ctx.observe(f"{prefix}.items", summaries)
    if chunks:
        ctx.save_array(f"{prefix}_item_values", np.concatenate(chunks))


def batch_summary(batch):
    if not isinstance(batch, tuple | list) or len(batch) != 3:
        size = len(batch) if isinstance(batch, tuple | list) else None
        return {"triple": False, "type": type(batch).__name__, "length": size}
    padded, lengths, labels = batch
    return {
        "triple": True,
        "padded": describe_tensor(padded),
        "lengths": describe_tensor(lengths),
        "labels": describe_tensor(labels),
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
        summary = batch_summary(result)
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


def observe_loader(ctx, prefix, folder, batch_size, *, shuffle):
    key = f"{prefix}.loader" + (".shuffled" if shuffle else "")
    loader = ctx.call(key, "make_loader", folder, batch_size, shuffle=shuffle, num_workers=WORKERS)
    if loader is FAILED:
        return
    info = {
        "is_dataloader": isinstance(loader, torch.utils.data.DataLoader),
        "type": type(loader).__name__,
        "num_workers": getattr(loader, "num_workers", None),
        "batch_size": getattr(loader, "batch_size", None),
    }
    if not info["is_dataloader"]:
        ctx.observe(key, info)
        return
    torch.manual_seed(SHUFFLE_SEED)
    drained = ctx.call(key, drain, loader)
    if drained is FAILED:
        return
    info["iterator"], batches = drained
    info["batches"] = [batch_summary(batch) for batch in batches]
    ctx.observe(key, info)
    if not all(summary["triple"] for summary in info["batches"]):
        return
    chunks = [unpadded_values(batch) for batch in batches]
    if all(chunk is not None for chunk in chunks) and chunks:
        ctx.save_array(key.replace(".", "_") + "_values", np.concatenate(chunks))


def probe(ctx):
    torch.set_num_threads(1)
    ctx.load_solution()
    public = ctx.public / "records"
    observe_dataset(ctx, "public", public)
    observe_collate(ctx)
    observe_loader(ctx, "public", public, PUBLIC_BATCH, shuffle=False)
    observe_loader(ctx, "public", public, PUBLIC_BATCH, shuffle=True)
    if ctx.mode != "submit":
        return
    fresh = Path(tempfile.mkdtemp(prefix="records-")) / "fresh"
    write_record_folder(fresh, n=FRESH_COUNT, seed=FRESH_SEED, clutter=True)
    (fresh / "notes.rec.bak").write_bytes(b"not a record")  # a name that only looks like one
    observe_dataset(ctx, "fresh", str(fresh))  # a str this time, a Path above: both must work
    observe_loader(ctx, "fresh", str(fresh), FRESH_BATCH, shuffle=False)
