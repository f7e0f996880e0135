"""Mode collapse on the 2-D mixtures, measured: every unconditional preset and each remedy
(unrolled GAN, PacGAN, minibatch discrimination, WGAN-GP) on ring8 and grid25, several seeds,
scored in the VEEGAN/PacGAN protocol.

    nice .venv/bin/python benchmarks/toy_modes.py                       # every row, 3 seeds
    nice .venv/bin/python benchmarks/toy_modes.py --only grid25/pacgan-toy --seeds 0
    nice .venv/bin/python benchmarks/toy_modes.py --quick               # toy rows, seed 0

One training run per row (data, setting, seed); rows already in results/toy_modes.json are
skipped, and the json, table and figure are rewritten after every run, so an interrupted
benchmark resumes where it stopped. Runs go to benchmarks/runs/toy_modes/ (ignored by git).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from common import RESULTS, machine, save
from toy_modes_score import CURVE_POINTS, N_SAMPLES, figure, notes, score, summary

RUNS = Path(__file__).resolve().parent / "runs" / "toy_modes"
JSON = RESULTS / "toy_modes.json"
DATASETS = ("ring8", "grid25")
PRESET_STEPS = 5_000  # the presets' own nets and defaults: the issue's "new user" budget

#: Row name -> (preset, options, steps or None for the preset's own). The presets at their
#: defaults first (the status quo), then the toy presets and each remedy on the toy nets.
ROWS: dict[str, tuple[str, dict[str, Any], int | None]] = {
    "gan": ("gan", {}, PRESET_STEPS),
    "dcgan": ("dcgan", {}, PRESET_STEPS),
    "wgan": ("wgan", {}, PRESET_STEPS),
    "wgan-gp": ("wgan-gp", {}, PRESET_STEPS),
    "lsgan": ("lsgan", {}, PRESET_STEPS),
    "dcgan-ttur": ("dcgan-ttur", {}, PRESET_STEPS),
    "gan-toy": ("gan-toy", {}, None),
    "gan-toy --g-norm batch": ("gan-toy", {"g_norm": "batch"}, None),
    "unrolled-toy": ("unrolled-toy", {}, None),
    "pacgan-toy": ("pacgan-toy", {}, None),
    "pacgan-toy --latent-dim 64": ("pacgan-toy", {"latent_dim": 64}, None),
    "pacgan-toy --steps 60000": ("pacgan-toy", {}, 60_000),
    "gan-toy --pack 4": ("gan-toy", {"pack": 4, "batch_size": 400}, None),
    # the grid25 sweep's best (results/toy_grid25_sweep.md): 400 packs of 2 a batch
    "pacgan-toy --batch-size 800": ("pacgan-toy", {"batch_size": 800}, None),
    # about 3x a plain step (pairwise L1 over the batch): half the steps to stay near 10 min
    "gan-toy --minibatch-disc": ("gan-toy", {"minibatch_disc": True}, 15_000),
    "wgan-gp toy nets": ("wgan-gp", {"arch": "mlp", "hidden": 128, "mlp_depth": 3,
                                     "latent_dim": 2, "batch_size": 100}, 20_000),
}
QUICK = ("gan-toy", "unrolled-toy", "pacgan-toy")


def key(data: str, row: str, seed: int) -> str:
    """The row's id in the json: data/row/seed."""
    return f"{data}/{row}/{seed}"


def run_row(data: str, row: str, seed: int) -> dict[str, Any]:
    """Train one row from scratch, then score its final G and its snapshots."""
    preset, options, steps = ROWS[row]
    out = RUNS / key(data, row, seed).replace(" ", "_")
    result = train_and_score(preset, options, steps, data, seed, out)
    np.save(out / "final_samples.npy", result.pop("samples"))
    return {"key": key(data, row, seed), "data": data, "row": row, "seed": seed,
            "preset": preset, "options": options, **result}


