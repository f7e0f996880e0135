"""The monitor's mode-collapse rule on the toy mixtures: a G on one mode is flagged, a G that
covers every mode evenly is not (the rule compares mean pairwise distances, fake vs real)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganforge.data.toy import make_toy, toy_modes
from ganforge.monitor import FailureMonitor
from ganforge.monitor.events import MODE_COLLAPSE

STEP = 5000  # past the monitor's warm-up


def on_modes(data: str, which: np.ndarray, seed: int) -> torch.Tensor:
    """Points drawn from the given modes of a toy mixture, at the mixture's own std."""
    centres, std = toy_modes(data)
    rng = np.random.default_rng(seed)
    pts = centres[which] + std * rng.standard_normal((len(which), 2))
    return torch.as_tensor(pts, dtype=torch.float32)


@pytest.mark.parametrize("data", ["ring8", "grid25"])
def test_one_mode_is_flagged(data: str) -> None:
    real = make_toy(data, 100, seed=1)  # a training batch
    for mode in (0, 3):
        fake = on_modes(data, np.full(2000, mode), seed=mode)  # the fixed-noise samples
        events = FailureMonitor().check_diversity(STEP, fake, real)
        assert [e.kind for e in events] == [MODE_COLLAPSE]


@pytest.mark.parametrize("data", ["ring8", "grid25"])
def test_every_mode_evenly_is_not_flagged(data: str) -> None:
    k = len(toy_modes(data)[0])
    real = make_toy(data, 100, seed=1)
    fake = on_modes(data, np.arange(2000) % k, seed=2)
    monitor = FailureMonitor()
    assert monitor.check_diversity(STEP, fake, real) == []
    assert monitor.last_diversity is not None and monitor.last_diversity["ratio"] > 0.8
