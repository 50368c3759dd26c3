# must fail: trainer-fit, optimizer-steps
"""Classic mistake: the module is a LightningModule, but train() still runs the old hand-written loop."""

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn


class DigitsModule(pl.LightningModule):
    def __init__(self, lr: float = 1e-2):
        super().__init__()
        self.lr = lr
        self.net = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_acc", (self(x).argmax(dim=1) == y).float().mean())

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def train(train_loader, val_loader, max_epochs):
    model = DigitsModule()
    optimizer = model.configure_optimizers()
    for _ in range(max_epochs):
        model.train()
        for batch_idx, batch in enumerate(train_loader):
            optimizer.zero_grad()
            model.training_step(batch, batch_idx).backward()
            optimizer.step()
    return model
