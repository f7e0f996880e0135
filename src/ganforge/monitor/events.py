"""What the monitor reports: one FailureEvent per detected training failure."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

D_WINS = "d_wins"
NAN = "nan"
MODE_COLLAPSE = "mode_collapse"
KINDS: tuple[str, ...] = (D_WINS, NAN, MODE_COLLAPSE)

D_WINS_ADVICE: tuple[str, ...] = (
    "use the WGAN-GP loss: ganforge train wgan-gp",
    "one-sided label smoothing (--label-smoothing 0.9)",
    "instance noise (--instance-noise 0.1)",
    "lower D's learning rate (--lr-d 1e-4) or use TTUR",
    "fewer D steps per G step (--n-critic 1)",
)
NAN_ADVICE: tuple[str, ...] = (
    "lower the learning rates (e.g. --lr-d 1e-4)",
    "check the data range: real images must be finite and normalised to [-1, 1]",
    "stabilise D with a gradient penalty (ganforge train wgan-gp) or spectral normalisation",
    "if you train in mixed precision, try full float32",
)
COLLAPSE_ADVICE: tuple[str, ...] = (
    "minibatch discrimination (--minibatch-disc)",
    "feature matching (--feature-matching) or an unrolled GAN",
    "use the WGAN-GP loss: ganforge train wgan-gp",
    "lower the learning rates (e.g. --lr-d 1e-4)",
)


@dataclass
class FailureEvent:
    """One detected training failure, with a plain-language diagnosis and what to try."""

    kind: str
    step: int
    message: str
    advice: list[str] = field(default_factory=list)
    fatal: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict for one line of the JSONL run log."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FailureEvent:
        """Rebuild an event written by `to_dict`."""
        return cls(
            kind=str(data["kind"]),
            step=int(data["step"]),
            message=str(data["message"]),
            advice=[str(a) for a in data.get("advice", [])],
            fatal=bool(data.get("fatal", False)),
        )

    def format(self) -> str:
        """Multi-line text for the console: the diagnosis, then one `try:` line per advice."""
        tag = " (fatal)" if self.fatal else ""
        lines = [f"[ganforge monitor] step {self.step}{tag}: {self.message}"]
        lines += [f"  try: {a}" for a in self.advice]
        return "\n".join(lines)

    def __str__(self) -> str:
        """Same as `format()`."""
        return self.format()


def d_wins_event(step: int, message: str) -> FailureEvent:
    """A discriminator-wins event with the standard advice."""
    return FailureEvent(D_WINS, step, message, list(D_WINS_ADVICE), fatal=False)


def nan_event(step: int, message: str) -> FailureEvent:
    """A fatal NaN/Inf event with the standard advice."""
    return FailureEvent(NAN, step, message, list(NAN_ADVICE), fatal=True)


def collapse_event(step: int, message: str) -> FailureEvent:
    """A mode-collapse event with the standard advice."""
    return FailureEvent(MODE_COLLAPSE, step, message, list(COLLAPSE_ADVICE), fatal=False)