def train_and_score(preset: str, options: dict[str, Any], steps: int | None, data: str,
                    seed: int, out: Path, curve_points: int = CURVE_POINTS) -> dict[str, Any]:
    """Train `preset` with `options` into `out` from scratch (one torch thread; `steps` None:
    the preset's own), keeping G `curve_points` times on the way; its steps, training time,
    and `toy_modes_score.score` of its final G and snapshots."""
    if out.exists():  # a run interrupted before it was scored: start it again
        import shutil

        shutil.rmtree(out)
    import ganforge
    from ganforge.api import make_config

    opts: dict[str, Any] = {**options, "data": data, "seed": seed, "out": out, "quiet": True,
                            "log_every": 10_000, "checkpoint_every": 100_000, "threads": 1}
    if steps is not None:
        opts["steps"] = steps
    total = steps or int(make_config(preset, **options).steps or 0)
    opts["snapshot_every"] = max(1, total // curve_points)
    opts["sample_every"] = max(1, total // 4)  # 4 D-landscape frames are enough here
    wall, cpu = time.perf_counter(), time.process_time()
    run = ganforge.train(preset, **opts)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"steps": total, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            **score(run, out, data, total)}


def load_rows() -> list[dict[str, Any]]:
    """The rows measured so far."""
    return json.loads(JSON.read_text())["rows"] if JSON.is_file() else []


def write(rows: list[dict[str, Any]]) -> None:
    """results/toy_modes.{json,md,png}: per-seed rows in the json, the table averages seeds."""
    table = summary(rows, list(ROWS), DATASETS)
    columns = ["data", "row", "seeds", "steps", "modes", "high_quality", "reverse_kl",
               "wall_s", "collapse_flagged"]
    save("toy_modes", table, columns, "Mode collapse on ring8 and grid25 (CPU)", notes())
    JSON.write_text(json.dumps({"machine": machine(), "n_samples": N_SAMPLES, "rows": rows,
                                "table": table}, indent=2))
    figure(rows, list(ROWS), DATASETS, RUNS, RESULTS / "toy_modes.png")


def selected(args: argparse.Namespace) -> list[tuple[str, str, int]]:
    """(data, row, seed) to measure, in table order."""
    rows = QUICK if args.quick else tuple(ROWS)
    seeds = [0] if args.quick and not args.seeds_given else args.seeds
    only = [o for o in args.only.split(",") if o]
    todo = [(d, r, s) for r in rows for d in DATASETS for s in seeds]
    names = {f"{d}/{r}" for d, r, _ in todo} | {r for _, r, _ in todo}

    def chosen(d: str, r: str, o: str) -> bool:
        if o in names:  # an exact name picks itself alone
            return o in (f"{d}/{r}", r)
        return f"{d}/{r}".startswith(o) or r.startswith(o)

    return [t for t in todo if not only or any(chosen(t[0], t[1], o) for o in only)]


def main() -> None:
    """Measure every selected row not in the json yet, writing the results after each."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    p.add_argument("--only", default="", help="comma-separated DATA/ROW or ROW names (exact), "
                   "else prefixes")
    p.add_argument("--quick", action="store_true", help="the toy presets only, seed 0")
    p.add_argument("--redo", action="store_true", help="measure selected rows again")
    args = p.parse_args()
    args.seeds_given = "--seeds" in " ".join(__import__("sys").argv)
    args.seeds = [int(s) for s in args.seeds.split(",") if s]
    torch.set_num_threads(1)  # scoring; training gets threads=1 in run_row (small MLPs)
    rows = load_rows()
    for data, row, seed in selected(args):
        if not args.redo and any(r["key"] == key(data, row, seed) for r in rows):
            continue
        print(f"== {key(data, row, seed)}", flush=True)
        result = run_row(data, row, seed)
        print("  ", {k: v for k, v in result.items() if k != "curve"}, flush=True)
        # read again: another process may have added rows (two runs at once on two cores)
        rows = [r for r in load_rows() if r["key"] != result["key"]] + [result]
        write(rows)


if __name__ == "__main__":
    main()
