"""The monitor's mode-collapse rules on the toy mixtures: a G on one mode is flagged, a G that
covers every mode evenly is not (mean pairwise distances, fake vs real), and a G spread over
some of the modes is flagged by the dropped-modes rule for point data (clusters of the real
points that get almost no samples), which the distance ratio misses."""

from __future__ import annotations

from pathlib import Path

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
    assert monitor.last_diversity["dropped_modes"] == 0
    assert monitor.last_diversity["modes"] == k  # the clusters found are the mixture's modes



@pytest.mark.parametrize(("data", "modes"), [("ring8", 2), ("ring8", 7), ("grid25", 4),
                                             ("grid25", 24)])
def test_some_modes_only_are_flagged(data: str, modes: int) -> None:
    k = len(toy_modes(data)[0])
    real = make_toy(data, 2000, seed=1)  # the figures' real points, as the trainer passes them
    fake = on_modes(data, np.arange(2000) % modes, seed=3)
    monitor = FailureMonitor(MonitorConfig(mode_patience=1))
    events = monitor.check_diversity(STEP, fake, real)
    assert [e.kind for e in events] == [MODE_COLLAPSE]
    assert monitor.last_diversity is not None
    assert monitor.last_diversity["ratio"] > 0.1  # the distance rule alone would stay silent
    assert monitor.last_diversity["dropped_modes"] == k - modes
    assert f"{k - modes} of the data's {k} clusters" in events[0].message


@pytest.mark.parametrize("data", ["ring8", "grid25"])
def test_imprecise_samples_on_every_mode_are_not_a_collapse(data: str) -> None:
    """Each sample 6 standard deviations off its mode, every mode equally often: poor quality,
    but nothing dropped (off-mode samples count for their nearest mode)."""
    centres, std = toy_modes(data)
    rng = np.random.default_rng(0)
    angle = rng.uniform(0, 2 * np.pi, 2000)
    off = 6 * std * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    fake = torch.as_tensor(centres[np.arange(2000) % len(centres)] + off, dtype=torch.float32)
    monitor = FailureMonitor()
    assert monitor.check_diversity(STEP, fake, make_toy(data, 2000, seed=1)) == []
    assert monitor.last_diversity is not None and monitor.last_diversity["dropped_modes"] == 0


def test_a_mode_with_a_fifth_of_its_share_is_kept_and_under_it_dropped() -> None:
    """Mode 0 gets 30 of 2000 samples (expected 250): dropped under share 0.2 (50), kept at 0.1
    (25); the count is PacGAN's one-fifth rule, checked against numbers worked out by hand."""
    which = np.concatenate([np.zeros(30, int), 1 + np.arange(1970) % 7])
    fake = on_modes("ring8", which, seed=6)
    real = make_toy("ring8", 2000, seed=1)
    dropped, modes, mass = rules.dropped_modes(fake, real, 0.2)
    assert (dropped, modes) == (1, 8) and mass == pytest.approx(1 / 8, abs=0.03)
    assert rules.dropped_modes(fake, real, 0.1)[0] == 0


def test_images_do_not_get_the_dropped_modes_rule() -> None:
    gen = torch.Generator().manual_seed(0)
    real, fake = torch.rand(64, 1, 8, 8, generator=gen), torch.rand(64, 1, 8, 8, generator=gen)
    monitor = FailureMonitor()
    assert monitor.check_diversity(STEP, fake, real) == []
    assert monitor.last_diversity is not None and "modes" not in monitor.last_diversity


def test_dropped_modes_rule_can_be_turned_off_and_rejects_bad_shares() -> None:
    real = make_toy("ring8", 2000, seed=1)
    fake = on_modes("ring8", np.arange(2000) % 2, seed=3)
    assert FailureMonitor(MonitorConfig(mode_share=0)).check_diversity(STEP, fake, real) == []
    with pytest.raises(ConfigError, match="mode_share"):
        MonitorConfig(mode_share=1.5)


RUNS = Path(__file__).parent / "data" / "toy_runs"


@pytest.mark.parametrize(("name", "dropped"), [("ring8_gan", 1), ("grid25_gan", 9),
                                               ("grid25_gan-toy", 14), ("ring8_pack4", 0),
                                               ("ring8_pacgan-toy", 0)])
