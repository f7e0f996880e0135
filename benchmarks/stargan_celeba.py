"""StarGAN on the CelebA subset (10,000 faces, 89x109) at 64 px on this machine: per-target
translation success (share of the 1,000 held-out faces the committed celeba-classifier reads with
the target value), preservation of the attributes not asked to change, reconstruction L1, FID and
KID on the classifier's features against the real held-out faces, the training time, and the
paper-style figure (rows: faces; columns: input, black, blond, brown hair, gender, age). Targets:
hair-colour success >= 80 % averaged over the three colours, gender and age flips >= 75 %,
preservation >= 85 %.

    nice .venv/bin/python benchmarks/stargan_celeba.py [--steps 20000] [--width 32] [--curve-n 300]

The run goes to benchmarks/runs/stargan-celeba-64-w<width> (ignored by git; resumed when
stopped), keeping G every 2,000 steps for the success-over-steps curve;
results/stargan_celeba.{json,md,png}, _losses.png and _curve.{png,json} are written for
committing, the table keeping one row per run (steps, width) and classifier (--out scores an
earlier run, moved aside, with the committed classifier). The classifier's recall of each value of
each attribute on the real held-out faces (the ceiling of the success figures) is in
assets/classifiers/classifiers.json and in the table's notes.
"""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path
from typing import Any

import matplotlib
import torch

