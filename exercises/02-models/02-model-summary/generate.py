"""hidden/expected.json for trial 2.2: the true summaries of the probe's models and of the fixed net.

Computed with forward hooks (not torchinfo), from the very builders the probe uses; the file is
committed and `python -m exercises.kit.generate --check` keeps it in step with probe.py.
"""

import importlib.util
import json
from pathlib import Path

import torch
from torch import nn


def load_probe(bundle):
    spec = importlib.util.spec_from_file_location("huashen_model_summary_probe", bundle / "probe.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fixed_net():
    """The repaired network of the statement: BrokenNet with nn.Linear(16 * 4 * 4, 120)."""
    return nn.Sequential(
        nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5),
            nn.ReLU(),
            nn.MaxPool2d(2),
        ),
        nn.Sequential(nn.Flatten(), nn.Linear(16 * 4 * 4, 120), nn.ReLU(), nn.Linear(120, 10)),
    )


def summary_of(probe, model, input_size):
    return {
        "total_params": sum(p.numel() for p in model.parameters()),
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "buffers": sum(b.numel() for b in model.buffers()),
        "layers": probe.leaf_layers(model, input_size),
    }


def generate(bundle: Path) -> None:
    probe = load_probe(bundle)
    torch.manual_seed(0)
    expected = {
        "models": {name: summary_of(probe, builder(), list(size)) for name, builder, size in probe.MODELS},
        "fixed": summary_of(probe, fixed_net(), [2, 1, 28, 28]),
    }
    (bundle / "hidden").mkdir(exist_ok=True)
    text = json.dumps(expected, sort_keys=True, separators=(",", ":")) + "\n"
    (bundle / "hidden" / "expected.json").write_text(text, encoding="utf-8")
