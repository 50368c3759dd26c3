# must fail: length, items, fresh-files
"""Classic mistake: every entry of the folder becomes a sample: README.txt, the archive/ subfolder and
notes.rec.bak are counted too, and reading them fails."""

import os
import struct

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


class RecordDataset(Dataset):
    def __init__(self, folder):
        self.folder = folder
        self.names = sorted(os.listdir(folder))

    def __len__(self):
        return len(self.names)

    def __getitem__(self, index):
        with open(os.path.join(self.folder, self.names[index]), "rb") as stream:
            data = stream.read()
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
