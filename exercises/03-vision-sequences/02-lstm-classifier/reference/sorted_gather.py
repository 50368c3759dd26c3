"""Second reference for trial 3.2, written differently: the batch is sorted by length by hand
(enforce_sorted=True), two LSTM layers, pad_packed_sequence, and the output gathered at each sequence's
own last step (lengths - 1), then put back in the caller's order. A DataLoader feeds the training."""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from torch.utils.data import DataLoader, TensorDataset


class TextClassifier(nn.Module):
    def __init__(self, vocab_size, num_classes):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, 24)
        self.rnn = nn.LSTM(input_size=24, hidden_size=48, num_layers=2, batch_first=True, dropout=0.1)
        self.out = nn.Sequential(nn.Dropout(0.1), nn.Linear(48, num_classes))

    def forward(self, tokens, lengths):
        lengths = torch.as_tensor(lengths, dtype=torch.int64).cpu()
        sorted_lengths, order = lengths.sort(descending=True)
        packed = pack_padded_sequence(self.embed(tokens[order]), sorted_lengths, batch_first=True)
        output, _ = self.rnn(packed)
        padded, _ = pad_packed_sequence(output, batch_first=True)  # (B, longest, H)
        index = (sorted_lengths - 1).view(-1, 1, 1).expand(-1, 1, padded.size(2)).to(padded.device)
        last = padded.gather(1, index).squeeze(1)  # (B, H): the last real step of every sequence
        restored = torch.empty_like(last)
        restored[order] = last
        return self.out(restored)


def train_classifier(model, tokens, lengths, labels):
    generator = torch.Generator().manual_seed(1)
    loader = DataLoader(
        TensorDataset(tokens, lengths, labels), batch_size=50, shuffle=True, generator=generator
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)
    for _ in range(7):
        model.train()
        for batch_tokens, batch_lengths, batch_labels in loader:
            loss = nn.functional.cross_entropy(model(batch_tokens, batch_lengths), batch_labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model
