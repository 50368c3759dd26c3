# must fail: optimizer-steps
"""Subtle mistake: the optimizer is built in __init__ before the new head is attached, so it holds only
the body's parameters and the head keeps its random weights (accuracy can still look good)."""

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn


class DigitsModule(pl.LightningModule):
    def __init__(self, lr: float = 1e-2):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU())
        self.optimizer = torch.optim.Adam(self.parameters(), lr=lr)
        self.head = nn.Linear(64, 10)  # attached after the optimizer was built

    def forward(self, x):
        return self.head(self.body(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_acc", (self(x).argmax(dim=1) == y).float().mean())

    def configure_optimizers(self):
        return self.optimizer


def train(train_loader, val_loader, max_epochs):
    model = DigitsModule()
    trainer = pl.Trainer(
        max_epochs=max_epochs,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, train_loader, val_loader)
    return model
