"""The training tricks on a DCGAN baseline, MNIST, this machine's CPU: FID (MNIST-classifier
features) and mode counts with each trick switched on alone, every run at the same step budget and
seed as the baseline.

    nice .venv/bin/python benchmarks/tricks.py         # every row, scored at 3000 and 6000 steps
    nice .venv/bin/python benchmarks/tricks.py --only baseline,spectral-norm --steps 300

The baseline is also trained with --baseline-seeds (default 1,2) so the table shows how much FID
moves from seed to seed alone. Runs go to benchmarks/runs/tricks/ (ignored by git);
results/tricks.{json,md,png} are committed.
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


def plan(baseline_seeds: list[int]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every row: TRICKS with the baseline repeated once per extra seed, right after it."""
    seeds = {f"baseline (seed {x})": ("dcgan", {"seed": x}) for x in baseline_seeds}
    first, *rest = TRICKS.items()
    return dict([first, *seeds.items(), *rest])


def slug(name: str, extra: dict[str, Any]) -> str:
    """A folder name for a row: its first word, plus the seed of a repeated baseline."""
    word = name.split(" ")[0].replace("(", "").replace(")", "")
    return f"{word}-{extra['seed']}" if "seed" in extra else word


def options_for(extra: dict[str, Any], anneal: int, base: dict[str, Any]) -> dict[str, Any]:
    """A row's full options; `anneal` replaces "{steps}" (the instance noise's annealing
    length)."""
    return {**base, **{k: anneal if v == "{steps}" else v for k, v in extra.items()}}


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
    p.add_argument("--steps", default="3000,6000",
                   help="budgets, comma-separated; each run is scored at each (resumed)")
    p.add_argument("--baseline-seeds", default="1,2",
                   help="other seeds of the baseline, for the seed-to-seed spread")
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", default="", help="comma-separated row names (prefixes) to run")
    p.add_argument("--train-only", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(2)
    base = {"width": args.width, "seed": args.seed, "monitor_every": 0, "log_every": 10_000,
            "checkpoint_every": 100_000}
    rows_all = plan([int(x) for x in args.baseline_seeds.split(",") if x])
    names = [n for n in rows_all if not args.only
             or any(n.startswith(o) for o in args.only.split(","))]
    budgets = [int(x) for x in args.steps.split(",")]
    folders, segs = {}, {}
    for name in names:
        preset, extra = rows_all[name]
        folders[name] = RUNS / slug(name, extra)
        options = options_for(extra, budgets[0], base)
        segs[name] = train_segments(preset, folders[name], budgets, **options)[: len(budgets)]
    if args.train_only:
        return
    wait_for_classifier(30)
    scorer = Scorer()
    rows = [score(n, folders[n], segs[n][b], scorer) for b in range(len(budgets)) for n in names]
    write(rows, scorer, args, budgets)
    figure(rows)


def write(rows: list[dict[str, Any]], scorer: Scorer, args: argparse.Namespace,
          steps: list[int]) -> None:
    """results/tricks.{json,md}."""
    prov = scorer.provenance()
    epochs = ", ".join(f"{s * 64 / 60000:.1f}" for s in steps)
    notes = (f"Budgets: {args.steps} steps (batch 64, about {epochs} epochs); each run is "
             "scored at each budget (the later one resumes the same run). DCGAN nets of width "
             f"{args.width}, seed {args.seed}, one run per row; the "
             f"baseline is repeated with seeds {args.baseline_seeds} to show the seed-to-seed "
             "spread: a trick whose FID lies inside it has no effect measurable by one run. FID: "
             f"{prov['extractor']} features (sha256 {prov['weights_sha256'][:12]}…), "
             f"{N_FAKE} samples vs the 10k MNIST test images. modes: classes (of 10) reached by "
             "at least one sample; kl_to_uniform: KL(class histogram || uniform) in nats; "
             "min_class_share: the rarest class's share of the samples (0.1 = balanced). "
             "wall_s / cpu_s: training time on a shared 2-core machine. TTUR row: lr_d 4e-4, "
             "lr_g 1e-4, Adam(0, 0.9) (SAGAN's values). Historical averaging weight 0.1; "
             f"instance noise std 0.1 annealed to 0 over the first {steps[0]} steps.")
    columns = ["trick", "steps", "wall_s", "cpu_s", "fid", "modes", "kl_to_uniform",
               "min_class_share"]
    save("tricks", rows, columns, "Training tricks on DCGAN, MNIST (CPU)", notes)
    path = RESULTS / "tricks.json"
    body = json.loads(path.read_text())
    body.update(provenance=prov, budget_steps=steps, width=args.width, machine=machine())
    path.write_text(json.dumps(body, indent=2))


def figure(rows: list[dict[str, Any]]) -> None:
    """results/tricks.png: FID per row, one panel per budget, the baseline seeds' range shaded."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    budgets = sorted({r["steps"] for r in rows})
    per = [[r for r in rows if r["steps"] == b] for b in budgets]
    fig = Figure(figsize=(4.2 * len(budgets) + 1.6, 0.32 * len(per[0]) + 1.3))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(budgets), sharey=True, squeeze=False)[0]
    top = max(r["fid"] for r in rows) * 1.35
    for ax, group in zip(axes, per, strict=True):
        names = [r["trick"] for r in group][::-1]
        fids = [r["fid"] for r in group][::-1]
        ax.barh(names, fids, color=["0.55" if n.startswith("baseline") else "tab:blue"
                                    for n in names])
        base = [r["fid"] for r in group if r["trick"].startswith("baseline")]
        ax.axvspan(min(base), max(base), color="0.85", zorder=0,
                   label=f"baseline, {len(base)} seeds")
        for y, r in enumerate(group[::-1]):
            ax.text(r["fid"], y, f" {r['fid']:.0f} ({r['modes']})", va="center", fontsize=7)
        ax.set_title(f"{group[0]['steps']} steps", fontsize=10)
        ax.set_xlim(0, top)
        ax.set_xlabel("FID, MNIST-classifier features")
        ax.tick_params(axis="y", labelsize=8)
    axes[-1].legend(loc="lower right", fontsize=7)
    fig.suptitle("Tricks on DCGAN, MNIST: FID (modes reached), lower is better", fontsize=10)
    fig.tight_layout()
    fig.savefig(RESULTS / "tricks.png", dpi=110)


if __name__ == "__main__":
    main()
