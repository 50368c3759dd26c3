"""Reference for trial 3.3: a Dataset over a folder of .rec files, a padding collate_fn, a DataLoader."""

import struct
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

HEADER = struct.Struct("<4sBBH")  # magic, label, flags, count


class RecordDataset(Dataset):
    def __init__(self, folder):
        self.paths = sorted(path for path in Path(folder).glob("*.rec") if path.is_file())

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        data = self.paths[index].read_bytes()
        magic, label, _flags, count = HEADER.unpack_from(data)
        if magic != b"HSR1":
            raise ValueError(f"{self.paths[index].name} is not a .rec file")
        values = np.frombuffer(data, dtype="<f4", count=count, offset=HEADER.size)
        return torch.tensor(values, dtype=torch.float32), label


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
