"""Shared test set-up: real datasets from ../shared/data, quiet small runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if "GANFORGE_DATA" not in os.environ and SHARED_DATA.is_dir():
    os.environ["GANFORGE_DATA"] = str(SHARED_DATA)
os.environ.setdefault("CI", "1")  # no progress bars in test output
# Tests train tiny models: one thread avoids thread-synchronisation overhead, which dominates
# for small ops and grows badly when the two cores are shared.
torch.set_num_threads(1)
os.environ["OMP_NUM_THREADS"] = "1"  # and training's --threads auto keeps it (train/accel.py)

#: Options that make any preset train in well under a second per step on a CPU.
TINY = {"width": 8, "hidden": 16, "latent_dim": 8, "batch_size": 16, "grid_size": 16,
        "log_every": 1000, "monitor_every": 0}


@pytest.fixture
def tiny() -> dict[str, object]:
    """Small-model options for quick training runs."""
    return dict(TINY)


def gan_presets() -> list[str]:
    """Presets of models that draw from noise (translation models take images; their tests are
    tests/test_translation_*.py)."""
    from ganforge.configure import preset_values
    from ganforge.presets import PRESETS
    from ganforge.variants import VARIANTS

    return [name for name in PRESETS.names()
            if not hasattr(VARIANTS.get(preset_values(name)["variant"]), "translate")]


def train_and_interrupt(model: str, steps: int, tmp_path: Path,
                        monkeypatch: pytest.MonkeyPatch, **opts: object) -> None:
    """Train `model` for `steps` into tmp_path/full, and again into tmp_path/cut stopped by a
    Ctrl-C during its 3rd step (saved at step 3), for the bitwise-resume tests to resume."""
    import signal

    import ganforge
    from ganforge.api import make_config
    from ganforge.train import session
    from ganforge.train.trainer import Trainer

    ganforge.train(model, steps=steps, out=str(tmp_path / "full"), quiet=True, **opts)
    original = Trainer.train_step

    def interrupt_at_step_3(self: Trainer, batch):  # noqa: ANN001, ANN202
        stats = original(self, batch)
        if self.step == 2:
            os.kill(os.getpid(), signal.SIGINT)
        return stats

    monkeypatch.setattr(Trainer, "train_step", interrupt_at_step_3)
    cut = session.start(make_config(model, steps=steps, out=str(tmp_path / "cut"), **opts),
                        quiet=True)
    monkeypatch.setattr(Trainer, "train_step", original)
    assert cut.status == "interrupted" and cut.step == 3


def flat_state(tree: object, prefix: str = "") -> dict[str, object]:
    """A nested state (dicts, lists, tuples) as {dotted.path: leaf}, to compare leaf by leaf."""
    if isinstance(tree, dict):
        return {k: v for key, sub in tree.items()
                for k, v in flat_state(sub, f"{prefix}{key}.").items()}
    if isinstance(tree, (list, tuple)):
        return {k: v for i, sub in enumerate(tree)
                for k, v in flat_state(sub, f"{prefix}{i}.").items()}
    return {prefix: tree}


def same_leaf(a: object, b: object) -> bool:
    """Two leaves of a state are equal: tensors bit for bit, anything else by ==."""
    return torch.equal(a, b) if isinstance(a, torch.Tensor) else bool(a == b)
