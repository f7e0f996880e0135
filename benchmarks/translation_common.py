"""Shared steps of the translation benchmarks: train (or resume) a run to its step budget, score
it or one of its snapshots with `ganforge.evaluation.evaluate_translation`, and draw figures."""

from __future__ import annotations

import datetime
import json
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from common import RESULTS

RUNS = Path(__file__).resolve().parent / "runs"


def train_or_resume(model: str, out: Path, steps: int, **opts: Any) -> dict[str, float]:
    """Train `model` into `out` for `steps` steps, resuming a run stopped on the way (or one
    planned for another step count whose lr decay has not begun); returns the wall and CPU
    seconds this call spent (0 when the run was already complete)."""
    import ganforge
    from ganforge.train import session

    wall, cpu = time.perf_counter(), time.process_time()
    if (out / "config.yaml").is_file():
        done = max(step_records(out), default=0)
        _same_schedule(out, steps, done)
        if done >= steps:
            return {"wall_s": 0.0, "cpu_s": 0.0}
        session.resume(out, {"steps": steps})  # a schedule set in shares of the steps follows
    else:
        ganforge.train(model, steps=steps, out=out, **opts)
    return {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}


def _same_schedule(out: Path, steps: int, done: int) -> None:
    """Exit with one line when `out` was planned for another step count and its lr decay has
    begun: resuming would bend its schedule, and scoring it would label it with `steps`."""
    from ganforge.train.run import RunDir

    cfg = RunDir(out).config()
    decay = cfg.lr_decay_start * cfg.steps  # a share of the planned steps
    if cfg.steps != steps and cfg.lr_policy == "linear" and done > decay:
        raise SystemExit(f"error: {out} was trained for {cfg.steps} steps (lr decay from step "
                         f"{decay:g}, {done} done); move it aside to train for {steps}")


def committed_rows(name: str, defaults: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The rows of results/<name>.json, a missing column taking `defaults` (the values before
    the column existed), or for `cpu` the file's machine."""
    path = RESULTS / f"{name}.json"
    if not path.is_file():
        return []
    old = json.loads(path.read_text())
    base = {"cpu": old.get("machine", {}).get("cpu", "?"), **(defaults or {})}
    return [{**base, **r} for r in old["rows"]]


def earlier_rows(name: str, row: dict[str, Any], keys: tuple[str, ...],
                 defaults: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The committed rows from other runs (another value of `keys`), in `row`'s columns, to
    keep beside `row` (see `committed_rows` for `defaults`)."""
    return [{k: r.get(k, "") for k in row} for r in committed_rows(name, defaults)
            if tuple(r[k] for k in keys) != tuple(row[k] for k in keys)]


def training_facts(name: str, spent: dict[str, float], match: dict[str, Any],
                   defaults: dict[str, Any] | None = None, out: Path | None = None
                   ) -> dict[str, Any]:
    """wall_s, cpu_s and date of a run's row in results/<name>.json: this call's when it trained
    (`spent`, from `train_or_resume`), else, for a complete run scored again, those of its
    committed row (the one whose values match `match`), or, for a run never scored (stopped
    while scoring), its training time from its log in `out` (cpu_s unknown: empty) and the
    date of its last step."""
    if not spent["wall_s"]:
        for r in committed_rows(name, defaults):
            if all(r.get(k) == v for k, v in match.items()):
                return {k: r[k] for k in ("wall_s", "cpu_s", "date") if k in r}
        records = step_records(out) if out is not None else {}
        if records:
            last = records[max(records)]
            day = datetime.datetime.fromtimestamp(last["time"], datetime.timezone.utc).date()
            return {"wall_s": round(training_time(records)["train_s"]), "cpu_s": "",
                    "date": day.isoformat()}
    return {**spent, "date": datetime.date.today().isoformat()}


def load_weights(run: Any, folder: Path | None) -> Any:
    """`run` with its exported networks replaced by a snapshot's (`folder`), if given."""
    from safetensors.torch import load_file

    if folder is not None:
        for name, net in run.nets.items():
            net.load_state_dict(load_file(str(folder / f"{name}.safetensors")))
    return run


def score(run: Any, n: int | None = None, split: str = "test", **options: Any
          ) -> dict[str, dict[str, Any]]:
    """Every translation metric of `run` on its `split`, as {result key: values}."""
    from ganforge.evaluation import TranslationOptions, evaluate_translation

    report = evaluate_translation(run, split=split, n=n, options=TranslationOptions(**options))
    return {r.metric: dict(r.values) for r in report.results}


def snapshots(out: Path) -> list[tuple[int, Path]]:
    """(step, folder) of each kept snapshot, in order."""
    folders = sorted((out / "snapshots").glob("step_*"))
    return [(int(f.name.split("_")[1]), f) for f in folders]


def step_records(out: Path) -> dict[int, dict[str, Any]]:
    """The run's log records by step, in step order (the last record of a step wins)."""
    from ganforge.train.run import RunDir

    records = {r["step"]: r for r in RunDir(out).read_log() if "step" in r}
    return dict(sorted(records.items()))


def training_time(records: dict[int, dict[str, Any]]) -> dict[str, float]:
    """Steps done and the run's own training time in seconds, from the `time` of its log's step
    records (`step_records`): the sum of the gaps between consecutive records, where a gap over
    ten times the median (a stop and a resume, or scoring between two calls) counts as one
    median step."""
    stamps = [(step, r["time"]) for step, r in records.items() if "time" in r]
    gaps = [b[1] - a[1] for a, b in zip(stamps, stamps[1:], strict=False)]
    if not gaps:
        return {"steps": stamps[-1][0] if stamps else 0, "train_s": 0.0}
    median = statistics.median(gaps)
    return {"steps": stamps[-1][0],
            "train_s": sum(g if g <= 10 * median else median for g in gaps)}


@torch.no_grad()
def figure_rows(columns: list[torch.Tensor], path: Path) -> Path:
    """One row per example, one column per tensor (images in [-1, 1])."""
    from ganforge.variants.translation import rows_of
    from ganforge.viz import save_grid

    figure = rows_of(columns)
    return save_grid(figure.images, path, nrow=figure.nrow)
