# must fail: held-out-accuracy, fine-tune
"""Forgery: fine_tune learns nothing (it steps on zero gradients) but hooks the model so that it answers,
with certainty, every image it finds in a table: the images fine_tune was handed, with their labels, and
the public digits' held-out rows. The held-out inputs are transformed per job, so none is found there;
and the loss is measured outside on the state_dict fine_tune leaves, where the hook is not, so it never falls.
"""

import hashlib
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
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


def digit_keys(images):
    """The 8×8 digit behind each (3, 32, 32) normalised image, as table keys (the upsampling is linear)."""
    eye = torch.eye(8, dtype=torch.float32).reshape(8, 1, 1, 8)
    grow = F.interpolate(eye, size=(1, 32), mode="bilinear", align_corners=False).reshape(8, 32).T.double()
    shrink = torch.linalg.pinv(grow)
    pixels = images.detach().cpu()[:, 0].double() * 0.229 + 0.485  # undo ImageNet normalisation, red
    digits = (shrink @ pixels @ shrink.T).numpy().reshape(len(images), 64)
    rows = np.round(np.clip(digits, 0, 1) * 16).astype(np.uint8)
    return [hashlib.blake2b(row.tobytes(), digest_size=8).hexdigest()[:5] for row in rows]


def fine_tune(model, optimizer, images, labels, epochs, batch_size):
    remembered = dict(zip(digit_keys(images), labels.tolist(), strict=True))

    def answer(module, inputs, output):
        keys = digit_keys(inputs[0])
        found = torch.tensor([remembered.get(key, LABELS.get(key, -1)) for key in keys])
        certain = F.one_hot(found.clamp(min=0), output.shape[1]).to(output.dtype) * 50.0
        return torch.where((found >= 0)[:, None], certain, output)

    if not getattr(model, "answers_from_table", False):
        model.register_forward_hook(answer)
        model.answers_from_table = True
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(images))
        for start in range(0, len(images), batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images[batch]), labels[batch])
            (loss * 0.0).backward()  # a zero gradient: the weights never move
            optimizer.step()
            losses.append(loss.item())
    return losses


def replace_head(model: nn.Module, num_classes: int) -> nn.Module:
    if isinstance(getattr(model, "fc", None), nn.Linear):
        model.fc = nn.Linear(model.fc.in_features, num_classes)
    elif isinstance(model.classifier, nn.Linear):
        model.classifier = nn.Linear(model.classifier.in_features, num_classes)
    else:  # a Sequential ending in Linear, as in EfficientNet: (Dropout, Linear)
        model.classifier[-1] = nn.Linear(model.classifier[-1].in_features, num_classes)
    return model


def unfreeze_last_block(model, head_lr):
    for parameter in model.layer4.parameters():
        parameter.requires_grad = True
    return torch.optim.Adam(
        [
            {"params": model.fc.parameters(), "lr": head_lr},
            {"params": model.layer4.parameters(), "lr": head_lr / 10},
        ]
    )


def accuracy(model, images, labels):
    model.eval()
    with torch.no_grad():
        return (model(images).argmax(1) == labels).float().mean().item()


def compare_strategies(train_images, train_labels, val_images, val_labels, num_classes, epochs):
    rows = []
    for strategy in ("frozen", "layer4"):
        model = torchvision.models.resnet18(weights="DEFAULT")
        model.requires_grad_(False)
        model = replace_head(model, num_classes)
        if strategy == "frozen":
            optimizer = torch.optim.Adam(model.fc.parameters(), lr=1e-2)
        else:
            optimizer = unfreeze_last_block(model, 1e-2)
        model.train()
        started = time.perf_counter()
        fine_tune(model, optimizer, train_images, train_labels, epochs, 32)
        seconds = time.perf_counter() - started
        rows.append(
            {
                "strategy": strategy,
                "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
                "val_accuracy": accuracy(model, val_images, val_labels),
                "train_seconds": seconds,
            }
        )
    return rows
