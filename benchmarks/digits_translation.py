"""CycleGAN on the `mnist-style` task (plain MNIST digits <-> a disjoint set of bold, inverted
digits), on this machine's CPU: does the digit survive the translation (class preservation, read
by the committed MNIST classifier after undoing the style) and does the style change (domain
success, by the background rule), both ways, on all 10,000 test digits. Target: >= 95 % each.

    nice .venv/bin/python benchmarks/digits_translation.py [--steps 1500]

The run goes to benchmarks/runs/digits-cyclegan (ignored by git; resumed when stopped);
results/digits_translation.{json,md} and the figure results/digits_translation.png are committed.
"""

from __future__ import annotations

import argparse

import torch

import ganforge
from common import RESULTS, machine, save
from ganforge.data import load_dataset
from ganforge.viz import save_grid
from translation_common import RUNS, score, train_or_resume, training_facts

#: On top of the cyclegan preset: 32 px digits, a smaller net (width 32, 3 residual blocks) and
#: batch 8, which make the task a matter of minutes on a CPU.
OPTIONS = {"data": "mnist-style", "image_size": 32, "width": 32, "blocks": 3, "batch_size": 8,
           "log_every": 250, "seed": 0}


def main() -> None:
    """Train, score both directions, draw the figure, save the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1500)
    args = parser.parse_args()
    out = RUNS / "digits-cyclegan"
    spent = train_or_resume("cyclegan", out, args.steps, **OPTIONS)
    run = ganforge.load_run(out)
    scores = score(run, metrics=("success", "cycle"))
    rows = []
    for key, way in (("success_ab", "plain -> bold-inverted"), ("success_ba",
                                                               "bold-inverted -> plain")):
        v = scores[key]
        rows.append({"direction": way, "class_preservation": 100 * v["class_preservation"],
                     "domain_success": 100 * v["success"],
                     "cycle_l1": scores["cycle_a" if key.endswith("ab") else "cycle_b"][
                         "cycle_l1"], "steps": args.steps,
                     **training_facts("digits_translation", spent,
                                      {"direction": way, "steps": args.steps})})
    test = load_dataset("mnist-style", split="test")  # the figure: 8 test digits each way
    batch = test.make_batch(torch.arange(8), torch.device("cpu"))
    figure = run.variant.preview({"a": batch.a, "b": batch.b}, run.nets)
    save_grid(figure.images, RESULTS / "digits_translation.png", nrow=figure.nrow)
    save("digits_translation", rows,
         ["direction", "class_preservation", "domain_success", "cycle_l1", "steps", "wall_s",
          "cpu_s", "date"],
         "CycleGAN on the mnist-style task (10,000 test digits each way)",
         f"cyclegan preset with {OPTIONS}; class preservation = MNIST classifier accuracy on the"
         " translations after undoing the style (real digits read at 99.2 % / 99.3 %), domain "
         "success = the background rule; cycle_l1 on [0, 1] pixels. Machine: "
         f"{machine()['cpu']}. Figure: real_A | fake_B | rec_A | real_B | fake_A | rec_B.")


if __name__ == "__main__":
    main()
