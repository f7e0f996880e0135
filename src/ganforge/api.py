"""The Python API: train, reload a run and sample in a few lines.

    run = ganforge.train("dcgan", data="mnist", steps=500, out="runs/demo")
    images = run.sample(64)                  # (64, 1, 28, 28) in [-1, 1]
    run.save_grid(images, "grid.png")

    run = ganforge.load_run("runs/cgan")     # conditional runs (cgan, acgan) take a class
    sevens = run.sample(16, label=7)
    grid, per_row = run.class_grid(10)       # one row per class
    figure, cols = load_run("runs/infogan").traverse(steps=8)  # InfoGAN code traversals
    zebras = load_run("runs/cyclegan").translate(horses)   # pix2pix, cyclegan: images in, out
    blond = load_run("runs/stargan").translate(faces, attrs="+Blond_Hair,-Male")  # stargan
    names, rows = load_run("runs/stargan").translate_row(faces)   # every target: (B, T, C, H, W)
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ganforge.config import TrainConfig
from ganforge.errors import ConfigError, RunError
from ganforge.train.checkpoint import load_checkpoint, load_module, load_weights
from ganforge.train.run import RunDir
from ganforge.variants import Variant, build_variant
from ganforge.variants.base import VARIANTS, MultiTarget, Nets, Translator
from ganforge.variants.conditional import Traversable
from ganforge.viz import save_grid


class Run:
    """A trained (or partly trained) run, reloaded from its folder for sampling."""

    def __init__(self, path: str | Path, device: str = "cpu") -> None:
        self.dir = RunDir.open(path)
        self.config: TrainConfig = self.dir.config()
        self.spec = self.dir.spec()
        with torch.random.fork_rng(devices=[]):  # building nets must not disturb the caller's RNG
            self.variant: Variant = build_variant(self.config, self.spec)
        self.nets: Nets = self._load_exports()
        self.generator: nn.Module = next(iter(self.nets.values()))
        self.variant.to(device).eval()
        for net in self.nets.values():
            net.to(device).eval()

    def _load_exports(self) -> Nets:
        """Every exported network from its `<name>.safetensors` (the EMA copies with --ema);
        for a run still training, from its last checkpoint. Neither read can run code."""
        nets = self.variant.exports()
        files = {k: self.dir.weights(k) for k in nets}
        what = "the networks config.yaml and meta.json describe"
        if all(f.is_file() for f in files.values()):
            for name, f in files.items():
                load_module(nets[name], load_weights(f), f, what)
            return nets
        if not self.dir.checkpoint.is_file():
            names = ", ".join(f.name for f in files.values())
            raise RunError(f"run '{self.dir.root}' has no weights yet (no {names} or "
                           "checkpoint); train it first")
        ckpt = load_checkpoint(self.dir.checkpoint)
        load_module(self.variant, ckpt.get("variant"), self.dir.checkpoint, what)
        emas = ckpt.get("ema")
        for name, net in nets.items():
            if isinstance(emas, dict) and name in emas:
                load_module(net, emas[name], self.dir.checkpoint, what)
        return nets

    @property
    def device(self) -> torch.device:
        return next(self.generator.parameters()).device

    @torch.no_grad()
    def generate(self, inputs: dict[str, Tensor]) -> Tensor:
        """Samples for explicit generator inputs (see `Variant.noise`)."""
        return self.variant.generate({k: v.to(self.device) for k, v in inputs.items()},
                                     self.generator).cpu()

    @property
    def conditional(self) -> bool:
        """True when the generator takes class labels (cgan, acgan): its inputs hold "y"."""
        return "y" in self.variant.noise(1, torch.Generator())

    def _labelled(self, inputs: dict[str, Tensor], label: int | None) -> dict[str, Tensor]:
        """`inputs` with every label set to `label` (unchanged when `label` is None)."""
        if label is None:
            return inputs
        if not self.conditional:
            raise ConfigError(f"run '{self.dir.root}' ({self.config.model}) takes no class "
                              "labels; --class needs a conditional model: cgan, acgan")
        k = int(self.spec.num_classes or 0)
        if not 0 <= label < k:
            raise ConfigError(f"--class must be in 0..{k - 1} for this run, got {label}")
        return {**inputs, "y": torch.full_like(inputs["y"], label)}

    def sample(self, n: int = 64, seed: int = 0, label: int | None = None) -> Tensor:
        """`n` samples from fresh noise drawn with `seed`, all of class `label` when given
        (conditional runs); images are in [-1, 1]."""
        inputs = self.variant.noise(n, torch.Generator().manual_seed(seed))
        return self.generate(self._labelled(inputs, label))

    def class_grid(self, per_class: int = 10, seed: int = 0) -> tuple[Tensor, int]:
        """`per_class` samples of every class, class k in row k; returns (images, per row)."""
        if not self.conditional:
            raise ConfigError(f"run '{self.dir.root}' ({self.config.model}) takes no class "
                              "labels; a class grid needs a conditional model: cgan, acgan")
        k = int(self.spec.num_classes or 0)
        inputs = self.variant.noise(k * per_class, torch.Generator().manual_seed(seed))
        inputs["y"] = torch.arange(k).repeat_interleave(per_class).to(inputs["y"])
        return self.generate(inputs), per_class

    def traverse(self, steps: int = 8, seed: int = 0, span: float = 2.0) -> tuple[Tensor, int]:
        """InfoGAN: a row per categorical value, columns sweeping each continuous code over
        [-span, span] (one z throughout); returns (images, per row)."""
        if not isinstance(self.variant, Traversable):
            raise ConfigError(f"run '{self.dir.root}' ({self.config.model}) has no latent codes "
                              "to traverse; --traverse needs an infogan run")
        gen = torch.Generator().manual_seed(seed)
        inputs, cols = self.variant.traversal_inputs(steps, gen, span)
        return self.generate(inputs), cols

    def interpolate(self, rows: int = 8, steps: int = 8, seed: int = 0,
                    label: int | None = None) -> Tensor:
        """A latent walk: `rows` spherical interpolations between random z pairs, `steps` each
        (of class `label` when given)."""
        gen = torch.Generator().manual_seed(seed)
        ends = [self._labelled(self.variant.noise(rows, gen), label) for _ in range(2)]
        t = torch.linspace(0, 1, steps)
        z = torch.stack([slerp(ends[0]["z"].cpu(), ends[1]["z"].cpu(), float(ti)) for ti in t], 1)
        inputs = {k: v.cpu().repeat_interleave(steps, 0) for k, v in ends[0].items()}
        inputs["z"] = z.reshape(rows * steps, -1)
        return self.generate(inputs)

    @property
    def translates(self) -> bool:
        """True when the run maps images to images (pix2pix, cyclegan, stargan): see
        `translate`."""
        return isinstance(self.variant, Translator)

    def _translator(self, direction: str) -> Translator:
        """The variant as a Translator that has `direction`, else a one-line ConfigError."""
        if not isinstance(self.variant, Translator):
            raise ConfigError(f"run '{self.dir.root}' ({self.config.model}) is not a translation "
                              f"model; translate needs {translation_models()}")
        if direction not in self.variant.directions:
            valid = ", ".join(self.direction_name(d) for d in self.variant.directions)
            raise ConfigError(f"run '{self.dir.root}' ({self.config.model}) cannot translate "
                              f"'{direction}'; choose from: {valid}")
        return self.variant

    def direction_name(self, direction: str) -> str:
        """'AtoB (horse -> zebra)': the direction with the run's domain names."""
        if len(self.spec.domains) != 2:
            return direction
        src, dst = self.spec.domains if direction == "AtoB" else self.spec.domains[::-1]
        return f"{direction} ({src} -> {dst})"

    def _channels(self, direction: str) -> tuple[int, int]:
        """(input, output) channels when translating `direction`."""
        a, b = self.spec.shape[0], self.spec.target_shape[0]
        return (a, b) if direction == "AtoB" else (b, a)

    def translation_shape(self, direction: str = "AtoB") -> tuple[int, int, int]:
        """(C, H, W) of the images `translate(images, direction)` takes: the run's input domain
        for AtoB, its target domain for BtoA, at the run's image size."""
        self._translator(direction)
        _, h, w = self.spec.shape
        return (self._channels(direction)[0], h, w)

    @property
    def multi_target(self) -> bool:
        """True when the run translates to one of several target labels (stargan)."""
        return isinstance(self.variant, MultiTarget)

    def check_attrs(self, attrs: str | None) -> None:
        """One-line errors for `attrs` on a run without target labels, or a bad edit."""
        if attrs is None:
            return
        if not isinstance(self.variant, MultiTarget):
            raise ConfigError(f"run '{self.dir.root}' ({self.config.model}) has no target "
                              "attributes; --attrs needs a multi-domain run: stargan")
        self.variant.check_edits(attrs)

    def _checked(self, images: Tensor, direction: str, batch_size: int) -> tuple[int, int]:
        """(input, output) channels, after one-line errors for bad images or batch size."""
        c_in, c_out = self._channels(direction)
        if images.ndim != 4 or images.shape[1] != c_in:
            raise ConfigError(f"translate {direction} takes images shaped (B, {c_in}, H, W) in "
                              f"[-1, 1]; got {tuple(images.shape)}")
        if batch_size < 1:
            raise ConfigError(f"batch size must be positive, got {batch_size}")
        return c_in, c_out

    @torch.no_grad()
    def translate(self, images: Tensor, direction: str = "AtoB", batch_size: int = 16,
                  attrs: str | None = None) -> Tensor:
        """Translate images (B, C, H, W) in [-1, 1] with a pix2pix, cyclegan or stargan run,
        `batch_size` at a time on the run's device; returns the outputs in [-1, 1] on the CPU.
        stargan: `attrs="+Blond_Hair,-Male"` sets and clears attributes of each image's labels
        as its D reads them (a set hair colour clears the others)."""
        translator = self._translator(direction)
        self.check_attrs(attrs)
        if self.multi_target and attrs is None:
            raise ConfigError(f"run '{self.dir.root}' ({self.config.model}) translates to target "
                              "attributes: pass attrs='+NAME,-NAME', or use translate_row")
        _, c_out = self._checked(images, direction, batch_size)
        target = {"attrs": attrs} if attrs is not None else {}
        out = [translator.translate(x.to(self.device, torch.float32), self.nets, direction,
                                    **target).cpu() for x in images.split(batch_size)]
        return torch.cat(out) if out else torch.empty(0, c_out, *images.shape[2:])

    @torch.no_grad()
    def translate_row(self, images: Tensor, batch_size: int = 16) -> tuple[list[str], Tensor]:
        """stargan: every image to every target of the figures (hair colours set, the other
        attributes flipped): (column names, translations (B, T, C, H, W) on the CPU)."""
        if not isinstance(self.variant, MultiTarget):
            raise ConfigError(f"run '{self.dir.root}' ({self.config.model}) has one target; "
                              "translate_row needs a multi-domain run: stargan")
        self._checked(images, "AtoB", batch_size)
        names = self.variant.target_names()
        rows = [self.variant.target_row(x.to(self.device, torch.float32), self.nets)[1].cpu()
                for x in images.split(batch_size) if len(x)]
        return names, torch.cat(rows) if rows else images.new_empty(0, len(names),
                                                                      *images.shape[1:])

    @staticmethod
    def save_grid(images: Tensor, path: str | Path, nrow: int | None = None) -> Path:
        """Write images as one PNG grid."""
        return save_grid(images, Path(path), nrow=nrow or max(1, int(math.sqrt(len(images)))))


