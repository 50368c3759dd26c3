"""试炼 3.2 · 识海听音 / Trial 3.2 · Listening to the Sea of Thought.

写一个处理变长序列的 LSTM 分类器，并训练它。
Write an LSTM classifier for variable-length sequences, and train it.
"""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence  # noqa: F401 - 你会用到它 / you will need it


class TextClassifier(nn.Module):
    def __init__(self, vocab_size, num_classes, embed_dim=32, hidden_dim=64):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, batch_first=True)
        self.head = nn.Linear(hidden_dim, num_classes)

    def forward(self, tokens, lengths):
        """tokens: (B, T) int64，用 0 填充 / padded with 0; lengths: (B,) int64 → logits (B, num_classes)."""
        embedded = self.embedding(tokens)
        # TODO 1: 用 pack_padded_sequence 打包（batch_first=True, enforce_sorted=False），
        #         让 LSTM 只读真实的部分 / pack the batch so the LSTM reads only the real steps
        _, (h_n, _) = self.lstm(embedded)
        # TODO 2: h_n 的形状是 (层数, B, H)；取最后一层 / h_n is (layers, B, H): take the last layer
        return self.head(h_n[-1])


def train_classifier(model, tokens, lengths, labels):
    """在 (tokens, lengths, labels) 上训练 model，返回它。/ Train model on the data and return it."""
    # TODO 3: 优化器、损失函数、若干轮小批量训练 / an optimizer, a loss, a few epochs of mini-batches
    return model


if __name__ == "__main__":
    import numpy as np

    with np.load("public/sequences.npz") as data:
        tokens = torch.from_numpy(data["train_tokens"].astype(np.int64))
        lengths = torch.from_numpy(data["train_lengths"].astype(np.int64))
        labels = torch.from_numpy(data["train_labels"].astype(np.int64))
    model = train_classifier(TextClassifier(vocab_size=20, num_classes=3), tokens, lengths, labels)
    print(model(tokens[:4], lengths[:4]).shape)  # torch.Size([4, 3])
