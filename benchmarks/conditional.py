"""Conditional GANs on MNIST, on this machine's CPU: GAN-test and GAN-train accuracies of cgan and
acgan (Shmelkov et al. 2018), and how well infogan's categorical code alone separates the digits
(purity of the best one-to-one code -> class matching, Hungarian), with the training time that
reached them. Targets: GAN-test >= 95 %, InfoGAN purity >= 80 %.

    nice .venv/bin/python benchmarks/conditional.py                 # all three models
    nice .venv/bin/python benchmarks/conditional.py --models acgan --steps 500,1000

Runs go to benchmarks/runs/ (ignored by git); results/conditional.{json,md} and the figures
results/conditional_*.png are committed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from common import RESULTS, machine, save
from gan_bench import Scorer, chunks, load_snapshot, to_float, train_segments, wait_for_classifier

RUNS = Path(__file__).resolve().parent / "runs" / "conditional"
PER_CLASS = 1000  # 10k class-conditional samples
#: Per model: options on top of its preset, and the step counts at which it is scored. cgan and
#: acgan use DCGAN nets of width 32 with an EMA of G (decay 0.999, --ema) for sampling; infogan
#: uses its preset (the paper's networks, width 64).
MODELS: dict[str, tuple[dict[str, Any], list[int]]] = {
    "cgan": ({"width": 32, "ema": 0.999}, [1000, 2000, 3000, 4000, 5000, 6000]),
    "acgan": ({"width": 32, "ema": 0.999}, [1000, 2000, 3000, 4000, 5000, 6000]),
    "infogan": ({}, [500, 1000, 1500, 2000, 3000]),
}


def class_samples(run: Any, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """PER_CLASS samples of each class and their labels."""
    k = int(run.spec.num_classes)
    inputs = run.variant.noise(k * PER_CLASS, torch.Generator().manual_seed(seed))
    inputs["y"] = torch.arange(k).repeat_interleave(PER_CLASS)
    return torch.cat(list(chunks(run, inputs))), inputs["y"]


def gan_train(scorer: Scorer, fake: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """GAN-train (classifier fit on fakes, tested on real test) and GAN-base, 3 epochs each."""
    from ganforge.features.classifier import DomainClassifier
    from ganforge.metrics import gan_train_test

    train = load_dataset_subset(len(fake))
    r = gan_train_test(DomainClassifier, train, (scorer.test_x, scorer.test_y), (fake, labels),
                       epochs=3, seed=0)
    return {"gan_train": r.gan_train, "gan_base": r.gan_base}


def load_dataset_subset(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first n MNIST training images in [-1, 1] with labels (GAN-base's training set)."""
    from ganforge.data import load_dataset

    data = load_dataset("mnist")
    return to_float(data.data[:n]), data.labels[:n]


def code_purity(codes: np.ndarray, classes: np.ndarray, k: int = 10) -> dict[str, float]:
    """Share of samples whose code maps to their classifier label under the best one-to-one
    code -> class assignment (Hungarian), and under each code's majority class."""
    table = np.zeros((k, k), dtype=np.int64)
    np.add.at(table, (codes, classes), 1)
    rows, cols = linear_sum_assignment(-table)
    return {"purity": float(table[rows, cols].sum() / len(codes)),
            "majority_purity": float(table.max(1).sum() / len(codes))}


def evaluate(model: str, out: Path, seg: dict, scorer: Scorer, final: bool) -> dict[str, Any]:
    """One row of the table: the scores of G at the end of segment `seg`."""
    run = load_snapshot(out, seg["steps"])
    row: dict[str, Any] = {"model": model, **seg, "date": datetime.date.today().isoformat()}
    if model == "infogan":
        inputs = run.variant.noise(10_000, torch.Generator().manual_seed(1))
        fake = torch.cat(list(chunks(run, inputs)))
        feats, probs = scorer.outputs(fake)
        row.update(code_purity(inputs["c_cat"].numpy(), probs.argmax(1)))
    else:
        fake, labels = class_samples(run)
        feats, probs = scorer.outputs(fake)
        row["gan_test"] = float((probs.argmax(1) == labels.numpy()).mean())
        if final:
            row.update(gan_train(scorer, fake, labels))
    row["fid"] = scorer.fid(feats)
    print("  ", {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}, flush=True)
    return row


