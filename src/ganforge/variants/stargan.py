"""StarGAN (Choi et al. 2018, "StarGAN: unified generative adversarial networks for multi-domain
image-to-image translation", CVPR): one generator G(x, c) for every target label c, and one
discriminator with two heads, D_src (real or fake) and D_cls (the domain of a real image).

    L_D = -L_adv + lambda_cls L_cls^r,  L_G = L_adv + lambda_cls L_cls^f + lambda_rec L_rec  (eq. 5)

L_adv is the WGAN-GP objective (eq. 6: gradient penalty lambda_gp = 10 on D_src at random
interpolates of real and translated images); L_cls^r classifies real images into their own
labels, L_cls^f translated images into their targets (binary cross-entropy per attribute for
CelebA, cross-entropy for single-label domains); L_rec = ||x - G(G(x, c), c')||_1, lambda_rec 10.
§4 and the official solver: n_critic 5, Adam 1e-4 (0.5, 0.999), batch 16, the rates decayed
linearly to 0 over the second half. Training targets are a random permutation of the batch's own
labels, drawn once a step (D's and G's phases share them) from the variant's own generator,
whose state is in `state_dict()`, so a resumed run continues bitwise.

Figures: per held-out face, the input, then one column per hair colour (set exclusively) and one
per other attribute (flipped), as the paper's Fig. 4. Translating a user's face needs its own
labels; D_cls reads them (so D is exported next to G), and `--attrs +Blond_Hair,-Male` edits them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ganforge.config import TrainConfig
from ganforge.data.batch import Batch
from ganforge.data.spec import DataSpec
from ganforge.errors import ConfigError
from ganforge.losses import gradient_penalty, make_loss
from ganforge.losses.translation import domain_loss, reconstruction_loss
from ganforge.nets.stargan import StarDiscriminator, StarGenerator
from ganforge.options import opt
from ganforge.presets import PRESETS
from ganforge.variants.base import Nets, Preview, Terms, register_variant
from ganforge.variants.labels import DEFAULT_ATTRS, LabelSpace, label_space, permuted
from ganforge.variants.translation import TranslationVariant, rows_of, run_generator


@dataclass
class StarGANOptions:
    """stargan's own options."""

    attrs: str = opt(DEFAULT_ATTRS, "stargan: CelebA attributes to translate, comma-separated "
                     "names of list_attr_celeba.txt (domains:PATH data: its subfolders)")
    lambda_cls: float = opt(1.0, "stargan: weight of the domain classification losses", ge=0)
    lambda_rec: float = opt(10.0, "stargan: weight of the reconstruction loss", ge=0)
    blocks: int = opt(6, "stargan: residual blocks in G", ge=1)
    d_layers: int = opt(0, "stargan: stride-2 conv layers in D (0: down to a 2x2 map, 6 at "
                        "128 px)", ge=0)


