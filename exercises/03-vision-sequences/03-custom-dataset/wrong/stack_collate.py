# must fail: collate, loader-workers, fresh-files
"""Classic mistake: the collate_fn stacks the sequences as they are (what the default collate does).
Sequences of different lengths cannot be stacked, so every batch raises."""

import struct
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


class RecordDataset(Dataset):
    def __init__(self, folder):
        self.paths = sorted(path for path in Path(folder).glob("*.rec") if path.is_file())

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        data = self.paths[index].read_bytes()
        _magic, label, _flags, count = struct.unpack_from("<4sBBH", data)
        return torch.tensor(np.frombuffer(data, "<f4", count, 8)), label


def collate_records(batch):
    values = torch.stack([values for values, _ in batch])
    lengths = torch.tensor([len(v) for v, _ in batch])
    labels = torch.tensor([label for _, label in batch])
    return values, lengths, labels


def make_loader(folder, batch_size, shuffle=False, num_workers=2):
    return DataLoader(
        RecordDataset(folder),
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=num_workers,
        collate_fn=collate_records,
    )
