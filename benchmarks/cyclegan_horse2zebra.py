"""CycleGAN on horse2zebra at 128 px on this machine's CPU: translation success both ways (share
of translated test images the committed horse/zebra classifier puts in the target domain), FID and
KID on that classifier's features against the real target-domain test images, the cycle
reconstruction L1, the success curve over training, and the figure. Targets: horse -> zebra
success >= 80 %, zebra -> horse >= 60 %.

    .venv/bin/python benchmarks/cyclegan_horse2zebra.py [--steps 5000] [--width 64] [--identity 0.5]
        [--lr-d 2e-4] [--weights last|chosen]

The run goes to benchmarks/runs/cyclegan-h2z-128-<run> (ignored by git; resumed when stopped),
<run> = w<width>[-id<identity>][-lrd<lr_d>] when these differ from the defaults, and keeps its
generators every 250 steps for the curve. Committed: the table
results/cyclegan_horse2zebra.{json,md} (one row per run and weights) and each run's own
files, so a new run replaces none of another's:
results/cyclegan_horse2zebra_<run>_{curve.json,curve.png,samples.png} (--weights last) and
results/cyclegan_horse2zebra_<run>_{train_curve.json,selection.png,chosen_samples.png}
(--weights chosen). The classifier reads real test images at 92.3 % (its ceiling:
assets/classifiers/classifiers.json).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

import ganforge  # noqa: E402
from common import RESULTS, machine, save  # noqa: E402
from ganforge.data import load_dataset  # noqa: E402
from translation_common import (  # noqa: E402
    RUNS,
    earlier_rows,
    figure_rows,
    load_weights,
    score,
    snapshots,
    train_or_resume,
    training_facts,
)

SIZE = 128
LR = 2e-4  # the preset's learning rate of G and D
OPTIONS = {"data": "horse2zebra", "image_size": SIZE, "log_every": 200, "seed": 0,
           "snapshot_every": 250}
FIGURE_INDICES = (0, 7, 21, 40, 66, 90)


def curve(out: Any) -> list[dict[str, float]]:
    """Success both ways at every kept snapshot, and the judge's mean probability of the target
    domain (how near its decision the translations lie)."""
    points, run = [], ganforge.load_run(out)
    for step, folder in snapshots(out):  # each snapshot replaces every exported net
        s = score(load_weights(run, folder), metrics=("success",))
        points.append({"step": step, "h2z": 100 * s["success_ab"]["success"],
                       "z2h": 100 * s["success_ba"]["success"],
                       "h2z_prob": s["success_ab"]["target_prob"],
                       "z2h_prob": s["success_ba"]["target_prob"]})
        print(points[-1], flush=True)
    return points


def train_curve(out: Any) -> list[dict[str, float]]:
    """Success both ways of every kept snapshot on the training images (centre-cropped, as the
    test split is read), cached in the run folder: what a user without test data can choose
    weights by."""
    cache = out / "train_success.json"
    points = {p["step"]: p for p in (json.loads(cache.read_text()) if cache.is_file() else [])}
    run = ganforge.load_run(out)
    for step, folder in snapshots(out):
        if step in points:
            continue
        s = score(load_weights(run, folder), split="train", metrics=("success",))
        points[step] = {"step": step, "train_h2z": 100 * s["success_ab"]["success"],
                        "train_z2h": 100 * s["success_ba"]["success"]}
        print(points[step], flush=True)
        cache.write_text(json.dumps(sorted(points.values(), key=lambda p: p["step"]), indent=1))
    return sorted(points.values(), key=lambda p: p["step"])


def chosen(points: list[dict[str, float]]) -> int:
    """The snapshot with the highest mean success of the two directions on the training images
    (the later one on a tie): the rule, fixed before any chosen snapshot was scored on test."""
    return max(points, key=lambda p: ((p["train_h2z"] + p["train_z2h"]) / 2, p["step"]))["step"]


def plot_selection(train: list[dict[str, float]], test: list[dict[str, float]], step: int,
                   path: Any) -> None:
    """Horse -> zebra success over the snapshots on the training and the test images, and the
    chosen snapshot."""
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=110)
    ax.plot([p["step"] for p in train], [p["train_h2z"] for p in train], "o--",
            label="h->z, training images")
    ax.plot([p["step"] for p in test], [p["h2z"] for p in test], "s-", label="h->z, test images")
    ax.axvline(step, color="k", lw=1, ls=":", label=f"chosen: step {step}")
    ax.axhline(80, color="C1", ls=":", lw=1)
    ax.set(xlabel="training step (batch 1)", ylabel="horse -> zebra success (%)",
           ylim=(0, 100), title="Choosing a snapshot on the training images")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def test_curve(out: Any, path: Any) -> list[dict[str, float]]:
    """The run's committed test curve at `path` when it is still this run's (its last snapshot
    scores the same on test again), else the curve computed anew."""
    committed = json.loads(path.read_text()) if path.is_file() else []
    kept = snapshots(out)
    if committed and [p["step"] for p in committed] == [step for step, _ in kept]:
        run = load_weights(ganforge.load_run(out), kept[-1][1])
        s = score(run, metrics=("success",))
        if abs(100 * s["success_ab"]["success"] - committed[-1]["h2z"]) < 1e-9:
            return list(committed)
    return curve(out)


def plot_curve(points: list[dict[str, float]], path: Any) -> None:
    """Success over steps, with the targets."""
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=110)
    steps = [p["step"] for p in points]
    ax.plot(steps, [p["h2z"] for p in points], "o-", label="horse -> zebra")
    ax.plot(steps, [p["z2h"] for p in points], "s-", label="zebra -> horse")
    ax.axhline(80, color="C0", ls=":", lw=1)
    ax.axhline(60, color="C1", ls=":", lw=1)
    ax.set(xlabel="training step (batch 1)", ylabel="translation success (%)", ylim=(0, 100),
           title=f"CycleGAN, horse2zebra {SIZE} px, CPU")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def figure(run: Any, path: Any) -> None:
    """Fixed test horses and zebras: real | translated | reconstructed."""
    test = load_dataset("horse2zebra", split="test", image_size=SIZE)
    batch = test.make_batch(torch.tensor(FIGURE_INDICES), torch.device("cpu"))
    fake_b, fake_a = run.translate(batch.a, "AtoB"), run.translate(batch.b, "BtoA")
    rec_a, rec_b = run.translate(fake_b, "BtoA"), run.translate(fake_a, "AtoB")
    figure_rows([batch.a, fake_b, rec_a, batch.b, fake_a, rec_b], path)


def ceiling() -> str:
    """The judge's accuracy and each domain's recall on the real test images, from its
    manifest: about the ceilings of the success figures."""
    from ganforge.features.classifier import read_manifest

    entry = read_manifest()["zebra-classifier"]
    recall = entry.get("class_recall", {})
    shown = ", ".join(f"{c}s {100 * r:.1f} %" for c, r in recall.items())
    return (f"{100 * entry['test_accuracy']:.1f} % on real test images"
            + (f"; it reads as their own domain {shown}, about the ceilings of z2h and h2z "
               "success" if recall else ""))


def main() -> None:
    """Train, score, plot the curve and the figure, save the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--width", type=int, default=64,
                        help="base width of G and D (64 = the paper's; 32 is ~4x faster on a CPU)")
    parser.add_argument("--identity", type=float, default=0.5,
                        help="identity loss weight, times lambda (0.5 = the official code's "
                             "default; the paper added it for painting -> photo, section 5.2)")
    parser.add_argument("--lr-d", type=float, default=LR,
                        help="the discriminators' learning rate (the paper's: 2e-4, as G's)")
    parser.add_argument("--weights", choices=("last", "chosen"), default="last",
                        help="score the last weights (and draw the curve and the figure), or "
                             "the snapshot with the best mean success on the training images")
    args = parser.parse_args()
    suffix = "" if args.identity == 0.5 else f"-id{args.identity:g}"
    suffix += "" if args.lr_d == LR else f"-lrd{args.lr_d:g}"
    out = RUNS / f"cyclegan-h2z-{SIZE}-w{args.width}{suffix}"
    files = f"cyclegan_horse2zebra_w{args.width}{suffix}_"  # this run's curves and figures
    spent = train_or_resume("cyclegan", out, args.steps, width=args.width,
                            lambda_identity=args.identity, lr_d=args.lr_d, **OPTIONS)
    # a row from before the width and cpu columns was the paper's width 64 on the Xeon, one from
    # before the identity column had the official code's identity weight 0.5
    run_keys = {"steps": args.steps, "width": args.width, "identity": args.identity,
                "lr_d": args.lr_d}
    defaults = {"width": 64, "identity": 0.5, "lr_d": LR, "weights": "last"}
    facts = training_facts("cyclegan_horse2zebra", spent, run_keys, defaults, out)
    run, weights = ganforge.load_run(out), "last"
    if args.weights == "chosen":
        train = train_curve(out)
        step = chosen(train)
        run, weights = load_weights(run, dict(snapshots(out))[step]), f"step {step}, chosen"
        plot_selection(train, test_curve(out, RESULTS / f"{files}curve.json"), step,
                       RESULTS / f"{files}selection.png")
        figure(run, RESULTS / f"{files}chosen_samples.png")
        (RESULTS / f"{files}train_curve.json").write_text(
            json.dumps({"run": run_keys, "chosen": step, "points": train}, indent=2))
    s = score(run)
    row = {**run_keys, "weights": weights, "cpu": machine()["cpu"],
           "h2z_success": 100 * s["success_ab"]["success"],
           "z2h_success": 100 * s["success_ba"]["success"], "fid_h2z": s["fid_ab"]["fid"],
           "fid_z2h": s["fid_ba"]["fid"], "kid_h2z": s["kid_ab"]["kid"],
           "kid_z2h": s["kid_ba"]["kid"], "cycle_l1_horse": s["cycle_a"]["cycle_l1"],
           "cycle_l1_zebra": s["cycle_b"]["cycle_l1"],
           **facts}
    if args.weights == "last":
        points = curve(out)
        plot_curve(points, RESULTS / f"{files}curve.png")
        figure(run, RESULTS / f"{files}samples.png")
        (RESULTS / f"{files}curve.json").write_text(json.dumps(points, indent=2))
    kept = earlier_rows("cyclegan_horse2zebra", row, (*run_keys, "weights"), defaults)
    save("cyclegan_horse2zebra", kept + [row], list(row),
         f"CycleGAN on horse2zebra, {SIZE} px, 120 test horses and 140 test zebras",
         f"cyclegan preset at {SIZE} px (6 residual blocks, batch 1, LSGAN, lambda 10, "
         "identity loss weight in its column, pools of 50, lr constant for the first half of "
         "the steps, then linearly decayed to 0) "
         "on the shared training set (400 horses, 400 zebras). Success, FID and KID from the "
         f"committed zebra-classifier ({ceiling()}); cycle L1 on [0, 1] pixels. lr_d: the "
         "discriminators' learning rate (G's stays 2e-4). weights: last, or the snapshot "
         "(kept every 250 steps) with the highest mean success of the two directions on the "
         "training images (--weights chosen), chosen without the test images. Each run's "
         "success curve, figure and choice: results/cyclegan_horse2zebra_<run>_*, <run> = "
         "w<width>[-id<identity>][-lrd<lr_d>] where these differ from 64, 0.5, 2e-4. "
         f"Machine: {machine()['cpu']}.")


if __name__ == "__main__":
    main()
