"""The monitor's mode-collapse rules replayed on the toy benchmark's runs: for each run of
benchmarks/toy_modes.py (its folders under benchmarks/runs/toy_modes/), the final G's 2,000
fixed-noise points and each snapshot's are checked against a real training batch, exactly as the
trainer's `check_diversity` does every --monitor-every steps. Shows which runs the rules flag
beside the modes they cover (ring8 / grid25, from results/toy_modes.json).

    .venv/bin/python benchmarks/toy_monitor.py

Writes results/toy_monitor.{json,md}. Run benchmarks/toy_modes.py first (its runs are ignored by
git, so this replays on the machine that trained them).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

import ganforge
from common import save
from ganforge.data.toy import make_toy
from ganforge.monitor import FailureMonitor, MonitorConfig
from ganforge.train.checkpoint import load_module, load_weights
from ganforge.train.pictures import TOY_POINTS
from toy_modes import JSON, RUNS, key

SAMPLE_SEED = 54_321
STEP = 10**6  # past the monitor's warm-up


def verdict(fake: torch.Tensor, real: torch.Tensor) -> dict[str, Any]:
    """What a fresh monitor says of these points against this real batch."""
    config = MonitorConfig(mode_patience=1)  # one check's verdict
    monitor = FailureMonitor(config)
    events = monitor.check_diversity(STEP, fake, real)
    last = monitor.last_diversity or {}
    ratio = last.get("ratio", float("nan"))
    return {"flagged": bool(events), "ratio": round(ratio, 3),
            "dropped": f"{int(last.get('dropped_modes', 0))}/{int(last.get('modes', 0))}",
            "rule": ("" if not events else
                     "distance" if ratio < config.collapse_ratio else "dropped modes")}


def replay(row: dict[str, Any]) -> dict[str, Any] | None:
    """The rules on the row's final G and on each of its snapshots."""
    out = RUNS / row["key"].replace(" ", "_")
    if not (out / "generator.safetensors").is_file():
        return None
    run = ganforge.load_run(out)
    real = make_toy(row["data"], TOY_POINTS, seed=row["seed"] + 1)  # as Pictures.real_reference
    final = verdict(run.sample(TOY_POINTS, seed=SAMPLE_SEED).float(), real)
    snaps = []
    for folder in sorted((out / "snapshots").glob("step_*")):
        path = folder / "generator.safetensors"
        load_module(run.generator, load_weights(path), path, "the snapshot's generator")
        v = verdict(run.sample(TOY_POINTS, seed=SAMPLE_SEED).float(), real)
        snaps.append({"step": int(folder.name[5:]), **v})
    return {"key": row["key"], "data": row["data"], "row": row["row"], "seed": row["seed"],
            "modes": f"{row['modes']} / {row['num_modes']}",
            "high_quality": f"{100 * row['high_quality']:.3g} %", "final_dropped": final["dropped"],
            "final_ratio": final["ratio"], "final_flagged": final["rule"] or "no",
            "snapshots_flagged": f"{sum(s['flagged'] for s in snaps)}/{len(snaps)}",
            "snapshot_dropped": " ".join(s["dropped"].split("/")[0] for s in snaps),
            "snapshots": snaps}


def main() -> None:
    """Replay every scored run, print and save the table."""
    torch.set_num_threads(1)
    rows = json.loads(Path(JSON).read_text())["rows"]
    results = [r for r in (replay(row) for row in rows) if r is not None]
    for r in results:
        print(key(r["data"], r["row"], r["seed"]), r["final_flagged"], r["final_dropped"],
              flush=True)
    columns = ["data", "row", "seed", "modes", "high_quality", "final_ratio", "final_dropped",
               "final_flagged", "snapshots_flagged", "snapshot_dropped"]
    save("toy_monitor", results, columns,
         "The monitor's mode-collapse rules on the toy benchmark's runs",
         f"Each run's final G and its 8 snapshots, {TOY_POINTS} points from fixed noise, against "
         f"{TOY_POINTS} real points, through FailureMonitor.check_diversity as in training. "
         "final_ratio: mean pairwise distance fake / real (the distance rule flags < 0.1). "
         "final_dropped: clusters of the real points (the modes, found without knowing them) "
         "that get under a fifth of their share of the generated points / clusters found (the "
         "dropped-modes rule for point data flags one or more). final_flagged: the rule that "
         "fired on the final G (no: silent), each verdict from one check (in training the "
         "rule waits for 5 checks in a row that drop modes without fewer dropped at the last). "
         "snapshots_flagged: snapshots on which a rule "
         "fired; snapshot_dropped: modes dropped at each snapshot, in step order. modes / "
         "high_quality: the VEEGAN/PacGAN count of results/toy_modes.md (a mode counts there "
         "only with high-quality samples, so an imprecise G that spreads over every mode scores "
         "few modes there and drops none here).")


if __name__ == "__main__":
    main()
