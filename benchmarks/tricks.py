"""The training tricks on a DCGAN baseline, MNIST, this machine's CPU: FID (MNIST-classifier
features) and mode counts with each trick switched on alone, every run at the same step budget and
seed as the baseline.

    nice .venv/bin/python benchmarks/tricks.py                      # every row, 1000 steps each
    nice .venv/bin/python benchmarks/tricks.py --only baseline,spectral-norm --steps 300

Runs go to benchmarks/runs/tricks/ (ignored by git); results/tricks.{json,md} are committed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch

from common import RESULTS, machine, save
from gan_bench import Scorer, chunks, load_snapshot, train_segments, wait_for_classifier

RUNS = Path(__file__).resolve().parent / "runs" / "tricks"
N_FAKE = 10_000

#: Row name -> (preset, options on top of the baseline). {steps} is the run's budget.
TRICKS: dict[str, tuple[str, dict[str, Any]]] = {
    "baseline": ("dcgan", {}),
    "label-smoothing 0.9": ("dcgan", {"label_smoothing": 0.9}),
    "instance-noise 0.1": ("dcgan", {"instance_noise": 0.1, "instance_noise_steps": "{steps}"}),
    "feature-matching": ("dcgan", {"feature_matching": True}),
    "minibatch-disc": ("dcgan", {"minibatch_disc": True}),
    "minibatch-stddev": ("dcgan", {"minibatch_stddev": True}),
    "historical-avg 0.1": ("dcgan", {"historical_avg": 0.1}),
    "vbn": ("dcgan", {"vbn": True}),
    "spectral-norm": ("dcgan", {"spectral_norm": True}),
    "diffaugment color,translation,cutout": ("dcgan", {"diffaugment": "color,translation,cutout"}),
    "ema 0.999": ("dcgan", {"ema": 0.999}),
    "ttur (dcgan-ttur)": ("dcgan-ttur", {}),
}


def slug(name: str) -> str:
    """A folder name for a row."""
    return name.split(" ")[0].replace("(", "").replace(")", "")


def options_for(name: str, steps: int, base: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The preset and full options of row `name`."""
    preset, extra = TRICKS[name]
    resolved = {k: steps if v == "{steps}" else v for k, v in extra.items()}
    return preset, {**base, **resolved}


def score(name: str, out: Path, seg: dict[str, Any], scorer: Scorer) -> dict[str, Any]:
    """FID and mode counts of N_FAKE samples of the run's final G (the EMA copy when on)."""
    from ganforge.metrics import mode_counts

    run = load_snapshot(out, seg["steps"])
    inputs = run.variant.noise(N_FAKE, torch.Generator().manual_seed(1))
    feats, probs = scorer.outputs(torch.cat(list(chunks(run, inputs))))
    modes = mode_counts(probs, 10)
    row = {"trick": name, **seg, "fid": scorer.fid(feats), "modes": modes.modes,
           "kl_to_uniform": modes.kl_to_uniform,
           "min_class_share": float(modes.counts.min() / N_FAKE)}
    print("  ", row, flush=True)
    return row


def main() -> None:
    """Train every row, score it, write the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", default="", help="comma-separated row names (prefixes) to run")
    p.add_argument("--train-only", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(2)
    base = {"width": args.width, "seed": args.seed, "monitor_every": 0, "log_every": 10_000,
            "checkpoint_every": 100_000}
    names = [n for n in TRICKS if not args.only
             or any(n.startswith(o) for o in args.only.split(","))]
    segs = {}
    for name in names:
        preset, options = options_for(name, args.steps, base)
        segs[name] = train_segments(preset, RUNS / slug(name), [args.steps], **options)[0]
    if args.train_only:
        return
    wait_for_classifier(30)
    scorer = Scorer()
    rows = [score(n, RUNS / slug(n), segs[n], scorer) for n in names]
    write(rows, scorer, args)


def write(rows: list[dict[str, Any]], scorer: Scorer, args: argparse.Namespace) -> None:
    """results/tricks.{json,md}."""
    prov = scorer.provenance()
    notes = (f"Budget: {args.steps} steps (batch 64, about {args.steps * 64 / 60000:.2f} epochs) "
             f"per row, DCGAN nets of width {args.width}, seed {args.seed}, one run per row, so "
             "differences of a few FID points are within run-to-run noise. FID: "
             f"{prov['extractor']} features (sha256 {prov['weights_sha256'][:12]}…), "
             f"{N_FAKE} samples vs the 10k MNIST test images. modes: classes (of 10) reached by "
             "at least one sample; kl_to_uniform: KL(class histogram || uniform) in nats; "
             "min_class_share: the rarest class's share of the samples (0.1 = balanced). "
             "wall_s / cpu_s: training time on a shared 2-core machine. TTUR row: lr_d 4e-4, "
             "lr_g 1e-4, Adam(0, 0.9) (SAGAN's values). Historical averaging weight 0.1; "
             "instance noise std 0.1 annealed to 0 over the whole run.")
    columns = ["trick", "steps", "wall_s", "cpu_s", "fid", "modes", "kl_to_uniform",
               "min_class_share"]
    save("tricks", rows, columns, "Training tricks on DCGAN, MNIST (CPU)", notes)
    path = RESULTS / "tricks.json"
    body = json.loads(path.read_text())
    body.update(provenance=prov, budget_steps=args.steps, width=args.width, machine=machine())
    path.write_text(json.dumps(body, indent=2))


if __name__ == "__main__":
    main()