def figures(model: str, out: Path, steps: int) -> None:
    """The committed pictures: a class grid (cgan, acgan) or code traversals (infogan)."""
    run = load_snapshot(out, steps)
    if model == "infogan":
        images, cols = run.traverse(steps=8, seed=3)
        run.save_grid(images, RESULTS / "conditional_infogan_traverse.png", cols)
        inputs = run.variant.grid_inputs(100, torch.Generator().manual_seed(3))
        run.save_grid(run.generate(inputs), RESULTS / "conditional_infogan_codes.png", 10)
    else:
        images, per_row = run.class_grid(10, seed=3)
        run.save_grid(images, RESULTS / f"conditional_{model}_classes.png", per_row)


def main() -> None:
    """Train, score and write the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="cgan,acgan,infogan")
    p.add_argument("--steps-for", action="append", default=[], metavar="MODEL=LIST",
                   help="other step counts for one model, e.g. infogan=500,1000")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-only", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(2)
    models = args.models.split(",")
    steps = {m: MODELS[m][1] for m in models}
    for item in args.steps_for:
        model, _, values = item.partition("=")
        steps[model] = [int(s) for s in values.split(",")]
    common = {"seed": args.seed, "monitor_every": 0, "log_every": 10_000,
              "checkpoint_every": 100_000}
    #: Row label and run folder: the model's name, with "-seedN" for seeds other than 0.
    names = {m: m if args.seed == 0 else f"{m}-seed{args.seed}" for m in models}
    options = {names[m]: {**common, **MODELS[m][0]} for m in models}
    segments = {m: train_segments(m, RUNS / names[m], steps[m], **options[names[m]])
                for m in models}
    if args.train_only:
        return
    wait_for_classifier(30)
    scorer, rows = Scorer(), []
    for m in models:
        last = len(steps[m]) - 1
        for i, seg in enumerate(segments[m][: last + 1]):
            row = evaluate(m, RUNS / names[m], seg, scorer, final=i == last)
            rows.append({**row, "model": names[m]})
        if args.seed == 0:  # the committed pictures come from the seed-0 runs
            figures(m, RUNS / m, steps[m][-1])
    write(rows, scorer, options)


def write(rows: list[dict[str, Any]], scorer: Scorer, options: dict[str, Any]) -> None:
    """results/conditional.{json,md}."""
    columns = ["model", "steps", "wall_s", "cpu_s", "gan_test", "gan_train", "gan_base",
               "purity", "majority_purity", "fid", "date"]
    notes = ("MNIST 28x28, batch 64, one run per model (seed 0; a model-seedN row is the same "
             "model trained with seed N), scored at each step count. "
             "cgan and acgan: their presets with DCGAN nets of width 32 and samples from an EMA "
             "of G (--ema 0.999); infogan: its preset (the paper's networks, FC 1024 layers, "
             "width 64, lr_g 1e-3, lr_d 2e-4), no EMA. wall_s and cpu_s are cumulative training "
             "time on a machine shared with other jobs: wall time includes waiting, and CPU time "
             "inflates when the 2 cores are oversubscribed. "
             f"GAN-test: the committed {scorer.provenance()['extractor']} (sha256 "
             f"{scorer.provenance()['weights_sha256'][:12]}…) on {PER_CLASS} samples per class. "
             "GAN-train / GAN-base: a fresh copy of that CNN trained 3 epochs on 10k samples / 10k "
             "real training images, tested on the 10k MNIST test images. InfoGAN purity: 10k "
             "samples, categorical code vs the classifier's label, best one-to-one matching "
             "(Hungarian); majority_purity lets codes share a class. FID: classifier features, "
             "10k samples vs the 10k test images.")
    path = RESULTS / "conditional.json"
    rows, options = _keep_other_models(path, rows, options)
    save("conditional", rows, columns, "Conditional GANs on MNIST (CPU)", notes)
    body = json.loads(path.read_text())
    body.update(provenance=scorer.provenance(), options=options, machine=machine(),
                processor=platform.processor(), nproc=os.cpu_count())
    path.write_text(json.dumps(body, indent=2))


def _keep_other_models(path: Path, rows: list[dict[str, Any]], options: dict[str, Any]
                       ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows and options of the models this call did not re-run, kept from the committed table
    (so `--models infogan` updates infogan's rows only)."""
    if not path.is_file():
        return rows, options
    old = json.loads(path.read_text())
    kept = [r for r in old.get("rows", []) if r["model"] not in options]
    kept_options = {m: o for m, o in old.get("options", {}).items() if m not in options}
    return kept + rows, {**kept_options, **options}


if __name__ == "__main__":
    main()
