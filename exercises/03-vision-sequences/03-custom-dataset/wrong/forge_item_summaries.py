# must fail: items
"""Forgery: the files are read in directory order, and the code patches what summarised them in-process.

In-process, the probe summarised each item with the kit's describe_tensor and saved the values with
numpy beside the student's code; this forgery patches both (and torch.equal/allclose and json.dumps)
in its own process and rewrites out/observations.json from a process in its own session. The driver
receives the items as data, summarises them itself and writes out/, and the grader reads only what the
driver vouched for: items still fails.
"""

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


def _forge():
    import json as _json
    import os as _os
    from pathlib import Path as _Path

    import numpy as _np
    import torch as _torch

    import exercises.kit.probe as _kit

    _kit.describe_tensor = lambda value: {"type": "torch.Tensor", "shape": [0], "dtype": "torch.float32"}
    _np.concatenate = lambda arrays, *args, **kwargs: _np.zeros(0)
    _dumps = _json.dumps
    _json.dumps = lambda value, *args, **kwargs: _dumps({"public.len": 0})
    _torch.equal = lambda a, b: True
    _torch.allclose = lambda *args, **kwargs: True
    if _os.fork() == 0:
        _os.setsid()
        for _ in range(20_000):
            try:
                _Path("/work/out/observations.json").write_text('{"public.items": []}')
            except OSError:
                pass
        _os._exit(0)


_forge()
