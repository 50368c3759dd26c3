# must fail: accuracy
"""Classic mistake: a correct model that is hardly trained: plain SGD with a tiny learning rate for a
single pass, so it stays close to guessing."""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence


class TextClassifier(nn.Module):
    def __init__(self, vocab_size, num_classes, embed_dim=32, hidden_dim=64):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, batch_first=True)
        self.head = nn.Linear(hidden_dim, num_classes)

    def forward(self, tokens, lengths):
        packed = pack_padded_sequence(
            self.embedding(tokens), lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        _, (h_n, _) = self.lstm(packed)
        return self.head(h_n[-1])


def train_classifier(model, tokens, lengths, labels):
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    for start in range(0, len(tokens), 256):
        optimizer.zero_grad()
        batch = slice(start, start + 256)
        loss = nn.functional.cross_entropy(model(tokens[batch], lengths[batch]), labels[batch])
        loss.backward()
        optimizer.step()
    return model
