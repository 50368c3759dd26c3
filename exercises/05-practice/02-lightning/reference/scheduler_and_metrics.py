"""Another valid refactor: a CNN on the 8x8 image, a dict from training_step, an LR scheduler,
validation accuracy accumulated over the epoch and logged in on_validation_epoch_end."""

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn


class DigitsCNN(pl.LightningModule):
    def __init__(self, lr=3e-3, epochs=6):
        super().__init__()
        self.lr, self.epochs = lr, epochs
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.Flatten(),
        )  # fmt: skip
        self.head = nn.Linear(32 * 4 * 4, 10)
        self.correct = 0
        self.seen = 0

    def forward(self, x):
        return self.head(self.features(x.view(-1, 1, 8, 8)))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        return {"loss": loss}

    def on_validation_epoch_start(self):
        self.correct, self.seen = 0, 0

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.correct += int((self(x).argmax(dim=1) == y).sum())
        self.seen += len(y)

    def on_validation_epoch_end(self):
        self.log("val_acc", self.correct / max(self.seen, 1))

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.lr)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.epochs)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}


def train(train_loader, val_loader, max_epochs):
    pl.seed_everything(7, verbose=False)
    model = DigitsCNN(epochs=max_epochs)
    trainer = pl.Trainer(max_epochs=max_epochs, logger=False, enable_checkpointing=False)
    trainer.fit(model, train_dataloaders=train_loader, val_dataloaders=val_loader)
    return model
