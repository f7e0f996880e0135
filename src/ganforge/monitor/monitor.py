"""FailureMonitor: watches training stats and samples for the classic GAN failures."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from ganforge.monitor import rules
from ganforge.monitor.config import MonitorConfig
from ganforge.monitor.events import (
    KINDS,
    FailureEvent,
    collapse_event,
    d_wins_event,
    nan_event,
)

TRACKED: tuple[str, ...] = ("d_loss", "g_loss", "d_real", "d_fake")
STATE_VERSION = 1
_NONFINITE_FAKE = (
    "the generator produced NaN or Inf samples: its weights are most likely corrupted, "
    "so stop and resume from the last good checkpoint."
)
_NONFINITE_REAL = (
    "the real batch contains NaN or Inf values: the dataset or its transform is broken."
)


class FailureMonitor:
    """Detects NaN/Inf, a discriminator that wins outright, and mode collapse (samples nearly
    alike; for point data also modes of the real data that get almost no samples).

    Call `update(step, stats)` after every training step and `check_diversity(step, fake, real)`
    every few hundred steps; both return the events newly reported (usually an empty list).
    `probabilistic=False` (Wasserstein, hinge: D output is not a probability) disables the
    D-wins rule; NaN and collapse checks still run.
    """

    def __init__(self, config: MonitorConfig | None = None, probabilistic: bool = True) -> None:
        """Start with empty windows; `config` defaults to `MonitorConfig()`."""
        self.config = config if config is not None else MonitorConfig()
        self.probabilistic = probabilistic
        # One entry per finite step for every tracked stat; None where the stat was not reported.
        self.windows: dict[str, deque[float | None]] = {
            k: deque(maxlen=self.config.window) for k in TRACKED
        }
        self.events: list[FailureEvent] = []
        self.last_diversity: dict[str, float] | None = None
        self._streak = 0
        self._last_reported: dict[str, int] = {}
        self._counts = dict.fromkeys(KINDS, 0)
        self._suppressed = dict.fromkeys(KINDS, 0)
        # Modes dropped at the latest point-data checks (the dropped-modes rule's patience).
        self._dropped: deque[int] = deque(maxlen=self.config.mode_patience)
        # The dropped count the rule last reported: it speaks again only when the count changes
        # (or after a check that dropped nothing), not at every check of a lasting collapse.
        self._reported_dropped: int | None = None
        # The clusters of the last real reference (a run passes the same points every check).
        self._clusters: tuple[Tensor, Tensor] | None = None

    def update(self, step: int, stats: Mapping[str, Any]) -> list[FailureEvent]:
        """Record one step's stats ("d_loss", "g_loss", optional "d_real"/"d_fake") and check."""
        values = rules.as_floats(stats)
        bad = rules.nonfinite(values)
        if bad:
            # A non-finite step never enters the windows, so it cannot poison later means.
            self._streak = 0
            return self._report(nan_event(step, rules.nan_message(bad)))
        for key in TRACKED:
            self.windows[key].append(values.get(key))
        if not self.probabilistic or step < self.config.warmup:
            return []
        message = rules.d_wins_diagnosis(self.windows, self.config)
        self._streak = self._streak + 1 if message is not None else 0
        if message is None or self._streak < self.config.patience:
            return []
        return self._report(d_wins_event(step, message))

    def check_diversity(self, step: int, fake: Tensor, real: Tensor) -> list[FailureEvent]:
        """Compare the diversity of a fake batch (from fixed noise) with a real batch."""
        for batch, message in ((fake, _NONFINITE_FAKE), (real, _NONFINITE_REAL)):
            if not bool(torch.isfinite(batch.detach()).all()):
                return self._report(nan_event(step, message))
        if step < self.config.warmup:
            return []
        cap = self.config.diversity_max_samples
        fake_div, real_div = rules.diversity(fake, cap), rules.diversity(real, cap)
        if real_div <= 0.0 or not math.isfinite(real_div):
            return []  # a degenerate real batch gives no scale to compare against
        ratio = fake_div / real_div
        self.last_diversity = {"fake": fake_div, "real": real_div, "ratio": ratio}
        if ratio < self.config.collapse_ratio:
            threshold = self.config.collapse_ratio
            return self._report(
                collapse_event(step, rules.collapse_message(fake_div, real_div, ratio, threshold))
            )
        share = self.config.mode_share
        if fake.dim() != 2 or share <= 0:
            return []  # images: no clusters to find in pixel space; only points get this test
        dropped, modes, mass = rules.dropped_modes(fake, real, share, self._clusters_of(real))
        self.last_diversity.update(modes=modes, dropped_modes=dropped)
        seen = self._dropped
        seen.append(dropped)
        if dropped == 0:
            self._reported_dropped = None
        if len(seen) < self.config.mode_patience or min(seen) == 0 or seen[-1] < seen[0]:
            return []  # not dropped at every check of the window, or still picking modes up
        if dropped == self._reported_dropped:
            return []  # already said, and nothing changed since
        events = self._report(
            collapse_event(step, rules.dropped_message(dropped, modes, mass, share))
        )
        if events:
            self._reported_dropped = dropped
        return events

    def _clusters_of(self, real: Tensor) -> Tensor:
        """`rules.real_clusters(real)`, computed again only when the real points change."""
        cached = self._clusters
        if (cached is None or cached[0].shape != real.shape or cached[0].dtype != real.dtype
                or not torch.equal(cached[0], real)):
            cached = self._clusters = (real.detach().clone(), rules.real_clusters(real))
        return cached[1]

    def summary(self) -> dict[str, int]:
        """Number of reported events per kind (every kind present, 0 when none)."""
        return dict(self._counts)

    def state_dict(self) -> dict[str, Any]:
        """Plain-Python (JSON- and torch.save-safe) state, so a resumed run keeps its windows."""
        return {
            "version": STATE_VERSION,
            "windows": {k: list(v) for k, v in self.windows.items()},
            "streak": self._streak,
            "last_reported": dict(self._last_reported),
            "counts": dict(self._counts),
            "suppressed": dict(self._suppressed),
            "events": [e.to_dict() for e in self.events],
            "last_diversity": self.last_diversity,
            "dropped_modes": list(self._dropped),
            "reported_dropped": self._reported_dropped,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a `state_dict()`; the current config is kept (windows trimmed to it)."""
        version = state.get("version")
        if version != STATE_VERSION:
            raise ValueError(f"unsupported FailureMonitor state version {version!r}")
        saved = state["windows"]
        self.windows = {
            k: deque(
                (None if x is None else float(x) for x in saved.get(k, [])),
                maxlen=self.config.window,
            )
            for k in TRACKED
        }
        self._streak = int(state["streak"])
        self._last_reported = {str(k): int(v) for k, v in state["last_reported"].items()}
        self._counts = dict.fromkeys(KINDS, 0) | {k: int(v) for k, v in state["counts"].items()}
        self._suppressed = dict.fromkeys(KINDS, 0) | {
            k: int(v) for k, v in state.get("suppressed", {}).items()
        }
        self.events = [FailureEvent.from_dict(e) for e in state.get("events", [])]
        self._dropped = deque((int(x) for x in state.get("dropped_modes", [])),
                              maxlen=self.config.mode_patience)
        reported = state.get("reported_dropped")
        self._reported_dropped = None if reported is None else int(reported)
        last = state.get("last_diversity")
        self.last_diversity = None if last is None else {k: float(v) for k, v in last.items()}

    def _report(self, event: FailureEvent) -> list[FailureEvent]:
        """Record and return the event unless its kind was reported within the cooldown."""
        last = self._last_reported.get(event.kind)
        if last is not None and 0 <= event.step - last < self.config.cooldown:
            self._suppressed[event.kind] += 1
            return []
        self._last_reported[event.kind] = event.step
        self._counts[event.kind] += 1
        self.events.append(event)
        return [event]
