# must fail: batch-independent
"""Classic mistake: pack, unpack, then take output[:, -1]. For every sequence shorter than the longest in
its batch that position is padding (zeros after pad_packed_sequence), so its logits depend on its
neighbours."""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


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
        output, _ = self.lstm(packed)
        padded, _ = pad_packed_sequence(output, batch_first=True)
        return self.head(padded[:, -1])


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
