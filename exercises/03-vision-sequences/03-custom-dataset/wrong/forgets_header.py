# must fail: items, fresh-files
"""Classic mistake: np.fromfile reads the whole file as float32, header included, and the label is taken
from the file name's digits. The first value is garbage and every sequence is two values too long."""

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


class RecordDataset(Dataset):
    def __init__(self, folder):
        self.paths = sorted(Path(folder).glob("*.rec"))

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        values = np.fromfile(self.paths[index], dtype=np.float32)
        label = int(self.paths[index].stem[-1]) % 4
        return torch.from_numpy(values), label


def collate_records(batch):
    lengths = torch.tensor([len(values) for values, _ in batch], dtype=torch.int64)
    padded = torch.zeros(len(batch), int(lengths.max()), dtype=torch.float32)
    for row, (values, _) in enumerate(batch):
        padded[row, : len(values)] = values
    labels = torch.tensor([int(label) for _, label in batch], dtype=torch.int64)
    return padded, lengths, labels


def make_loader(folder, batch_size, shuffle=False, num_workers=2):
    return DataLoader(
        RecordDataset(folder),
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=num_workers,
        collate_fn=collate_records,
    )
