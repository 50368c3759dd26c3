"""Probe for trial 3.2, lstm-classifier. Runs inside the sandbox; observes, never judges.

First it builds a fresh TextClassifier (fixed seed, eval mode) and feeds it a batch the statement never
shows: unsorted lengths from 1 to 40, padded once to the batch's longest sequence and once with extra
zero columns; then every sequence alone (batch size 1, no padding at all). A model that reads the
padding, or takes the output at the last *padded* step, gives different logits for the same sequence.
Then the student's train_classifier() trains it on public/sequences.npz, and the probe saves its
predictions for the held-out sequences, whose labels only the check has.
"""

import numpy as np
import torch

from exercises.kit.probe import FAILED
from exercises.kit.sequences import NUM_CLASSES, VOCAB_SIZE, make_sequences

BATCH_SEED = 3203
BATCH_SIZE = 13
EXTRA_PADDING = 9
EVAL_BATCH = 50


def load(public):
    with np.load(public / "sequences.npz", allow_pickle=False) as archive:
        data = {name: torch.from_numpy(archive[name].astype(np.int64)) for name in archive.files}
    return data


def logits_of(ctx, key, model, tokens, lengths):
    """The model's output for one batch, observed under `key`; a float tensor or None."""
    with torch.no_grad():
        out = ctx.call(key, model, tokens, lengths)
    if out is FAILED:
        return None
    info = ctx.describe_tensor(out)
    ctx.observe(key, info)
    if not isinstance(out, torch.Tensor) or not out.is_floating_point():
        return None
    return out.detach().to("cpu", torch.float64)


def probe(ctx):
    torch.set_num_threads(1)  # tiny models: one thread is faster and steadier than several competing ones
    ctx.load_solution()
    torch.manual_seed(0)
    model = ctx.call("build", "TextClassifier", vocab_size=VOCAB_SIZE, num_classes=NUM_CLASSES)
    if model is FAILED:
        return
    if not isinstance(model, torch.nn.Module):
        ctx.observe("build", {"module": False, "type": type(model).__name__})
        return
    ctx.observe("build", {"module": True, "parameters": sum(p.numel() for p in model.parameters())})
    model.eval()

    batch = make_sequences(BATCH_SIZE, BATCH_SEED, min_len=1)
    lengths = torch.from_numpy(batch.lengths)
    longest = int(lengths.max())
    tight = torch.from_numpy(batch.tokens[:, :longest].copy())
    ctx.observe("batch", {"lengths": batch.lengths.tolist(), "longest": longest})

    tight_out = logits_of(ctx, "batch.tight", model, tight, lengths)
    padded = torch.cat([tight, torch.zeros(BATCH_SIZE, EXTRA_PADDING, dtype=torch.int64)], dim=1)
    padded_out = logits_of(ctx, "batch.padded", model, padded, lengths)
    if tight_out is not None and padded_out is not None and tight_out.shape == padded_out.shape:
        ctx.observe("padding.difference", float((tight_out - padded_out).abs().max()))

    alone = []
    for row in range(BATCH_SIZE):
        length = int(lengths[row])
        out = logits_of(
            ctx, f"alone.{row}", model, tight[row : row + 1, :length].clone(), lengths[row : row + 1].clone()
        )
        if out is None:
            break
        alone.append(out)
    else:
        shapes_ok = all(out.shape == (1, NUM_CLASSES) for out in alone)
        if tight_out is not None and shapes_ok and tight_out.shape == (BATCH_SIZE, NUM_CLASSES):
            differences = [float((tight_out[row] - alone[row][0]).abs().max()) for row in range(BATCH_SIZE)]
            ctx.observe("alone.differences", differences)

    if ctx.mode != "submit":
        return  # Run shows only the checks above; training is for the accuracy check on Submit
    data = load(ctx.public)
    trained = ctx.call(
        "train", "train_classifier", model, data["train_tokens"], data["train_lengths"], data["train_labels"]
    )
    if trained is FAILED:
        return
    if isinstance(trained, torch.nn.Module):
        model = trained
    ctx.observe("train", {"returned": type(trained).__name__})
    model.eval()
    predictions = []
    tokens, test_lengths = data["test_tokens"], data["test_lengths"]
    for start in range(0, len(tokens), EVAL_BATCH):
        out = logits_of(
            ctx,
            "test",
            model,
            tokens[start : start + EVAL_BATCH],
            test_lengths[start : start + EVAL_BATCH],
        )
        if out is None or out.dim() != 2 or out.shape[0] != len(tokens[start : start + EVAL_BATCH]):
            return
        predictions.append(out.argmax(dim=1))
    ctx.save_array("test_predictions", torch.cat(predictions).to(torch.int64))
    ctx.observe("test", {"predicted": len(tokens)})
