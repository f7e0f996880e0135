"""Unit tests of the training-failure monitor on synthetic loss streams and sample batches."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

if importlib.util.find_spec("ganforge") is None:  # not installed: run from the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ganforge.errors import ConfigError  # noqa: E402
from ganforge.monitor import FailureEvent, FailureMonitor, MonitorConfig  # noqa: E402

ONSET = 1000  # step where the synthetic runs turn bad
CFG = MonitorConfig()


def healthy_stats(rng: np.random.Generator, steps: int, strong_d: bool = False) -> list[dict]:
    """Realistic healthy BCE-GAN stats: noisy, autocorrelated, with occasional spikes."""
    t = np.arange(steps)
    wobble = np.zeros(steps)
    for i in range(1, steps):  # AR(1) drift so neighbouring steps are correlated like real runs
        wobble[i] = 0.98 * wobble[i - 1] + rng.normal(0, 0.04)
    spikes = rng.random(steps) < 0.01
    if strong_d:  # D clearly ahead but not winning outright: still healthy
        d_loss = 0.35 + 0.5 * wobble + rng.normal(0, 0.08, steps) + spikes * 1.0
        g_loss = 3.0 + 0.6 * np.sin(t / 300) - wobble + rng.normal(0, 0.4, steps)
        d_real = 0.85 + 0.1 * wobble + rng.normal(0, 0.03, steps)
        d_fake = 0.12 - 0.1 * wobble + rng.normal(0, 0.03, steps)
        lo, hi = (0.15, 1.5), (1.5, 5.0)
    else:
        d_loss = 0.85 + 0.3 * np.sin(t / 150) + wobble + rng.normal(0, 0.15, steps) + spikes * 0.5
        g_loss = 1.0 + 1.5 * t / steps - wobble + rng.normal(0, 0.35, steps) + spikes * 1.0
        d_real = 0.7 + 0.05 * wobble + rng.normal(0, 0.04, steps)
        d_fake = 0.3 - 0.05 * wobble + rng.normal(0, 0.04, steps)
        lo, hi = (0.3, 1.4), (0.7, 3.0)
    return [
        {
            "d_loss": float(np.clip(d_loss[i], *lo)),
            "g_loss": float(np.clip(g_loss[i], *hi)),
            "d_real": float(np.clip(d_real[i], 0.05, 0.95)),
            "d_fake": float(np.clip(d_fake[i], 0.05, 0.95)),
        }
        for i in range(steps)
    ]


def d_wins_stats(rng: np.random.Generator, steps: int, probs: bool = True) -> list[dict]:
    """Healthy until ONSET, then D loss 0.0000 and G loss rising towards 30."""
    stats = healthy_stats(rng, steps)
    for i in range(ONSET, steps):
        ramp = min(1.0, (i - ONSET) / 300)
        stats[i] = {"d_loss": float(abs(rng.normal(0, 2e-5))), "g_loss": 4.0 + 26.0 * ramp}
        if probs:
            stats[i] |= {"d_real": 0.9999, "d_fake": 1e-5}
    return stats


def run(monitor: FailureMonitor, stats: list[dict], start: int = 0) -> list[FailureEvent]:
    """Feed stats[start:] to the monitor (the index is the step) and collect all events."""
    events: list[FailureEvent] = []
    for step in range(start, len(stats)):
        events += monitor.update(step, stats[step])
    return events


def collapsed_batch(n: int = 64, noise: float = 1e-4) -> torch.Tensor:
    """One image repeated n times, plus tiny noise."""
    gen = torch.Generator().manual_seed(1)
    point = torch.rand(1, 3, 16, 16, generator=gen) * 2 - 1
    return point + noise * torch.randn(n, 3, 16, 16, generator=gen)


def real_batch(n: int = 64, seed: int = 0) -> torch.Tensor:
    """Diverse stand-in for a real batch in [-1, 1]."""
    return torch.rand(n, 3, 16, 16, generator=torch.Generator().manual_seed(seed)) * 2 - 1


# --- discriminator wins -----------------------------------------------------------------------


def test_d_wins_detected_soon_after_onset_with_advice():
    events = run(FailureMonitor(), d_wins_stats(np.random.default_rng(0), 2000))
    assert [e.kind for e in events] == ["d_wins"]
    event = events[0]
    assert ONSET < event.step <= ONSET + CFG.window + CFG.patience
    assert not event.fatal
    advice = " ".join(event.advice)
    assert "WGAN-GP" in advice and "ganforge train wgan-gp" in advice
    assert "label smoothing" in advice and "--label-smoothing 0.9" in advice
    assert "D(real)=1.000" in event.message and "D(fake)=0.000" in event.message
    text = event.format()
    assert text.startswith(f"[ganforge monitor] step {event.step}: the discriminator is winning")
    assert "\n  try: use the WGAN-GP loss" in text


def test_the_classic_course_log_is_flagged():
    """`D loss 0.0000, G loss 30.7` held for a window, with no D probabilities reported."""
    monitor = FailureMonitor()
    events = run(monitor, [{"d_loss": 0.0, "g_loss": 30.7}] * 800)
    assert [e.kind for e in events] == ["d_wins"]
    assert events[0].step == CFG.warmup + CFG.patience - 1
    assert "0.0000" in events[0].message and "30.70" in events[0].message


def test_d_wins_from_losses_only():
    """The trainer stops reporting d_real/d_fake at ONSET: their stale values must not count."""
    events = run(FailureMonitor(), d_wins_stats(np.random.default_rng(1), 2000, probs=False))
    assert len(events) == 1 and events[0].kind == "d_wins"
    assert ONSET < events[0].step <= ONSET + CFG.window + CFG.patience


def test_d_wins_when_g_loss_is_reported_only_every_fifth_step():
    """n_critic=5 style logging: D stats every step, G loss only on generator steps."""
    stats = d_wins_stats(np.random.default_rng(7), 2000)
    for i, entry in enumerate(stats):
        if i % 5:
            del entry["g_loss"]
    events = run(FailureMonitor(), stats)
    assert [e.kind for e in events] == ["d_wins"]
    assert ONSET < events[0].step <= ONSET + CFG.window + CFG.patience


@pytest.mark.parametrize(
    "override",
    [{"d_loss": 0.2}, {"g_loss": 0.4}, {"d_real": 0.8}, {"d_fake": 0.2}],
    ids=["d_loss_not_low", "g_loss_low_flat", "d_real_not_high", "d_fake_not_low"],
)
def test_every_d_wins_criterion_is_required(override):
    winning = {"d_loss": 0.001, "g_loss": 9.0, "d_real": 0.999, "d_fake": 0.001}
    assert len(run(FailureMonitor(), [winning] * 800)) == 1
    assert run(FailureMonitor(), [winning | override] * 800) == []


def test_growing_g_loss_counts_even_below_the_high_level():
    stats = [{"d_loss": 0.01, "g_loss": 1.0 + 3.0 * max(0, i - 600) / 200} for i in range(900)]
    events = run(FailureMonitor(), stats)
    assert [e.kind for e in events] == ["d_wins"]
    assert 700 < events[0].step < 800  # G loss still below g_loss_high: growth alone counts


# --- NaN / Inf --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [("g_loss", float("nan")), ("d_loss", float("inf")), ("grad_norm", float("-inf"))],
)
def test_nonfinite_stat_is_fatal_at_that_exact_step(key, value):
    stats = healthy_stats(np.random.default_rng(2), 1500)
    stats[737] = stats[737] | {key: value}
    events = run(FailureMonitor(), stats)
    assert len(events) == 1
    event = events[0]
    assert (event.kind, event.step, event.fatal) == ("nan", 737, True)
    assert key in event.message
    assert any("learning rate" in a for a in event.advice)
    assert any("data range" in a for a in event.advice)
    assert "(fatal)" in event.format()


def test_nan_reported_even_during_warmup_and_as_tensor():
    monitor = FailureMonitor()
    events = monitor.update(3, {"d_loss": torch.tensor(float("nan")), "g_loss": 1.0})
    assert [(e.kind, e.step) for e in events] == [("nan", 3)]


def test_nan_step_does_not_poison_the_windows():
    monitor = FailureMonitor()
    run(monitor, healthy_stats(np.random.default_rng(3), 600))
    monitor.update(600, {"d_loss": float("nan"), "g_loss": float("nan")})
    assert all(v is None or np.isfinite(v) for w in monitor.windows.values() for v in w)


# --- mode collapse ----------------------------------------------------------------------------


@pytest.mark.parametrize("noise", [0.0, 1e-4])
def test_identical_fake_samples_are_a_collapse(noise):
    monitor = FailureMonitor()
    events = monitor.check_diversity(3000, collapsed_batch(noise=noise), real_batch())
    assert [(e.kind, e.step, e.fatal) for e in events] == [("mode_collapse", 3000, False)]
    assert monitor.last_diversity is not None and monitor.last_diversity["ratio"] < 0.01
    assert "ratio" in events[0].message
    assert any("--minibatch-disc" in a for a in events[0].advice)


def test_diverse_fake_is_not_a_collapse():
    monitor = FailureMonitor()
    healthy_fake = 0.6 * real_batch(seed=5)  # smoother than real data, but every sample differs
    assert monitor.check_diversity(3000, healthy_fake, real_batch()) == []
    assert monitor.check_diversity(3100, real_batch(seed=6), real_batch()) == []
    assert 0.5 < monitor.last_diversity["ratio"] < 1.5


def test_collapse_not_checked_during_warmup_and_needs_two_samples():
    monitor = FailureMonitor()
    assert monitor.check_diversity(10, collapsed_batch(), real_batch()) == []
    with pytest.raises(ValueError, match="at least 2 samples"):
        monitor.check_diversity(3000, collapsed_batch(n=1), real_batch())


def test_nonfinite_samples_are_fatal():
    fake = real_batch()
    fake[3, 0, 0, 0] = float("nan")
    events = FailureMonitor().check_diversity(20, fake, real_batch())
    assert [(e.kind, e.fatal) for e in events] == [("nan", True)]


# --- healthy runs and non-probabilistic losses ------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("strong_d", [False, True])
def test_healthy_runs_report_nothing(seed, strong_d):
    rng = np.random.default_rng(seed)
    monitor = FailureMonitor()
    events = run(monitor, healthy_stats(rng, 5000, strong_d=strong_d))
    for step in range(CFG.warmup, 5000, 500):
        fake = 0.5 * real_batch(seed=seed * 100 + step) + 0.1 * real_batch(seed=step + 1)
        events += monitor.check_diversity(step, fake, real_batch(seed=step))
    assert events == []
    assert monitor.summary() == {"d_wins": 0, "nan": 0, "mode_collapse": 0}


def test_non_probabilistic_skips_d_wins_but_catches_nan_and_collapse():
    monitor = FailureMonitor(probabilistic=False)
    stats = d_wins_stats(np.random.default_rng(4), 2000, probs=False)
    assert run(monitor, stats) == []
    assert [e.kind for e in monitor.update(2000, {"d_loss": float("nan"), "g_loss": 1.0})] == [
        "nan"
    ]
    events = monitor.check_diversity(2100, collapsed_batch(), real_batch())
    assert [e.kind for e in events] == ["mode_collapse"]


# --- cooldown, state, summary, config ---------------------------------------------------------


def test_cooldown_prevents_repeated_reports():
    config = MonitorConfig(cooldown=1000)
    monitor = FailureMonitor(config)
    d_steps = [e.step for e in run(monitor, d_wins_stats(np.random.default_rng(5), 5000))]
    assert len(d_steps) == 4
    assert all(b - a == 1000 for a, b in zip(d_steps, d_steps[1:]))
    collapse = [
        e
        for step in range(3000, 5000, 100)
        for e in monitor.check_diversity(step, collapsed_batch(), real_batch())
    ]
    assert [e.step for e in collapse] == [3000, 4000]
    nans = [e for s in range(5000, 5300) for e in monitor.update(s, {"g_loss": float("nan")})]
    assert [e.step for e in nans] == [5000]
    assert monitor.summary() == {"d_wins": 4, "nan": 1, "mode_collapse": 2}


def test_state_dict_round_trip_gives_identical_decisions():
    stats = d_wins_stats(np.random.default_rng(6), 3500)
    original = FailureMonitor(MonitorConfig(cooldown=800))
    first = run(original, stats[:1150])
    assert first == []  # mid-way through filling the window: the resume must keep it
    state = json.loads(json.dumps(original.state_dict()))
    buffer = io.BytesIO()
    torch.save(original.state_dict(), buffer)
    buffer.seek(0)
    assert torch.load(buffer, weights_only=True) == state
    resumed = FailureMonitor(MonitorConfig(cooldown=800))
    resumed.load_state_dict(state)
    later_original, later_resumed = run(original, stats, 1150), run(resumed, stats, 1150)
    assert later_original and later_resumed == later_original
    assert resumed.summary() == original.summary()
    fresh = run(FailureMonitor(MonitorConfig(cooldown=800)), stats, 1150)
    assert [e.step for e in fresh] != [e.step for e in later_original]  # the state mattered


def test_state_dict_keeps_cooldown_and_events():
    monitor = FailureMonitor()
    monitor.update(10, {"d_loss": float("nan")})
    resumed = FailureMonitor()
    resumed.load_state_dict(monitor.state_dict())
    assert resumed.update(11, {"d_loss": float("inf")}) == []  # still in the NaN cooldown
    assert resumed.events == monitor.events and resumed.summary()["nan"] == 1
    with pytest.raises(ValueError, match="version"):
        resumed.load_state_dict({"version": 99})


def test_event_serialises_for_the_jsonl_log():
    event = FailureMonitor().update(5, {"d_loss": float("nan")})[0]
    line = json.dumps(event.to_dict())
    assert FailureEvent.from_dict(json.loads(line)) == event
    assert set(event.to_dict()) == {"kind", "step", "message", "advice", "fatal"}


@pytest.mark.parametrize(
    "bad", [{"window": 1}, {"d_real_min": 1.5}, {"collapse_ratio": 0.0}, {"patience": 0}]
)
def test_invalid_config_is_rejected(bad):
    with pytest.raises(ConfigError, match="monitor config"):
        MonitorConfig(**bad)
