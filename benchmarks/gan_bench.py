"""Helpers of the GAN-training benchmarks (conditional.py, tricks.py): train a run in timed
segments with a generator snapshot after each, and score samples with the committed MNIST
classifier (its penultimate features for FID, its labels for GAN-test and mode counts)."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ganforge.api import Run, make_config
from ganforge.data import load_dataset
from ganforge.train.session import resume, start

CLASSIFIER = "mnist-classifier"
CHUNK = 500


def train_segments(model: str, out: Path, steps: list[int], **options: Any) -> list[dict]:
    """Train `model` to each step count in turn (resuming), snapshotting G after each segment;
    returns [{steps, wall_s, cpu_s}] cumulated. Finished segments are reused, not retrained."""
    log = out / "bench_segments.json"
    done = json.loads(log.read_text()) if log.is_file() else []
    have = [d["steps"] for d in done]
    if have[: len(steps)] != steps[: len(have)]:
        raise SystemExit(f"{out} holds segments {have}, not matching "
                         f"{steps}; delete it or ask for those step counts")
    if (out / "config.yaml").is_file():
        _check_same(out, model, options)
    wall = done[-1]["wall_s"] if done else 0.0
    cpu = done[-1]["cpu_s"] if done else 0.0
    for target in steps[len(done):]:
        t0, c0 = time.perf_counter(), time.process_time()
        if not (out / "config.yaml").is_file():
            cfg = make_config(model, data="mnist", steps=target, out=str(out), **options)
            start(cfg, quiet=True)
        else:
            resume(out, {"steps": target}, quiet=True)
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
        shutil.copy(out / "generator.safetensors", out / f"generator_{target:06d}.safetensors")
        done.append({"steps": target, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1)})
        log.write_text(json.dumps(done, indent=1))
        print(f"  {model} {out.name}: step {target}, {wall:.0f} s wall, {cpu:.0f} s CPU",
              flush=True)
    return done


def _check_same(out: Path, model: str, options: dict[str, Any]) -> None:
    """Refuse to continue a run folder trained with other options."""
    from ganforge.train.run import RunDir

    cfg = RunDir.open(out).config()
    diff = {k: (getattr(cfg, k), v) for k, v in options.items() if getattr(cfg, k) != v}
    if cfg.model != model or diff:
        raise SystemExit(f"{out} was trained with other options {diff or cfg.model}; delete it")


def load_snapshot(out: Path, steps: int) -> Run:
    """The run with G's weights as they were at `steps`."""
    from safetensors.torch import load_file

    run = Run(out)
    run.generator.load_state_dict(load_file(str(out / f"generator_{steps:06d}.safetensors")))
    return run


def chunks(run: Run, inputs: dict[str, Tensor]) -> Iterator[Tensor]:
    """G's samples for `inputs`, CHUNK at a time."""
    n = next(iter(inputs.values())).shape[0]
    for i in range(0, n, CHUNK):
        yield run.generate({k: v[i : i + CHUNK] for k, v in inputs.items()})


class Scorer:
    """The committed MNIST classifier, and the real test set's features for FID."""

    def __init__(self, n_real: int = 10_000) -> None:
        from ganforge.features import make_extractor

        self.extractor = make_extractor(CLASSIFIER)
        test = load_dataset("mnist", split="test")
        self.real_feats, _ = self.outputs_uint8(test.data[:n_real])
        self.test_x, self.test_y = to_float(test.data[:n_real]), test.labels[:n_real]

    def outputs_uint8(self, images: Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Features and class probabilities of uint8 images."""
        feats, probs = zip(*(self.extractor.outputs(images[i : i + CHUNK])
                             for i in range(0, len(images), CHUNK)))
        return np.concatenate(feats), np.concatenate(probs)

    def outputs(self, images: Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Features and class probabilities of images in [-1, 1]."""
        return self.outputs_uint8(to_uint8(images))

    def fid(self, feats: np.ndarray) -> float:
        """FID of fake features against the real test features."""
        from ganforge.metrics import frechet_distance

        return float(frechet_distance(self.real_feats, feats))

    def provenance(self) -> dict[str, Any]:
        """Which extractor and weights scored the samples."""
        from ganforge.features.classifier import classifier_info

        info = classifier_info(CLASSIFIER)
        return {"extractor": CLASSIFIER, "weights_sha256": info.sha256,
                "classifier_test_accuracy": info.test_accuracy,
                "real_reference": f"MNIST test, first {len(self.real_feats)}"}


def to_uint8(images: Tensor) -> Tensor:
    """[-1, 1] floats -> uint8 pixels, as a PNG would store them."""
    return ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def to_float(images: Tensor) -> Tensor:
    """uint8 pixels -> [-1, 1] floats."""
    return images.float() / 127.5 - 1.0


def classifier_ready() -> bool:
    """True once the MNIST classifier's weights are committed."""
    from ganforge.features.classifier import read_manifest

    return CLASSIFIER in read_manifest()


def wait_for_classifier(minutes: float) -> None:
    """Sleep until the classifier exists (another engineer trains it), at most `minutes`."""
    deadline = time.time() + 60 * minutes
    while not classifier_ready():
        if time.time() > deadline:
            raise SystemExit(f"no {CLASSIFIER} weights after {minutes} min; run "
                             "scripts/train_classifiers.py, then this script again")
        print(f"waiting for {CLASSIFIER} weights …", flush=True)
        time.sleep(60)
