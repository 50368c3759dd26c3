# must fail: padding-invariant, batch-independent
"""Forgery: the LSTM reads the padding, and the code forges the differences the check measures.

The in-process probe computed "padding.difference" and "alone.differences" beside the student's code;
this forgery writes zeros for both into out/observations.json at import and from a rewriter in its own
session, and makes torch.equal/allclose answer True in its process. The driver now computes those
differences itself from the logits it received, writes out/, and the grader reads only what the driver
vouched for: padding-invariant and batch-independent still fail.
"""

import json as _json
import os as _os
from pathlib import Path as _Path

import torch
from torch import nn


class TextClassifier(nn.Module):
    def __init__(self, vocab_size, num_classes, embed_dim=32, hidden_dim=64):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, batch_first=True)
        self.head = nn.Linear(hidden_dim, num_classes)

    def forward(self, tokens, lengths):
        _, (h_n, _) = self.lstm(self.embedding(tokens))
        return self.head(h_n[-1])


def train_classifier(model, tokens, lengths, labels, epochs=6, batch_size=64, lr=1e-2):
    torch.manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(tokens))
        for start in range(0, len(tokens), batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(tokens[batch], lengths[batch]), labels[batch])
            loss.backward()
            optimizer.step()
    model.eval()
    return model


_FORGED = _json.dumps({"padding.difference": 0.0, "alone.differences": [0.0] * 13})
torch.equal = lambda a, b: True
torch.allclose = lambda *args, **kwargs: True
if _os.fork() == 0:
    _os.setsid()
    for _ in range(20_000):
        try:
            _Path("/work/out/observations.json").write_text(_FORGED)
        except OSError:
            pass
    _os._exit(0)
