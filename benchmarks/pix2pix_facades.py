"""Pix2Pix on facades, labels -> photo, on this machine's CPU, against two baselines at the same
budget: the same U-Net trained with L1 alone (`--lambda-gan 0`) and the mean training photo.
Scored on the 106 test pairs: L1, PSNR, SSIM and sharpness (variance of the Laplacian of the
outputs as a ratio to the real photos'). The paper's point (Isola et al. 2017, Fig. 4, Table 1):
L1 alone is blurry; L1 + PatchGAN is sharp at a similar PSNR.

    nice .venv/bin/python benchmarks/pix2pix_facades.py [--size 128] [--steps 4000]

Runs go to benchmarks/runs/ (ignored by git; resumed when stopped); results/pix2pix_facades.
{json,md} and the figure results/pix2pix_facades.png (input | L1 only | pix2pix | target) are
committed.
"""

from __future__ import annotations

import argparse
from typing import Any

import torch

import ganforge
from common import RESULTS, machine, save
from ganforge.data import load_dataset
from ganforge.evaluation.translation import pixel_values, psnr_values
from translation_common import RUNS, figure_rows, score, train_or_resume, training_facts

METRICS = ("l1", "psnr", "ssim", "sharpness")
FIGURE_INDICES = (0, 5, 17, 42, 77, 99)  # fixed test pairs


def mean_photo_row(size: int) -> dict[str, Any]:
    """The baseline that predicts the mean training photo (centre crops) for every input."""
    train = load_dataset("facades", split="train", image_size=size, direction="BtoA")
    test = load_dataset("facades", split="test", image_size=size, direction="BtoA")
    cpu = torch.device("cpu")
    mean = train.make_batch(torch.arange(len(train)), cpu).b.mean(0, keepdim=True)
    target = test.make_batch(torch.arange(len(test)), cpu).b
    to8 = lambda x: ((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)  # noqa: E731
    values = pixel_values(to8(mean.expand_as(target)), to8(target), METRICS)
    ratio = float(values["laplacian"].mean() / values["laplacian_real"].mean())
    return {"model": "mean training photo", "l1": float(values["l1"].mean()),
            "psnr": psnr_values(values["psnr"])["psnr"], "ssim": float(values["ssim"].mean()),
            "sharpness": ratio}


def model_row(name: str, out: Any, spent: dict[str, float], steps: int) -> dict[str, Any]:
    """Scores of one trained run on the whole test split."""
    s = score(ganforge.load_run(out), metrics=METRICS)
    return {"model": name, "l1": s["l1_ab"]["l1"], "psnr": s["psnr_ab"]["psnr"],
            "ssim": s["ssim_ab"]["ssim"], "sharpness": s["sharpness_ab"]["sharpness"],
            "steps": steps,
            **training_facts("pix2pix_facades", spent, {"model": name, "steps": steps})}


def main() -> None:
    """Train both runs, score them and the mean photo, draw the figure, save the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=4000)
    args = parser.parse_args()
    opts = {"image_size": args.size, "log_every": 500, "seed": 0}
    runs = {"L1 only (lambda_gan 0)": (RUNS / f"pix2pix-l1-{args.size}", {"lambda_gan": 0.0}),
            "pix2pix (L1 + PatchGAN)": (RUNS / f"pix2pix-{args.size}", {})}
    rows = []
    for name, (out, extra) in runs.items():
        spent = train_or_resume("pix2pix", out, args.steps, **opts, **extra)
        rows.append(model_row(name, out, spent, args.steps))
        print(rows[-1], flush=True)
    rows.append(mean_photo_row(args.size))
    test = load_dataset("facades", split="test", image_size=args.size, direction="BtoA")
    batch = test.make_batch(torch.tensor(FIGURE_INDICES), torch.device("cpu"))
    outs = [ganforge.load_run(out).translate(batch.a) for out, _ in runs.values()]
    figure_rows([batch.a, *outs, batch.b], RESULTS / "pix2pix_facades.png")
    save("pix2pix_facades", rows, ["model", "l1", "psnr", "ssim", "sharpness", "steps", "wall_s",
                                   "cpu_s", "date"],
         f"Pix2Pix on facades, labels -> photo, {args.size} px, 106 test pairs",
         f"pix2pix preset at {args.size} px (batch 1, Adam 2e-4, linear decay over the second "
         f"half of {args.steps} steps, eval-mode translation); L1 and SSIM on [0, 1] pixels, PSNR "
         f"in dB; sharpness = variance of the Laplacian of the outputs / of the real photos "
         f"(1 = as sharp). Machine: {machine()['cpu']}. Figure: input | L1 only | pix2pix | "
         "target.")


if __name__ == "__main__":
    main()
