"""StarGAN's judges side by side: each value's recall of the committed celeba-classifier and of
the first one it replaced, on the 1,000 held-out faces of the CelebA subset.

    GANFORGE_DATA=../shared/data .venv/bin/python benchmarks/attribute_judges.py

A translation to a target value can be read as a success about as often as the judge reads real
faces with that value, so these recalls are the ceilings of the success figures in
results/stargan_celeba.md. The first classifier's weights are read from the git history (commit
FIRST, their SHA256 checked against the one the benchmark rows of that judge carry). Writes
results/attribute_judges.{json,md}.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import torch
from torch import Tensor

from common import save
from ganforge.data.celeba import load_celeba
from ganforge.features.classifier import (
    DomainClassifier,
    classifier_info,
    classifier_spec,
    load_classifier,
    to_input,
)

NAME = "celeba-classifier"
ATTRS = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young")
FIRST = "1a41bdc"  # the commit that holds the first classifier's final weights
FIRST_SHA256 = "537ab55a1dfd07775e41dbadfe852663484c17d5820114dc6dba4ec7665eb17f"
ROOT = Path(__file__).resolve().parents[1]


def first_classifier() -> DomainClassifier:
    """The replaced classifier, from the git history, its SHA256 checked."""
    from safetensors.torch import load

    path = classifier_info(NAME).file.relative_to(ROOT)
    raw = subprocess.run(["git", "show", f"{FIRST}:{path.as_posix()}"], cwd=ROOT, check=True,
                         capture_output=True).stdout
    if hashlib.sha256(raw).hexdigest() != FIRST_SHA256:
        raise SystemExit(f"error: {path} at {FIRST} is not the first classifier's file")
    spec = classifier_spec(NAME)
    model = DomainClassifier(spec.channels, spec.num_classes)
    model.load_state_dict(load(raw), strict=True)
    return model.eval()


@torch.no_grad()
def recalls(model: DomainClassifier, images: Tensor, truth: Tensor) -> dict[str, float]:
    """Per attribute: recall with / without it (%), and the balanced accuracy (%)."""
    read = torch.cat([model(to_input(images[i : i + 250], 64)) for i in range(0, len(images),
                                                                             250)]) > 0
    row: dict[str, float] = {}
    for j, a in enumerate(ATTRS):
        has = truth[:, j]
        with_, without = float(read[has, j].float().mean()), float((~read[~has, j]).float().mean())
        row[f"{a}_with"], row[f"{a}_without"] = round(100 * with_, 1), round(100 * without, 1)
        row[f"{a}_balanced"] = round(50 * (with_ + without), 1)
    return row


def main() -> None:
    torch.set_num_threads(2)
    data = load_celeba("test", None, 64)
    assert data.attrs is not None
    truth = data.attrs[:, [data.attributes.index(a) for a in ATTRS]] == 1
    rows = []
    for judge, model in (("first (unweighted loss, 4 epochs)", first_classifier()),
                         ("committed (balanced loss, 12 epochs)", load_classifier(NAME))):
        r = recalls(model, data.images, truth)
        balanced = sum(r[f"{a}_balanced"] for a in ATTRS) / len(ATTRS)
        rows.append({"judge": judge, **r, "mean_balanced": round(balanced, 1)})
        print(rows[-1], flush=True)
    save("attribute_judges", rows, list(rows[0]), "StarGAN's judges: recall of each value on "
         "the 1,000 held-out CelebA faces (%)", "`<attr>_with`: share of held-out faces with the "
         "attribute that the classifier reads with it; `_without`: of those without it, read "
         "without; `_balanced`: their mean. Logit > 0 reads as present. The first classifier's "
         f"weights from git commit {FIRST} (sha256 {FIRST_SHA256[:8]}). `python "
         "benchmarks/attribute_judges.py`.")


if __name__ == "__main__":
    main()
