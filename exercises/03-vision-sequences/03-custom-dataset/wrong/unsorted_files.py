# must fail: items
"""Classic mistake: the files are taken in whatever order glob() returns them. That order belongs to the
file system, so sample i is a different record on another machine."""

import struct
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


class RecordDataset(Dataset):
    def __init__(self, folder):
        self.paths = [path for path in Path(folder).glob("*.rec") if path.is_file()]
        self.paths.reverse()  # a directory listing promises no order at all; make that visible

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        data = self.paths[index].read_bytes()
        _magic, label, _flags, count = struct.unpack_from("<4sBBH", data)
        return torch.tensor(np.frombuffer(data, "<f4", count, 8)), label


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
