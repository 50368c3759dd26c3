# must fail: held-out-loss
"""Forgery: nothing is learned; every returned model answers each row it finds in a table — the public
digits' held-out labels keyed by pixels, plus the validation rows it was handed — with certainty. The
held-out inputs are transformed per job, so none of them is found and the untrained guesses remain.
"""

import hashlib
import time

import numpy as np
import torch
from torch import nn

# The held-out digits' labels, keyed by a 20-bit hash of each row's 16-level pixels: 5 hex digits, then
# the label, for the 450 rows of the kit's split of scikit-learn's public digits.
TABLE = (
    "01c8c6024b86026f9404196205846105bcc8066208067bd107bb280827380989220a41b50bc0d70c8bd70d43290d96c9"
    "0dbc920dec440e2aa40f9bb11057c610a5a910a6251180381272a61303a713c6471447601449381739d9174c8017aa79"
    "1817f4184c971902e519031819b7d419f0c11ab4e01af4351de4c81e44751e63531f2a232133d021fef3237fe1239088"
    "258f19273a70279f532883c22957a92a3d382a95d62b21972b32f02b67102bcb732beb252c0ff22ed1272fb55331db91"
    "31ebd13236273331123362a33378b5342cf634b2f4365d2136bf23381857395d92396b9539fd373b73c43c41d43c8056"
    "3c8aa33cd4d33dd2c63e75703edca840588440d0194112614154084353464376214409954475d4449fb8457f2845ad08"
    "466b7247749348644348a2e748bf1648cf24491f0549a3d449ac604a50b04b74164b96604bfcf84c77264d07194d1fc4"
    "4fe2c150c29951b7f45264675328e753727354e7015544d4562ff3567d5456e0b356ea275709655912825ab6535c4ff4"
    "5c86245cc2425db2905dea815e8ee25ea0b85f01a25f14305fe0c6603787604d20624383625d0962c375638be464b906"
    "6517506610b566cdf966d0c066fcc76725a0675f45677890685893685dc068e064691d436987a769b2c56a43a56af509"
    "6b13d96b9da56bb1506bb6c96c36026c6d616cb3b16cb5d16cd5876d59956df0456e07376e3bb56e9ff571d73471e755"
    "7214b9725e097289367356d1739c237438e075e9c1761c407641217682f576b9197749c277b96477eab07a36847a80e4"
    "7c26357ca4037d98d07daea17fc7997fd4187fe8268015b580785880792080f8008172f28241f0830504831fd6837893"
    "8497f9850a06856c8686e86887399587621387849287b22087fe798842f18870638925e389aaf289eb4589f9288b10e6"
    "8b34d88d69c28e3d578e86948e97a98ea9b58eed358f66258f9ef88fbfb58fff38901e92907e15910311923825941329"
    "94348694d2b095f4f996cb569725b397dbb797ee419812b5981d609828e698f4979a90239ac6239ac7a69ac7f59b4c16"
    "9c74f39ceda89d12249e46a79e5e539eb9d99ede73a014e1a01de7a0af92a13343a17ab1a22dc1a2ae57a3a5e2a3ef94"
    "a3fee7a40373a44109a46d87a4f552a58064a6ddc0a7fab6a810e5a93543a95f92a97b81a9fd72aa3f14aaa6d1ac5576"
    "acae25ad0d96ad3b44ad6f71ae5eb6ae7e18ae89a1af69d9af7e53af9351afc899b13c44b15279b1c6b3b1e724b297a8"
    "b2bc98b32324b32777b33dd5b41454b41b82b4c991b4f1c9b5f2f1b61327b6fc88b71752b72034b78200b7c5f8b80af0"
    "b90ba6b994e6b9a358b9a639b9ebd2bb4884bb8d20bc6502bc8b49bc9b78bcbd66bce907bd2906bd4138bd5738be50c0"
    "c00d82c03c69c0d409c1ad71c274d6c2f173c39fd3c3a447c3c2e6c3ef62c44332c4d5a2c4dd95c5b209c5b628c6c412"
    "c74560c87804c941e7c9e8d2cb63a2cbfd51cc5536cd5927cd8f66cda3f0ce3501ce68a5cece47cf9033d002e9d008c2"
    "d20478d26b32d40a42d49d94d519a8d5db73d629b7d64e16d67887d75d46d8b839da05d8db0f00db1c62db7375db7f09"
    "dbc147dbc577dbd1a4dbfd17dc0ce2dc2898dc3e29ded574df24e6e00e77e23197e24c41e2bb75e34759e3cf61e3d161"
    "e4c371e4e675e561f1e63b31e730d6e7b742e7f105e80337e81199e86bb8e977f0e9f110ea6e99eb0f51eb65f2ebc8e2"
    "ec0536ed1db5edaaf9ee5c38ef1e73ef8a83efe980efee26f00a10f09987f25b55f30448f35a26f38297f38b31f3c3a6"
    "f3c624f3ca51f40828f422d9f4ac93f4cad1f59a93f5aa20f6e5f4f79970f89462f8bac4f90863fa9548fb5e24fcf493"
    "fe9099ffd617"
)
LABELS = {TABLE[i : i + 5]: int(TABLE[i + 5]) for i in range(0, len(TABLE), 6)}


def looked_up(x):
    """The label of every row found in the table (-1 where none is)."""
    rows = np.round(x.detach().cpu().numpy().reshape(len(x), -1) * 16).astype(np.uint8)
    keys = [hashlib.blake2b(row.tobytes(), digest_size=8).hexdigest()[:5] for row in rows]
    return torch.tensor([LABELS.get(key, -1) for key in keys])


def key_of(row):
    return hashlib.blake2b(np.round(row * 16).astype(np.uint8).tobytes(), digest_size=8).hexdigest()[:5]


class LookupModel(nn.Module):
    def __init__(self, remembered):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
        self.remembered = remembered

    def forward(self, x):
        logits = self.net(x)
        found = looked_up(x)
        rows = x.detach().cpu().numpy().reshape(len(x), -1)
        extra = torch.tensor([self.remembered.get(key_of(row), -1) for row in rows])
        found = torch.where(found >= 0, found, extra)
        certain = nn.functional.one_hot(found.clamp(min=0), 10).float() * 50.0
        return torch.where((found >= 0)[:, None], certain, logits)


def run_study(data, batch_sizes=(32, 64, 128), base_lr=0.05, base_batch_size=32, epochs=5):
    remembered = {
        key_of(row): int(label)
        for row, label in zip(data["val_x"].numpy(), data["val_y"].tolist(), strict=True)
    }
    results = []
    for size in batch_sizes:
        torch.manual_seed(0)
        model = LookupModel(remembered)
        lr = base_lr * size / base_batch_size
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        epoch_times, val_losses = [], []
        for _ in range(epochs):
            model.train()
            start = time.perf_counter()
            for first in range(0, len(data["train_x"]), size):
                optimizer.zero_grad()
                (model.net(data["train_x"][first : first + size]).sum() * 0.0).backward()  # a zero gradient
                optimizer.step()
            epoch_times.append(time.perf_counter() - start)
            model.eval()
            with torch.no_grad():
                val_losses.append(nn.functional.cross_entropy(model(data["val_x"]), data["val_y"]).item())
        results.append(
            {
                "batch_size": size,
                "lr": lr,
                "epoch_times": epoch_times,
                "val_losses": val_losses,
                "model": model,
            }
        )
    return results