def test_the_benchmark_runs_final_samples(name: str, dropped: int) -> None:
    """The final G's samples of benchmarks/toy_modes.py's runs (seed 0, 2,000 points, from the
    runs of the morning of 2026-12-01 with 1 torch thread): the vanilla GAN runs that collapse
    are flagged, the PacGAN runs that cover all 8 modes are not
    (benchmarks/results/toy_monitor.md replays every run and snapshot)."""
    data = name.split("_")[0]
    fake = torch.as_tensor(np.load(RUNS / f"{name}.npy"))
    monitor = FailureMonitor()
    real = make_toy(data, 2000, seed=1)
    events = [e for i in range(5) for e in monitor.check_diversity(STEP + 200 * i, fake, real)]
    assert [e.kind for e in events] == ([MODE_COLLAPSE] if dropped else [])
    assert monitor.last_diversity is not None
    assert monitor.last_diversity["dropped_modes"] == pytest.approx(dropped, abs=1)


def test_modes_dropped_check_after_check_are_reported_once_patience_runs_out() -> None:
    real = make_toy("ring8", 2000, seed=1)
    fake = on_modes("ring8", np.arange(2000) % 3, seed=3)
    monitor = FailureMonitor(MonitorConfig(mode_patience=3))
    found = [monitor.check_diversity(STEP + 200 * i, fake, real) for i in range(3)]
    assert [len(f) for f in found] == [0, 0, 1]


def test_a_lasting_collapse_is_said_once_and_again_when_the_count_changes() -> None:
    """Checks every 200 steps for 6,000 steps (six cooldowns): on 3 of 8 modes throughout, one
    report; then on 2 (6 dropped instead of 5), a second; after a check on every mode and a
    collapse back onto 3, a third once the patience runs out again."""
    real = make_toy("ring8", 2000, seed=1)
    three = on_modes("ring8", np.arange(2000) % 3, seed=3)
    two = on_modes("ring8", np.arange(2000) % 2, seed=4)
    every = on_modes("ring8", np.arange(2000) % 8, seed=5)
    monitor = FailureMonitor()

    def steps(fake: torch.Tensor, n: int, start: int) -> list[int]:
        return [e.step for i in range(n)
                for e in monitor.check_diversity(start + 200 * i, fake, real)]

    assert steps(three, 30, STEP) == [STEP + 800]
    assert steps(two, 10, STEP + 6000) == [STEP + 6000]
    assert steps(every, 1, STEP + 8000) == []
    assert steps(three, 10, STEP + 8200) == [STEP + 8200 + 800]
    resumed = FailureMonitor()
    resumed.load_state_dict(monitor.state_dict())
    assert [resumed.check_diversity(STEP + 10200 + 200 * i, three, real) for i in range(3)] == [
        [], [], []]


def test_a_g_picking_modes_up_check_by_check_is_not_flagged() -> None:
    """Early training: 2, 3, ... 8 modes covered at successive checks (6 .. 0 dropped)."""
    real = make_toy("ring8", 2000, seed=1)
    monitor = FailureMonitor()
    for i, modes in enumerate(range(2, 9)):
        fake = on_modes("ring8", np.arange(2000) % modes, seed=i)
        assert monitor.check_diversity(STEP + 200 * i, fake, real) == []


def test_the_patience_window_survives_a_resume() -> None:
    real = make_toy("ring8", 2000, seed=1)
    fake = on_modes("ring8", np.arange(2000) % 3, seed=3)
    first = FailureMonitor()
    for i in range(4):
        assert first.check_diversity(STEP + 200 * i, fake, real) == []
    resumed = FailureMonitor()
    resumed.load_state_dict(first.state_dict())
    assert len(resumed.check_diversity(STEP + 800, fake, real)) == 1


def test_the_clusters_follow_the_real_points_they_were_found_on() -> None:
    """The monitor keeps the clusters of the real points between checks; other real points get
    their own."""
    monitor = FailureMonitor()
    for data, k in (("ring8", 8), ("grid25", 25), ("ring8", 8)):
        fake = on_modes(data, np.arange(2000) % k, seed=k)
        assert monitor.check_diversity(STEP, fake, make_toy(data, 2000, seed=1)) == []
        assert monitor.last_diversity is not None and monitor.last_diversity["modes"] == k