import ganforge
from attribute_judges import FIRST_SHA256
from common import RESULTS, machine, save
from ganforge.data import load_dataset
from translation_common import (
    RUNS,
    earlier_rows,
    figure_rows,
    load_weights,
    snapshots,
    step_records,
    train_or_resume,
    training_time,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SIZE = 64
FIGURE_INDICES = (0, 3, 11, 27, 42, 58, 77, 95)
HAIR = ("Black_Hair", "Blond_Hair", "Brown_Hair")
HELD_OUT = 1000  # the subset's last 10 %
SNAPSHOT_EVERY = 2000  # G kept for the success-over-steps curve
FIRST_CLASSIFIER = FIRST_SHA256[:8]  # the rows scored before the classifier's column existed


def score(run: Any, n: int | None, metrics: tuple[str, ...] | None = None
          ) -> dict[str, dict[str, Any]]:
    """The metrics of `ganforge eval RUN` (None: every one) on the held-out faces, as
    {metric: values}."""
    from ganforge.evaluation import TranslationOptions
    from ganforge.evaluation.attribute_translation import evaluate_attribute_translation

    report = evaluate_attribute_translation(run, n=n, options=TranslationOptions(metrics=metrics))
    return {r.metric: dict(r.values) for r in report.results}


def successes(s: dict[str, dict[str, Any]]) -> dict[str, float]:
    """The table's success and preservation columns (%) from `score`'s values."""
    return {"hair_success": 100 * sum(s[f"success_{h}"]["success"] for h in HAIR) / 3,
            **{f"{h.split('_')[0].lower()}_success": 100 * s[f"success_{h}"]["success"]
               for h in HAIR},
            "male_success": 100 * s["success_~Male"]["success"],
            "young_success": 100 * s["success_~Young"]["success"],
            "preservation": 100 * s["preservation"]["preservation"]}


def curve(out: Path, n: int | None) -> list[dict[str, float]]:
    """Success per target and preservation at every kept snapshot of G."""
    points, run = [], ganforge.load_run(out)
    for step, folder in snapshots(out):  # each snapshot replaces every exported net
        s = score(load_weights(run, folder), n, ("success", "preservation"))
        points.append({"step": step, **successes(s)})
        print({k: round(v, 1) for k, v in points[-1].items()}, flush=True)
    return points


def plot_curve(points: list[dict[str, float]], path: Path) -> None:
    """Success per target and preservation over training, with the targets."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8), dpi=110)
    steps = [p["step"] for p in points]
    for i, (key, label, target) in enumerate((
            ("hair_success", "hair colour (mean of 3)", 80), ("male_success", "gender flip", 75),
            ("young_success", "age flip", 75), ("preservation", "preservation", 85))):
        ax.plot(steps, [p[key] for p in points], "o-", color=f"C{i}", label=label)
        ax.axhline(target, color=f"C{i}", ls=":", lw=1)
    ax.set(xlabel="training step", ylabel="% of held-out faces (dotted: targets)", ylim=(0, 100),
           title=f"StarGAN, CelebA subset {SIZE} px, CPU")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def figure(run: Any, name: str) -> None:
    """Fixed held-out faces: input, then every target of the paper's figure (true labels)."""
    cfg = run.config
    test = load_dataset("celeba", split="test", data_dir=cfg.data_dir, image_size=SIZE)
    idx = torch.tensor([i for i in FIGURE_INDICES if i < len(test)])
    batch = test.make_batch(idx, torch.device("cpu"))
    labels = run.variant.labels.of_batch(batch)
    _, row = run.variant.target_row(batch.x, run.nets, labels)  # (B, T, C, H, W)
    figure_rows([batch.x, *row.unbind(1)], RESULTS / f"{name}.png")


def plot_losses(out: Path, path: Path, smooth: int = 250) -> None:
    """D's domain-classification loss on real faces, G's on its translations and G's
    reconstruction L1 over training (means over `smooth` steps), from the run's log."""
    records = {step: r for step, r in step_records(out).items() if "g_cls" in r}
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5), dpi=110)
    for ax, keys in ((ax1, ("d_cls", "g_cls")), (ax2, ("g_rec",))):
        for key in keys:
            buckets: dict[int, list[float]] = {}
            for step, r in records.items():  # steps 1..smooth go to bucket 0
                buckets.setdefault((step - 1) // smooth, []).append(r[key])
            xs = sorted(buckets)
            ax.plot([(b + 0.5) * smooth for b in xs],
                    [sum(buckets[b]) / len(buckets[b]) for b in xs], label=key)
        ax.set(xlabel="training step (D steps; G every 5th)")
        ax.legend()
    ax1.set(ylabel="cross-entropy, summed over attributes",
            title=f"domain classification (means of {smooth} steps)")
    ax2.set(ylabel="L1 on [-1, 1]", title="reconstruction G(G(x, c), c_org)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def judge() -> dict[str, Any]:
    """The committed celeba-classifier's manifest entry."""
    from ganforge.features.classifier import read_manifest

    return dict(read_manifest()["celeba-classifier"])


def ceiling() -> str:
    """The classifier's recall of each target value on real held-out faces: the success a
    translator whose outputs were real faces with the target value would score."""
    entry = judge()
    if "attribute_recall_present" not in entry:
        return "per-value recall not recorded"
    present, absent = entry["attribute_recall_present"], entry["attribute_recall_absent"]
    shown = ", ".join(f"{a} {100 * present[a]:.0f}/{100 * absent[a]:.0f} %" for a in present)
    return ("its recall on the real held-out faces with/without each attribute, the ceiling of "
            f"the success figures: {shown}")


def verdicts(row: dict[str, Any]) -> str:
    """The issue's targets, met or not."""
    checks = [("hair-colour success >= 80 %", row["hair_success"] >= 80),
              ("gender flip >= 75 %", row["male_success"] >= 75),
              ("age flip >= 75 %", row["young_success"] >= 75),
              ("preservation >= 85 %", row["preservation"] >= 85)]
    return "; ".join(f"{what}: {'met' if ok else 'NOT met'}" for what, ok in checks)


def main() -> None:
    """Train (or resume), score, draw the figure, save the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--width", type=int, default=32, help="G and D base channels (paper: 64)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--n", type=int, default=None, help="held-out faces scored (default all)")
    parser.add_argument("--curve-n", type=int, default=300,
                        help="held-out faces scored at each snapshot for the curve")
    parser.add_argument("--name", default="stargan_celeba", help="results/<name>.{json,md,png}")
    parser.add_argument("--out", type=Path, default=None, help="the run folder (default "
                        "runs/stargan-celeba-64-w<width>; an earlier run moved aside, to score "
                        "it again)")
    args = parser.parse_args()
    out = args.out or RUNS / f"stargan-celeba-{SIZE}-w{args.width}"
    train_or_resume("stargan", out, args.steps, data="celeba", image_size=SIZE, width=args.width,
                    batch_size=args.batch_size, log_every=200, seed=0,
                    snapshot_every=SNAPSHOT_EVERY)
    run = ganforge.load_run(out)
    s = score(run, args.n)
    row = {"steps": args.steps, "width": args.width, **successes(s),
           "reconstruction_l1": s["reconstruction"]["reconstruction_l1"],
           "fid": s["fid"]["fid"], "kid": s["kid"]["kid"], "classifier": judge()["sha256"][:8],
           "train_s": round(training_time(step_records(out))["train_s"]), "cpu": machine()["cpu"],
           "date": datetime.date.today().isoformat()}
    figure(run, args.name)
    plot_losses(out, RESULTS / f"{args.name}_losses.png")
    points = curve(out, args.curve_n)
    if points:
        plot_curve(points, RESULTS / f"{args.name}_curve.png")
        (RESULTS / f"{args.name}_curve.json").write_text(json.dumps(
            {"run": {"steps": args.steps, "width": args.width}, "n": args.curve_n or HELD_OUT,
             "points": points}, indent=2))
    curve_note = (f"; success and preservation at every {SNAPSHOT_EVERY}th step ({args.curve_n} "
                  f"held-out faces): results/{args.name}_curve.{{png,json}}" if points else "")
    keys = ("steps", "width", "classifier")
    rows = sorted([*earlier_rows(args.name, row, keys, {"classifier": FIRST_CLASSIFIER}), row],
                  key=lambda r: (r["classifier"] == row["classifier"], r["width"], r["steps"]))
    save(args.name, rows, list(row),
         f"StarGAN on the CelebA subset, {SIZE} px, {min(args.n or HELD_OUT, HELD_OUT)} held-out "
         "faces",
         f"stargan preset at {SIZE} px (width {args.width}, 6 residual blocks, batch "
         f"{args.batch_size}, WGAN-GP lambda 10, lambda_cls 1, lambda_rec 10, n_critic 5, Adam "
         f"1e-4 (0.5, 0.999), linear decay over the second half of {args.steps} steps) on the "
         "first 9,000 faces; success per target, preservation, FID and KID from the committed "
         f"celeba-classifier (column classifier: its SHA256's first 8 digits; {ceiling()}); "
         "reconstruction L1 on [0, 1] pixels; train_s: the run's own training "
         "time from its log (stops and pauses not counted; time beside other jobs on the same "
         "cores counted). Targets (the "
         f"{args.steps}-step run, classifier {row['classifier']}): "
         f"{verdicts(row)}. Machine: {machine()['cpu']}. Figure: results/{args.name}.png "
         "(input | black | blond | brown hair | gender flipped | age flipped); losses over "
         f"training: results/{args.name}_losses.png{curve_note}. One row per run (steps, "
         f"width) and classifier; rows with classifier {FIRST_CLASSIFIER} were scored by the first "
         "celeba-classifier (4 epochs, unweighted loss), which read older faces as young and brown "
         "hair as another colour on most real faces (each value's recall, for both classifiers: "
         "results/attribute_judges.md).")


if __name__ == "__main__":
    main()
