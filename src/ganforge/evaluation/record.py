"""Provenance: every metric value travels with how it was measured (no bare numbers)."""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from ganforge.evaluation.metrics import Outcome


@dataclass(frozen=True)
class Provenance:
    """What any metric value of one evaluation depends on besides the samples themselves."""

    features: str
    features_sha256: str | None
    resize_method: str
    real: str
    real_split: str | None
    fake: str
    seed: int
    batch_size: int
    device: str
    ganforge_version: str = field(default_factory=lambda: _version())
    torch_version: str = torch.__version__
    date: str = field(
        default_factory=lambda: datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"))


def _version() -> str:
    """ganforge's version (imported late: ganforge/__init__ imports the API)."""
    from ganforge._version import __version__

    return __version__


@dataclass(frozen=True)
class MetricResult:
    """One metric's values, its parameters, its sample counts and the full provenance."""

    metric: str
    value: float  # the headline value, values[primary]
    primary: str
    values: dict[str, float | int]
    params: dict[str, Any]
    n_real: int
    n_fake: int
    provenance: Provenance

    def to_dict(self) -> dict[str, Any]:
        """Flat JSON-ready dict: the metric fields followed by every provenance field."""
        head = {k: v for k, v in asdict(self).items() if k != "provenance"}
        return {**head, **asdict(self.provenance)}


@dataclass
class EvalReport:
    """All results of one `ganforge eval`, with the streamed sample counts and timing."""

    results: list[MetricResult]
    provenance: Provenance
    n_real: int
    n_fake: int
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # metric -> why it was not computed

    def __getitem__(self, metric: str) -> MetricResult:
        """The result of `metric`."""
        for result in self.results:
            if result.metric == metric:
                return result
        raise KeyError(metric)

    def to_dict(self) -> dict[str, Any]:
        """The full record, as written by --json."""
        skipped = {"skipped": dict(self.skipped)} if self.skipped else {}
        return {"provenance": asdict(self.provenance), "n_real": self.n_real,
                "n_fake": self.n_fake, "seconds": round(self.seconds, 3), **self.extra,
                **skipped, "results": [r.to_dict() for r in self.results]}

    def write_json(self, path: str | os.PathLike[str]) -> Path:
        """Write the record to `path` (folders are created)."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return out

    def table(self) -> str:
        """A plain-text table of the results and a provenance footer."""
        rows = [("metric", "value", "n_real", "n_fake", "details")]
        for r in self.results:
            details = ", ".join(f"{k}={fmt(v)}" for k, v in {**r.values, **r.params}.items()
                                if k != r.primary)
            rows.append((r.metric, fmt(r.value), str(r.n_real), str(r.n_fake), details))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[4]
                 for row in rows]
        for name, sha, resize in self._extractors():
            lines.append(f"features {name} (sha256 {(sha or 'none')[:12]}…), resize: {resize}")
        p = self.provenance
        lines.append(f"real {p.real} ({self.n_real}), fake {p.fake} ({self.n_fake}), "
                     f"seed {p.seed}, ganforge {p.ganforge_version}, {p.date}")
        lines.extend(f"skipped {metric}: {why}" for metric, why in self.skipped.items())
        return "\n".join(line.rstrip() for line in lines)

    def _extractors(self) -> list[tuple[str, str | None, str]]:
        """(features, weights' SHA256, resize) of the results, each once, in order; the
        report's own when all results share it (or there are none)."""
        own = (self.provenance.features, self.provenance.features_sha256,
               self.provenance.resize_method)
        used = [(r.provenance.features, r.provenance.features_sha256, r.provenance.resize_method)
                for r in self.results]
        return list(dict.fromkeys(used)) if used and set(used) != {own} else [own]


def fmt(value: Any) -> str:
    """Numbers with 5 significant digits; anything else as text."""
    if isinstance(value, float):
        return f"{value:.5g}"
    return str(value)


def make_result(metric: str, primary: str, outcome: Outcome, prov: Provenance) -> MetricResult:
    """Wrap a metric's outcome with its provenance."""
    return MetricResult(metric, float(outcome.values[primary]), primary, outcome.values,
                        outcome.params, outcome.n_real, outcome.n_fake, prov)
