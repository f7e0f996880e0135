"""The grid25 tuning sweep behind the toy presets: PacGAN2 on the toy nets (`pacgan-toy`) with one
setting changed at a time, seed 0, scored as benchmarks/toy_modes.py scores (2,500 samples, 3
sigma, a mode covered from 20 high-quality samples). It records which changes move grid25
towards the issue's 24/25 modes at 90 % high-quality samples within 10 minutes, and which do not.

    nice .venv/bin/python benchmarks/toy_grid25_sweep.py [--only NAME,...] [--redo]

Settings already in results/toy_grid25_sweep.json are skipped; the json and table are rewritten
after every run. Runs go to benchmarks/runs/toy_grid25_sweep/ (ignored by git).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch

from common import RESULTS, machine, save
from toy_modes import train_and_score
from toy_modes_score import N_SAMPLES

RUNS = Path(__file__).resolve().parent / "runs" / "toy_grid25_sweep"
NAME = "toy_grid25_sweep"
BASE = "pacgan-toy"

#: Setting name -> options changed from the pacgan-toy preset (30,000 steps unless set).
SETTINGS: dict[str, dict[str, Any]] = {
    "pacgan-toy": {},
    "--hidden 256": {"hidden": 256},
    "--mlp-depth 4": {"mlp_depth": 4},
    "--batch-size 800 (400 packs)": {"batch_size": 800},
    "--lr-d 2e-3": {"lr_d": 2e-3},
    "--lr-g 3e-4 --lr-d 3e-4": {"lr_g": 3e-4, "lr_d": 3e-4},
    "--ema 0.999": {"ema": 0.999},
    "--minibatch-stddev": {"minibatch_stddev": True},
}


def run_setting(name: str) -> dict[str, Any]:
    """Train one setting from scratch on grid25 (seed 0) and score its final G and 4 snapshots."""
    options = SETTINGS[name]
    out = RUNS / name.replace(" ", "_").replace("(", "").replace(")", "")
    result = train_and_score(BASE, options, None, "grid25", 0, out, curve_points=4)
    result.pop("samples")
    return {"setting": name, "options": options, **result}


def main() -> None:
    """Measure every selected setting not in the json yet."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", default="", help="comma-separated setting names")
    p.add_argument("--redo", action="store_true", help="measure selected settings again")
    args = p.parse_args()
    torch.set_num_threads(1)
    path = RESULTS / f"{NAME}.json"
    rows: list[dict[str, Any]] = json.loads(path.read_text())["rows"] if path.is_file() else []
    only = [o for o in args.only.split(",") if o]
    for name in SETTINGS:
        if (only and name not in only) or (not args.redo
                                          and any(r["setting"] == name for r in rows)):
            continue
        print(f"== {name}", flush=True)
        row = run_setting(name)
        print("  ", {k: v for k, v in row.items() if k != "curve"}, flush=True)
        rows = [r for r in rows if r["setting"] != name] + [row]
        write(path, rows)
    write(path, rows)  # also redraws the table when every setting was measured already


def write(path: Path, rows: list[dict[str, Any]]) -> None:
    """results/<NAME>.{json,md}: the runs and their table."""
    if not rows:
        return
    table = [{"setting": r["setting"], "steps": r["steps"],
              "modes": f"{r['modes']} / {r['num_modes']}",
              "high_quality": f"{100 * r['high_quality']:.1f} %",
              "reverse_kl": r["reverse_kl"], "wall_s": r["wall_s"],
              "curve (step: modes @ high-quality %)": ", ".join(
                  f"{c['step']}: {c['modes']} @ {100 * c['high_quality']:.0f}"
                  for c in r.get("curve", []))}
             for r in sorted(rows, key=lambda r: list(SETTINGS).index(r["setting"]))]
    save(NAME, table, list(table[0]), "grid25 tuning sweep: pacgan-toy with one change",
         f"Seed 0, grid25, {N_SAMPLES} samples scored as in toy_modes.md. Base: the pacgan-toy "
         "preset (3x128 MLPs, 2-D noise, PacGAN2, 100 packs a batch, Adam 1e-3 beta1 0.5, "
         "constant for 15,000 steps then linear to 0 at 30,000; results/toy_modes.md has its "
         "row: 13/25 at 81.3 %); each row changes what its name says. Target (issue 12): 24/25 "
         "modes at >= 90 % within 10 minutes. wall_s: training time on one torch thread of "
         f"the {machine()['cpu']}, the other core running another toy run at the same time.")
    path.write_text(json.dumps({"machine": machine(), "rows": rows, "table": table}, indent=2))


if __name__ == "__main__":
    main()
