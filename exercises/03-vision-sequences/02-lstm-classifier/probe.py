"""Driver for trial 3.2, lstm-classifier. The student's code runs in the agent; this process drives it.

The model lives in the agent between calls (`agent_build`, `agent_logits`, `agent_train`); every batch
below is sent from here and every output comes back as data, so padding, lone sequences and held-out
accuracy are *verified*; only the parameter count and the type train_classifier returned are observed.

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


# ---------------------------------------------------------------------------------------------------
# In the agent (the student's process): the model lives here between calls

MODEL = []


def agent_build(solution):
    torch.set_num_threads(1)  # tiny models: one thread is faster and steadier than several competing ones
    torch.manual_seed(0)
    model = solution.TextClassifier(vocab_size=VOCAB_SIZE, num_classes=NUM_CLASSES)
    if not isinstance(model, torch.nn.Module):
        return {"module": False, "type": type(model).__name__}
    MODEL[:] = [model]
    model.eval()
    return {"module": True, "parameters": sum(p.numel() for p in model.parameters())}


def agent_logits(solution, tokens, lengths):
    with torch.no_grad():
        return MODEL[0](tokens, lengths)


def agent_train(solution):
    from pathlib import Path

    data = load(Path(solution.__file__).parent / "public")
    trained = solution.train_classifier(
        MODEL[0], data["train_tokens"], data["train_lengths"], data["train_labels"]
    )
    if isinstance(trained, torch.nn.Module):
        MODEL[:] = [trained]
    MODEL[0].eval()
    return {"returned": type(trained).__name__}


# ---------------------------------------------------------------------------------------------------
# In the driver


def logits_of(ctx, key, tokens, lengths):
    """The model's output for one batch, observed under `key`; a float tensor or None."""
    out = ctx.run(key, "agent_logits", tokens, lengths)
    if out is FAILED:
        return None
    info = ctx.describe_tensor(out)
    ctx.observe(key, info)
    if not isinstance(out, torch.Tensor) or not out.is_floating_point():
        return None
    return out.detach().to("cpu", torch.float64)


def driver(ctx):
    ctx.load_solution()
    built = ctx.run("build", "agent_build")
    if not isinstance(built, dict):
        return
    ctx.observe("build", built)
    if built.get("module") is not True:
        return

    batch = make_sequences(BATCH_SIZE, BATCH_SEED, min_len=1)
    lengths = torch.from_numpy(batch.lengths)
    longest = int(lengths.max())
    tight = torch.from_numpy(batch.tokens[:, :longest].copy())
    ctx.observe("batch", {"lengths": batch.lengths.tolist(), "longest": longest})

    tight_out = logits_of(ctx, "batch.tight", tight, lengths)
    padded = torch.cat([tight, torch.zeros(BATCH_SIZE, EXTRA_PADDING, dtype=torch.int64)], dim=1)
    padded_out = logits_of(ctx, "batch.padded", padded, lengths)
    if tight_out is not None and padded_out is not None and tight_out.shape == padded_out.shape:
        ctx.observe("padding.difference", float((tight_out - padded_out).abs().max()))

    alone = []
    for row in range(BATCH_SIZE):
        length = int(lengths[row])
        out = logits_of(
            ctx, f"alone.{row}", tight[row : row + 1, :length].clone(), lengths[row : row + 1].clone()
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
    trained = ctx.run("train", "agent_train")
    if not isinstance(trained, dict):
        return
    ctx.observe("train", {"returned": str(trained.get("returned"))[:200]})
    data = load(ctx.public)
    predictions = []
    tokens, test_lengths = data["test_tokens"], data["test_lengths"]
    for start in range(0, len(tokens), EVAL_BATCH):
        out = logits_of(
            ctx, "test", tokens[start : start + EVAL_BATCH], test_lengths[start : start + EVAL_BATCH]
        )
        if out is None or out.dim() != 2 or out.shape[0] != len(tokens[start : start + EVAL_BATCH]):
            return
        predictions.append(out.argmax(dim=1))
    ctx.save_array("test_predictions", torch.cat(predictions).to(torch.int64))
    ctx.observe("test", {"predicted": len(tokens)})
