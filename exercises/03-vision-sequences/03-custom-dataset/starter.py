"""试炼 3.3 · 万卷归宗 / Trial 3.3 · All Scrolls to One Source.

为 .rec 文件写 Dataset、collate_fn 和 DataLoader。
Write a Dataset, a collate_fn and a DataLoader for .rec files.
"""

import struct
from pathlib import Path

import numpy as np  # noqa: F401 - 用 np.frombuffer 读数值 / np.frombuffer reads the values
import torch
from torch.utils.data import DataLoader, Dataset

HEADER = struct.Struct("<4sBBH")  # 魔数、标签、保留、个数 / magic, label, flags, count: 8 bytes


class RecordDataset(Dataset):
    def __init__(self, folder):
        # TODO 1: 只收集直接位于 folder 中的 *.rec 文件，并排序
        #         collect only the *.rec files directly inside folder, sorted by name
        self.paths = list(Path(folder).iterdir())

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        data = self.paths[index].read_bytes()
        # TODO 2: 用 HEADER.unpack_from(data) 读出 label 和 count，再读 count 个 float32
        #         read label and count with HEADER.unpack_from(data), then count float32 values
        values = torch.zeros(1)
        label = 0
        del data
        return values, label


def collate_records(batch):
    """[(values, label), ...] → (padded (B, 最长 / longest) float32, lengths (B,) int64, labels (B,) int64)."""
    # TODO 3: 补零到本批最长的序列 / pad to the longest sequence in this batch
    raise NotImplementedError("collate_records: 还没写 / not written yet")


def make_loader(folder, batch_size, shuffle=False, num_workers=2):
    # TODO 4: 把 batch_size、shuffle、num_workers、collate_fn 都传给 DataLoader
    #         pass batch_size, shuffle, num_workers and collate_fn on to the DataLoader
    return DataLoader(RecordDataset(folder), batch_size=batch_size)


if __name__ == "__main__":
    dataset = RecordDataset("public/records")
    print(len(dataset), dataset[0])
