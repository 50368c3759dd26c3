# must fail: padding-invariant, batch-independent
"""Classic mistake: the padded batch goes straight into the LSTM. The zeros are read as input, so the
final state depends on how much padding a sequence happened to get."""

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
