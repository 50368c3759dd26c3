# must fail: collate, loader-workers, fresh-files
"""Classic mistake: every batch is padded to the longest possible record (60) instead of the longest in
the batch, wasting memory and compute, and no lengths come back to undo the padding."""

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


MAX_LENGTH = 60


def collate_records(batch):
    padded = torch.zeros(len(batch), MAX_LENGTH)
    for row, (values, _) in enumerate(batch):
        padded[row, : len(values)] = values
    labels = torch.tensor([label for _, label in batch])
    return padded, torch.full((len(batch),), MAX_LENGTH), labels


def make_loader(folder, batch_size, shuffle=False, num_workers=2):
    return DataLoader(
        RecordDataset(folder),
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=num_workers,
        collate_fn=collate_records,
    )
