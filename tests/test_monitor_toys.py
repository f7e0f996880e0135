"""The monitor's mode-collapse rules on the toy mixtures: a G on one mode is flagged, a G that
covers every mode evenly is not (mean pairwise distances, fake vs real), and a G spread over a
few of the modes is flagged by the point-coverage rule (the share of a real batch near the
generated points), which the distance ratio misses."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganforge.data.toy import make_toy, toy_modes
from ganforge.errors import ConfigError
from ganforge.monitor import FailureMonitor, MonitorConfig, rules
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
    assert monitor.last_diversity["recall"] > 0.95


@pytest.mark.parametrize(("data", "modes"), [("ring8", 2), ("ring8", 3), ("grid25", 4),
                                             ("grid25", 10)])
def test_a_few_modes_are_flagged_by_coverage(data: str, modes: int) -> None:
    real = make_toy(data, 100, seed=1)
    fake = on_modes(data, np.arange(2000) % modes, seed=3)
    monitor = FailureMonitor()
    events = monitor.check_diversity(STEP, fake, real)
    assert [e.kind for e in events] == [MODE_COLLAPSE]
    assert monitor.last_diversity is not None
    assert monitor.last_diversity["ratio"] > 0.1  # the distance rule alone would stay silent
    assert monitor.last_diversity["recall"] < 0.5
    assert "near the generated points" in events[0].message


@pytest.mark.parametrize("data", ["ring8", "grid25"])
def test_recall_is_the_share_of_real_points_on_covered_modes(data: str) -> None:
    """Independent count: real points on the fake's modes (nearest centre) over all of them."""
    centres, _ = toy_modes(data)
    real = make_toy(data, 400, seed=5)
    covered = np.arange(len(centres))[::3]
    fake = on_modes(data, covered[np.arange(2000) % len(covered)], seed=4)
    nearest = np.argmin(((real.numpy()[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
    expected = float(np.isin(nearest, covered).mean())
    assert rules.point_recall(fake, real, 5, 400) == pytest.approx(expected, abs=0.03)


def test_images_do_not_get_the_coverage_rule() -> None:
    gen = torch.Generator().manual_seed(0)
    real, fake = torch.rand(64, 1, 8, 8, generator=gen), torch.rand(64, 1, 8, 8, generator=gen)
    monitor = FailureMonitor()
    assert monitor.check_diversity(STEP, fake, real) == []
    assert monitor.last_diversity is not None and "recall" not in monitor.last_diversity


def test_coverage_rule_can_be_turned_off_and_rejects_bad_thresholds() -> None:
    real = make_toy("ring8", 100, seed=1)
    fake = on_modes("ring8", np.arange(2000) % 2, seed=3)
    assert FailureMonitor(MonitorConfig(coverage_min=0)).check_diversity(STEP, fake, real) == []
    with pytest.raises(ConfigError, match="coverage_min"):
        MonitorConfig(coverage_min=1.5)
    with pytest.raises(ConfigError, match="coverage_k"):
        MonitorConfig(coverage_k=0)
