# must fail: loader-workers, fresh-files
"""Classic mistake: make_loader drops its arguments: no worker processes (num_workers defaults to 0) and
no shuffling, whatever the caller asked for."""

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
    lengths = torch.tensor([len(values) for values, _ in batch], dtype=torch.int64)
    padded = torch.zeros(len(batch), int(lengths.max()), dtype=torch.float32)
    for row, (values, _) in enumerate(batch):
        padded[row, : len(values)] = values
    return padded, lengths, torch.tensor([label for _, label in batch])


def make_loader(folder, batch_size, shuffle=False, num_workers=2):
    return DataLoader(RecordDataset(folder), batch_size=batch_size, collate_fn=collate_records)