def slerp(a: Tensor, b: Tensor, t: float) -> Tensor:
    """Spherical interpolation, row-wise (White 2016, 'Sampling generative networks')."""
    an, bn = a / a.norm(dim=1, keepdim=True), b / b.norm(dim=1, keepdim=True)
    omega = torch.acos((an * bn).sum(1).clamp(-1 + 1e-7, 1 - 1e-7)).unsqueeze(1)
    so = torch.sin(omega)
    return (torch.sin((1 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b


def translation_models() -> str:
    """The registered variants that translate images, as 'a or b' for messages."""
    names = [n for n in VARIANTS.names() if hasattr(VARIANTS.get(n), "translate")]
    return " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def load_run(path: str | Path, device: str = "cpu") -> Run:
    """Reload a run folder written by `ganforge train`."""
    return Run(path, device)


def make_config(model: str, **options: Any) -> TrainConfig:
    """A config from a preset plus options named like the CLI flags (`batch_size=32`)."""
    from ganforge.configure import model_config

    return model_config(model, options, "train()")


def train(model: str = "dcgan", *, quiet: bool = False, **options: Any) -> Run:
    """Train `model` (a preset name) with options named like the CLI flags; returns the run."""
    from ganforge.train.session import start

    result = start(make_config(model, **options), quiet=quiet)
    return Run(result.run.root)
