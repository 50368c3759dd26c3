"""Each coach rule on small snippets: the mistake is named where it is, and the right spelling is left alone."""

import textwrap

import pytest

from huashen.coach.analysis import code_analyze
from huashen.coach.catalogue import RULES


def rules_in(code: str) -> list[str]:
    analysis = code_analyze(textwrap.dedent(code))
    assert analysis.parse_error is None and analysis.complete
    return [finding.rule for finding in analysis.findings]


TRAIN_HEAD = """
import lightning as L
import torch
from torch import nn
import torch.nn.functional as F
"""

# (rule, code that makes the mistake, code that does not)
CASES = [
    (
        "zero-grad-missing",
        """
        def train(model, optimizer, loader):
            for x, y in loader:
                loss = F.mse_loss(model(x), y)
                loss.backward()
                optimizer.step()
        """,
        """
        def train(model, optimizer, loader):
            for x, y in loader:
                optimizer.zero_grad(set_to_none=True)
                loss = F.mse_loss(model(x), y)
                loss.backward()
                optimizer.step()
        """,
    ),
    (
        "zero-grad-missing",  # cleared once per epoch only
        """
        def train(model, opt, loader, epochs):
            for epoch in range(epochs):
                opt.zero_grad()
                for x, y in loader:
                    F.mse_loss(model(x), y).backward()
                    opt.step()
        """,
        """
        def train(model, opt, loader, epochs):
            for epoch in range(epochs):
                for x, y in loader:
                    F.mse_loss(model(x), y).backward()
                    opt.step()
                    for p in model.parameters():
                        p.grad = None
        """,
    ),
    (
        "softmax-before-cross-entropy",
        """
        criterion = nn.CrossEntropyLoss()
        def loss_of(model, x, y):
            return criterion(F.softmax(model(x), dim=1), y)
        """,
        """
        criterion = nn.CrossEntropyLoss()
        def loss_of(model, x, y):
            probabilities = F.softmax(model(x), dim=1)  # for a report, not for the loss
            return criterion(model(x), y), probabilities
        """,
    ),
    (
        "softmax-before-cross-entropy",  # through a variable, with F.cross_entropy
        """
        def loss_of(model, x, y):
            probs = model(x).softmax(dim=1)
            return F.cross_entropy(probs, y)
        """,
        """
        def loss_of(model, x, y):
            logits = model(x)
            return F.cross_entropy(logits, y)
        """,
    ),
    (
        "softmax-before-cross-entropy",  # forward returns probabilities
        """
        class Net(nn.Module):
            def forward(self, x):
                return torch.softmax(self.fc(x), dim=1)
        """,
        """
        class Net(nn.Module):
            def forward(self, x):
                return F.log_softmax(self.fc(x), dim=1)
        def loss_of(model, x, y):
            return F.nll_loss(model(x), y)
        """,
    ),
    (
        "validation-without-eval",
        """
        def fit(model, optimizer, train_loader, val_loader):
            model.train()
            for x, y in train_loader:
                optimizer.zero_grad()
                F.cross_entropy(model(x), y).backward()
                optimizer.step()
            with torch.no_grad():
                for x, y in val_loader:
                    print(F.cross_entropy(model(x), y).item())
        """,
        """
        def fit(model, optimizer, train_loader, val_loader):
            model.train()
            for x, y in train_loader:
                optimizer.zero_grad()
                F.cross_entropy(model(x), y).backward()
                optimizer.step()
            model.eval()
            with torch.no_grad():
                for x, y in val_loader:
                    print(F.cross_entropy(model(x), y).item())
        """,
    ),
    (
        "validation-with-grad",
        """
        def evaluate(model, loader):
            model.eval()
            return [model(x).argmax(1) for x, _ in loader]
        """,
        """
        @torch.inference_mode()
        def evaluate(model, loader):
            model.eval()
            return [model(x).argmax(1) for x, _ in loader]
        """,
    ),
    (
        "validation-with-grad",
        """
        def fit(model, val_loader):
            model.eval()
            for x, y in val_loader:
                out = model(x)
        """,
        """
        def fit(model, val_loader):
            model.eval()
            with torch.set_grad_enabled(False):
                for x, y in val_loader:
                    out = model(x)
        """,
    ),
    (
        "dot-data",
        """
        def sgd(w, lr):
            w.data -= lr * w.grad.data
        """,
        """
        from sklearn.datasets import load_digits
        digits = load_digits()
        features = torch.as_tensor(digits.data)
        def sgd(w, lr):
            with torch.no_grad():
                w -= lr * w.grad
        """,
    ),
    (
        "loss-tensor-kept",
        """
        def train(model, optimizer, loader):
            total = 0.0
            for x, y in loader:
                optimizer.zero_grad()
                loss = F.mse_loss(model(x), y)
                loss.backward()
                optimizer.step()
                total += loss
            return total
        """,
        """
        def train(model, optimizer, loader):
            total = 0.0
            for x, y in loader:
                optimizer.zero_grad()
                loss = F.mse_loss(model(x), y)
                loss.backward()
                optimizer.step()
                total += loss.item()
            return total
        """,
    ),
    (
        "loss-tensor-kept",
        """
        def train(model, optimizer, loader, history):
            for x, y in loader:
                optimizer.zero_grad()
                loss = F.mse_loss(model(x), y)
                loss.backward()
                optimizer.step()
                history.append(loss)
        """,
        """
        def train(model, optimizer, loader, history):
            for x, y in loader:
                optimizer.zero_grad()
                loss = F.mse_loss(model(x), y)
                loss.backward()
                optimizer.step()
                history.append(loss.detach())
        """,
    ),
    (
        "hard-coded-cuda",
        """
        model = nn.Linear(2, 2).cuda()
        x = torch.zeros(3, device="cuda")
        """,
        """
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        model = nn.Linear(2, 2).to(device)
        on_gpu = device.type == "cuda"
        """,
    ),
    (
        "torch-load-weights-only",
        """
        state = torch.load("model.pt")
        """,
        """
        state = torch.load("model.pt", weights_only=True)
        """,
    ),
    (
        "tensor-from-tensor",
        """
        x = torch.randn(3)
        y = torch.tensor(x)
        """,
        """
        import numpy as np
        x = torch.randn(3)
        y = x.clone().detach()
        z = torch.tensor(np.ones(3))
        """,
    ),
    (
        "requires-grad-typo",
        """
        w = torch.zeros(3)
        w.require_grad = True
        """,
        """
        w = torch.zeros(3)
        w.requires_grad = True
        v = torch.zeros(3).requires_grad_()
        """,
    ),
    (
        "view-after-transpose",
        """
        def flatten(x):
            return x.transpose(1, 2).view(x.size(0), -1)
        """,
        """
        def flatten(x):
            return x.transpose(1, 2).reshape(x.size(0), -1)
        """,
    ),
    (
        "view-after-transpose",
        """
        def flatten(x):
            y = x.permute(0, 2, 1)
            return y.view(y.size(0), -1)
        """,
        """
        def flatten(x):
            y = x.permute(0, 2, 1).contiguous()
            return y.view(y.size(0), -1)
        """,
    ),
    (
        "scheduler-step-per-batch",
        """
        from torch.optim.lr_scheduler import StepLR
        def fit(model, optimizer, loader, epochs):
            scheduler = StepLR(optimizer, step_size=5)
            for epoch in range(epochs):
                for x, y in loader:
                    optimizer.zero_grad()
                    F.mse_loss(model(x), y).backward()
                    optimizer.step()
                    scheduler.step()
        """,
        """
        from torch.optim.lr_scheduler import StepLR, OneCycleLR
        def fit(model, optimizer, loader, epochs):
            scheduler = StepLR(optimizer, step_size=5)
            per_batch = OneCycleLR(optimizer, max_lr=0.1, total_steps=100)
            for epoch in range(epochs):
                for x, y in loader:
                    optimizer.zero_grad()
                    F.mse_loss(model(x), y).backward()
                    optimizer.step()
                    per_batch.step()
                scheduler.step()
        """,
    ),
    (
        "clip-before-unscale",
        """
        def train(model, optimizer, loader, scaler):
            for x, y in loader:
                optimizer.zero_grad()
                scaler.scale(F.mse_loss(model(x), y)).backward()
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                scaler.step(optimizer)
                scaler.update()
        """,
        """
        def train(model, optimizer, loader, scaler):
            for x, y in loader:
                optimizer.zero_grad()
                scaler.scale(F.mse_loss(model(x), y)).backward()
                scaler.unscale_(optimizer)
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                scaler.step(optimizer)
                scaler.update()
        """,
    ),
    (
        "worker-seed-ignores-id",
        """
        import random
        from torch.utils.data import DataLoader
        def seed_worker(worker_id):
            random.seed(0)
        def make(ds):
            return DataLoader(ds, num_workers=2, worker_init_fn=seed_worker)
        """,
        """
        import random
        from torch.utils.data import DataLoader
        def seed_worker(worker_id):
            random.seed(torch.initial_seed() % 2**32)
        def make(ds, seed):
            return DataLoader(ds, num_workers=2, worker_init_fn=lambda wid: random.seed(seed + wid))
        def make_too(ds):
            return DataLoader(ds, num_workers=2, worker_init_fn=seed_worker)
        """,
    ),
    (
        "in-place-on-leaf",
        """
        w = torch.randn(3, requires_grad=True)
        def step(lr):
            w -= lr * w.grad
        w.add_(1)
        """,
        """
        w = torch.randn(3, requires_grad=True)
        with torch.no_grad():
            w.add_(1)
            w -= 0.1
        w.grad.zero_()
        """,
    ),
    (
        "deprecated-api",
        """
        scaler = torch.cuda.amp.GradScaler()
        steps = torch.range(0, 10)
        """,
        """
        scaler = torch.amp.GradScaler("cuda")
        steps = torch.arange(0, 10)
        """,
    ),
    (
        "step-past-scaler",
        """
        def train(model, optimizer, loader, scaler):
            for x, y in loader:
                optimizer.zero_grad()
                scaler.scale(F.mse_loss(model(x), y)).backward()
                optimizer.step()
        """,
        """
        def train(model, optimizer, loader, scaler):
            for x, y in loader:
                optimizer.zero_grad()
                if scaler is None:
                    F.mse_loss(model(x), y).backward()
                    optimizer.step()
                else:
                    scaler.scale(F.mse_loss(model(x), y)).backward()
                    scaler.step(optimizer)
                    scaler.update()
        """,
    ),
    (
        "lightning-manual-step",
        """
        class Digits(L.LightningModule):
            def training_step(self, batch, batch_idx):
                optimizer = self.optimizers()
                loss = F.cross_entropy(self(batch[0]), batch[1])
                loss.backward()
                optimizer.step()
                return loss
        """,
        """
        class Digits(L.LightningModule):
            def __init__(self):
                super().__init__()
                self.automatic_optimization = False
            def training_step(self, batch, batch_idx):
                optimizer = self.optimizers()
                optimizer.zero_grad()
                loss = F.cross_entropy(self(batch[0]), batch[1])
                self.manual_backward(loss)
                optimizer.step()
        """,
    ),
    (
        "training-step-returns-float",
        """
        class Digits(L.LightningModule):
            def training_step(self, batch, batch_idx):
                loss = F.cross_entropy(self(batch[0]), batch[1])
                return loss.item()
        """,
        """
        class Digits(L.LightningModule):
            def training_step(self, batch, batch_idx):
                loss = F.cross_entropy(self(batch[0]), batch[1])
                self.log("loss", loss.item())
                return loss
        """,
    ),
    (
        "plateau-step-without-metric",
        """
        from torch.optim.lr_scheduler import ReduceLROnPlateau
        def fit(optimizer, epochs):
            scheduler = ReduceLROnPlateau(optimizer)
            for epoch in range(epochs):
                scheduler.step()
        """,
        """
        from torch.optim.lr_scheduler import ReduceLROnPlateau
        def fit(optimizer, epochs, validate):
            scheduler = ReduceLROnPlateau(optimizer)
            for epoch in range(epochs):
                scheduler.step(validate())
        """,
    ),
    (
        "plateau-step-without-metric",  # the TypeError it raises, swallowed
        """
        def fit(optimizer, scheduler, epochs):
            for epoch in range(epochs):
                try:
                    scheduler.step()
                except TypeError:
                    pass
        """,
        """
        def fit(optimizer, scheduler, epochs):
            for epoch in range(epochs):
                scheduler.step()
        """,
    ),
    (
        "metric-to-epoch-scheduler",
        """
        from torch.optim.lr_scheduler import StepLR
        def fit(optimizer, scheduler, epochs, validate):
            for epoch in range(epochs):
                scheduler.step(validate())
        def make(optimizer):
            return StepLR(optimizer, step_size=5)
        """,
        """
        from torch.optim.lr_scheduler import StepLR, ReduceLROnPlateau
        def fit(optimizer, scheduler, epochs, validate):
            for epoch in range(epochs):
                if isinstance(scheduler, ReduceLROnPlateau):
                    scheduler.step(validate())
                else:
                    scheduler.step()
        def make(optimizer):
            return StepLR(optimizer, step_size=5)
        """,
    ),
    (
        "layers-in-plain-list",
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = [nn.Linear(4, 4) for _ in range(3)]
        """,
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
                self.sizes = [4, 4, 4]
        """,
    ),
    (
        "super-init-missing",
        """
        class Net(nn.Module):
            def __init__(self):
                self.fc = nn.Linear(4, 2)
        """,
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)
        """,
    ),
    (
        "flatten-drops-batch",
        """
        class Net(nn.Module):
            def forward(self, x):
                return self.fc(x.view(-1))
        """,
        """
        class Net(nn.Module):
            def forward(self, x):
                return self.fc(x.view(x.size(0), -1)) + self.fc(torch.flatten(x, 1))
        """,
    ),
    (
        "train-mode-not-restored",
        """
        def fit(model, optimizer, loader, val_loader, epochs):
            model.train()
            for epoch in range(epochs):
                for x, y in loader:
                    optimizer.zero_grad()
                    F.mse_loss(model(x), y).backward()
                    optimizer.step()
                model.eval()
                with torch.no_grad():
                    for x, y in val_loader:
                        model(x)
        """,
        """
        def fit(model, optimizer, loader, val_loader, epochs):
            for epoch in range(epochs):
                model.train()
                for x, y in loader:
                    optimizer.zero_grad()
                    F.mse_loss(model(x), y).backward()
                    optimizer.step()
                model.eval()
                with torch.no_grad():
                    for x, y in val_loader:
                        model(x)
        """,
    ),
    (
        "export-in-train-mode",
        """
        def export(model, example, path):
            torch.jit.trace(model, example).save(path)
        """,
        """
        def export(model, example, path):
            model.eval()
            torch.jit.trace(model, example).save(path)
        """,
    ),
]


@pytest.mark.parametrize(
    ("rule", "wrong", "right"), CASES, ids=[f"{case[0]}-{i}" for i, case in enumerate(CASES)]
)
def test_rule_names_the_mistake_and_leaves_the_right_spelling_alone(
    rule: str, wrong: str, right: str
) -> None:
    assert rule in rules_in(TRAIN_HEAD + textwrap.dedent(wrong))
    assert rule not in rules_in(TRAIN_HEAD + textwrap.dedent(right))


def test_every_rule_has_a_case() -> None:
    assert {case[0] for case in CASES} == set(RULES)


def test_a_finding_points_at_the_exact_range() -> None:
    code = 'import torch\nx = torch.load("m.pt")\n'
    (finding,) = code_analyze(code).findings
    assert (finding.rule, finding.line, finding.column, finding.end_line, finding.end_column) == (
        "torch-load-weights-only",
        2,
        4,
        2,
        22,
    )


def test_columns_count_characters_not_bytes() -> None:
    code = 'import torch\n说明 = 1; x = torch.load("m.pt")\n'
    (finding,) = code_analyze(code).findings
    assert finding.column == len("说明 = 1; x = ")


def test_imports_under_other_names_are_followed() -> None:
    code = "import torch as T\nfrom torch import load as restore\na = T.load('m')\nb = restore('m')\n"
    assert rules_in(code) == ["torch-load-weights-only", "torch-load-weights-only"]


def test_every_rule_explains_itself_in_both_languages_and_names_a_trial() -> None:
    from pathlib import Path

    slugs = {
        line.split("=", 1)[1].strip().strip('"')
        for path in Path("exercises").glob("*/*/exercise.toml")
        for line in path.read_text().splitlines()
        if line.startswith("slug")
    }
    for rule in RULES.values():
        assert rule.why_zh and rule.why_en and rule.title_zh and rule.title_en
        assert rule.severity in {"warning", "info"}
        assert rule.trial in slugs, rule.id