class StarGAN(TranslationVariant):
    """G(x, c) against D(x) = (D_src, D_cls), with classification and reconstruction losses."""

    Options = StarGANOptions

    def __init__(self, cfg: TrainConfig, spec: DataSpec) -> None:
        super().__init__()
        self.opts: StarGANOptions = cfg.options or StarGANOptions()
        self.labels: LabelSpace = label_space(spec, self.opts.attrs)
        c, size, k = spec.shape[0], spec.shape[1], len(self.labels.names)
        if spec.kind != "image" or size % 4:
            raise ConfigError(f"stargan needs images whose side is divisible by 4, got {size}")
        self.generator = StarGenerator(c, k, cfg.width, self.opts.blocks)
        self.discriminator = StarDiscriminator(c, k, size, cfg.width, self.opts.d_layers)
        self.adv = make_loss(cfg.loss)
        self.probabilistic = self.adv.probabilistic
        self.gp_weight = cfg.gp_weight
        self.gen = torch.Generator().manual_seed(cfg.seed * 2 + 3)  # training targets
        self._targets: tuple[int, Tensor] | None = None

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"D": list(self.discriminator.parameters()),
                "G": list(self.generator.parameters())}

    def exports(self) -> Nets:
        """G, and D, whose classification head reads the labels of a face to translate."""
        return {"generator": self.generator, "discriminator": self.discriminator}

    def generate(self, inputs: dict[str, Tensor], net: nn.Module | None = None) -> Tensor:
        return (net or self.generator)(inputs["x"], inputs["c"])

    # ----- training -----------------------------------------------------------------------
    def targets(self, batch: Batch) -> tuple[Tensor, Tensor]:
        """(own labels, target labels) (B, K): the targets drawn once per step."""
        c_org = self.labels.of_batch(batch)
        if self._targets is None or self._targets[0] != self.step:
            self._targets = (self.step, permuted(c_org.cpu(), self.gen)[1])
        return c_org, c_org[self._targets[1].to(c_org.device)]

    def discriminator_loss(self, batch: Batch) -> Terms:
        x, (c_org, c_trg) = batch.x, self.targets(batch)
        with torch.no_grad():
            fake = self.generator(x, c_trg)
        real_src, real_cls = self.discriminator(x)  # (B, 1, s, s), (B, K)
        fake_src, _ = self.discriminator(fake)
        adv = self.adv.d_loss(real_src, fake_src)
        cls = domain_loss(real_cls, c_org, self.labels.single)
        loss = adv + self.opts.lambda_cls * cls
        terms: Terms = {"adv": adv.detach(), "cls": cls.detach()}
        if self.gp_weight > 0:
            gp = gradient_penalty(self.discriminator.source, x, fake)
            loss = loss + self.gp_weight * gp
            terms["gp"] = gp.detach()
        return {"loss": loss, **terms, "d_real": self.adv.d_prob(real_src),
                "d_fake": self.adv.d_prob(fake_src)}

    def generator_loss(self, batch: Batch) -> Terms:
        x, (c_org, c_trg) = batch.x, self.targets(batch)
        fake = self.generator(x, c_trg)
        fake_src, fake_cls = self.discriminator(fake)
        adv = self.adv.g_loss(fake_src)
        cls = domain_loss(fake_cls, c_trg, self.labels.single)
        rec = reconstruction_loss(x, self.generator(fake, c_org))
        loss = adv + self.opts.lambda_cls * cls + self.opts.lambda_rec * rec
        return {"loss": loss, "adv": adv.detach(), "cls": cls.detach(), "rec": rec.detach()}

    def get_extra_state(self) -> dict[str, Tensor]:
        """The targets' random generator, saved with the parameters."""
        return {"generator": self.gen.get_state()}

    def set_extra_state(self, state: Any) -> None:
        """Restore the generator; targets cached before a rollback are drawn anew."""
        self.gen.set_state(state["generator"].to("cpu", torch.uint8).contiguous())
        self._targets = None

    # ----- translating ----------------------------------------------------------------------
    @torch.no_grad()
    def read_labels(self, images: Tensor, nets: Nets) -> Tensor:
        """The labels D_cls reads on real `images`: (B, K) in {0, 1}."""
        logits = nets["discriminator"](images)[1]  # (B, K)
        if self.labels.single:
            return torch.nn.functional.one_hot(logits.argmax(1), logits.shape[1]).float()
        return (logits > 0).float()

    def translate(self, images: Tensor, nets: Nets, direction: str = "AtoB",
                  **target: Any) -> Tensor:
        """G(images, c) for `labels=` (B, K) targets, or `attrs="+Blond_Hair,-Male"` edits of the
        labels given as `source=` (else read by D_cls)."""
        c = target.get("labels")
        if c is None:
            if "attrs" not in target:
                raise ConfigError("stargan translates to target labels: pass attrs='+NAME,-NAME'"
                                  " (or labels=)")
            source = target.get("source")
            source = self.read_labels(images, nets) if source is None else source
            c = self.labels.edit(source.to(images), self.labels.parse_edits(target["attrs"]))
        net = nets["generator"]
        return run_generator(net, "eval", lambda: net(images, c.to(images)))

    def check_edits(self, attrs: str) -> None:
        """A one-line ConfigError unless `attrs` (`+Blond_Hair,-Male`) edits this run's labels."""
        self.labels.parse_edits(attrs)

    def target_names(self) -> list[str]:
        """Captions of the figure's columns after the input: "Black_Hair", …, "~Male"."""
        return self.labels.column_names()

    def target_row(self, images: Tensor, nets: Nets, source: Tensor | None = None
                   ) -> tuple[list[str], Tensor]:
        """Column names and the translations (B, T, C, H, W) to every figure target."""
        c = self.read_labels(images, nets) if source is None else source.to(images)
        outs = [self.translate(images, nets, labels=t) for t in self.labels.column_targets(c)]
        return self.labels.column_names(), torch.stack(outs, 1)

    def preview_inputs(self, n: int, gen: torch.Generator, held_out: Batch | None
                       ) -> dict[str, Tensor]:
        if held_out is None:
            raise ConfigError("stargan previews need a held-out batch of labelled images")
        return {"x": held_out.x, "c": self.labels.of_batch(held_out)}

    def preview(self, inputs: dict[str, Tensor], nets: Nets) -> Preview:
        """input | one column per target (hair colours set, other attributes flipped)."""
        _, row = self.target_row(inputs["x"], nets, inputs["c"])
        return rows_of([inputs["x"], *row.unbind(1)])


register_variant("stargan", StarGAN,
                 "one G(x, c) for many domains vs D with source and domain heads (multi-domain)")
PRESETS.register(
    "stargan",
    # Choi et al. (2018), §4 and the official solver: CelebA faces, central 178 crop resized to
    # 128, the attributes Black/Blond/Brown hair, Male, Young; WGAN-GP lambda 10, lambda_cls 1,
    # lambda_rec 10, n_critic 5, Adam 1e-4 (0.5, 0.999), batch 16, 200k iterations with the
    # rates decayed linearly to 0 over the last 100k; 64 conv channels in G and D.
    {"variant": "stargan", "data": "celeba", "image_size": 128, "width": 64,
     "loss": "wasserstein", "gp_weight": 10.0, "optimizer": "adam", "lr_g": 1e-4, "lr_d": 1e-4,
     "beta1": 0.5, "beta2": 0.999, "batch_size": 16, "n_critic": 5, "steps": 200_000,
     "lr_policy": "linear", "lr_decay_start": 0.5, "grid_size": 8},
    "StarGAN (Choi et al. 2018): one G for many domains, D with source + domain heads (CelebA)",
)
