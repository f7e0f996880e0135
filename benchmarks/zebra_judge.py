"""What the zebra-classifier reads: does a horse photo become a "zebra" to it by colour alone?

    GANFORGE_DATA=../shared/data python benchmarks/zebra_judge.py

CycleGAN's horse -> zebra success (benchmarks/cyclegan_horse2zebra.py) is the share of
translations this committed judge reads as zebras. Zebra photos differ from horse photos in more
than stripes (savanna against green fields), so a translator could score by recolouring alone.
This probes the judge with edits of the real 128 px test images (the size of the translations),
read the way the benchmark reads them: each image as it is, recoloured to the other domain's
per-channel mean and standard deviation, in grayscale, and horses under a 30 % overlay of
vertical stripes. Writes results/zebra_judge.{json,md}.
"""

from __future__ import annotations

import torch
from torch import Tensor

from common import save
from ganforge.data import load_dataset
from ganforge.evaluation.translation_judges import ClassifierJudge

SIZE = 128


def unit(images: Tensor) -> Tensor:
    """uint8 -> float in [-1, 1]."""
    return images.float() / 127.5 - 1


def to_u8(x: Tensor) -> Tensor:
    """[-1, 1] -> uint8, as translations are stored before judging."""
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def recolour(x: Tensor, like: Tensor) -> Tensor:
    """Each image's channels shifted and scaled to the per-channel mean and standard deviation
    of the whole set `like` (its global colour statistics)."""
    mean, std = like.mean((0, 2, 3), keepdim=True), like.std((0, 2, 3), keepdim=True)
    own_mean, own_std = x.mean((2, 3), keepdim=True), x.std((2, 3), keepdim=True)
    return (x - own_mean) / own_std.clamp_min(1e-6) * std + mean


def gray(x: Tensor) -> Tensor:
    """The channel mean, repeated to RGB."""
    return x.mean(1, keepdim=True).expand_as(x)


def stripes(x: Tensor, period: int = 8, alpha: float = 0.3) -> Tensor:
    """A black-and-white vertical stripe pattern blended over the image."""
    cols = torch.arange(x.shape[-1])
    pattern = (((cols // (period // 2)) % 2).float() * 2 - 1).view(1, 1, 1, -1)
    return (1 - alpha) * x + alpha * pattern


def main() -> None:
    test = load_dataset("horse2zebra", split="test", image_size=SIZE)
    horses, zebras = unit(test.a), unit(test.b)
    judge = ClassifierJudge("zebra-classifier")
    probes = {
        "horses": horses,
        "zebras": zebras,
        "horses recoloured to zebra photos' colour statistics": recolour(horses, zebras),
        "zebras recoloured to horse photos' colour statistics": recolour(zebras, horses),
        "horses in grayscale": gray(horses),
        "zebras in grayscale": gray(zebras),
        "horses under 30 % vertical stripes": stripes(horses),
    }
    rows = []
    for name, images in probes.items():
        s = judge.score(to_u8(images), "zebra", None)
        rows.append({"probe": name, "images": len(images),
                     "read_as_zebra": round(100 * float(s["success"].mean()), 1),
                     "mean_zebra_prob": round(float(s["target_prob"].mean()), 3)})
        print(rows[-1], flush=True)
    sha = (judge.weights_sha256 or "?")[:8]
    save("zebra_judge", rows, list(rows[0]), "What the zebra-classifier reads",
         f"The committed zebra-classifier (sha256 {sha}) on the horse2zebra test images at "
         f"{SIZE} px, edited as named, read as the CycleGAN benchmark reads translations "
         "(uint8, then the classifier's own resize). read_as_zebra: the share it calls zebra "
         "(its argmax); mean_zebra_prob: its mean probability of zebra. `python "
         "benchmarks/zebra_judge.py`.")


if __name__ == "__main__":
    main()
