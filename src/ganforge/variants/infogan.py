"""InfoGAN (Chen et al. 2016): G's input is split into noise z and latent codes c, here one
categorical code (n_cat values) and n_cont continuous codes ~ U(-1, 1); a head Q sharing D's body
predicts c from G(z, c). The variational lower bound on the mutual information (their eq. 5),

    L_I(G, Q) = E_{c, x ~ G(z, c)}[log Q(c | x)] + H(c) <= I(c; G(z, c)),

is maximised by G and Q with weight lambda: min_{G,Q} max_D V(D, G) - lambda L_I (eq. 6).
log Q(c | x) is a softmax for the categorical code and a unit-variance factored Gaussian for the
continuous ones (as in the authors' MNIST code). Q (with D's body) learns in phase D on the
detached fakes, G in phase G. Defaults for MNIST (paper, appendix C.1): 62 noise variables, one
10-way categorical and two continuous codes, lambda = 1, lr 2e-4 for D and 1e-3 for G. The noise
z is U(-1, 1), as in the authors' code (launchers/run_mnist_exp.py: `Uniform(62)`): with N(0, 1)
noise the one-hot code is relatively weaker and in our runs captured digit identity less often.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.config import TrainConfig
from ganforge.data.batch import Batch
from ganforge.data.spec import DataSpec
from ganforge.errors import ConfigError
from ganforge.losses import make_loss
from ganforge.losses.fp32 import fp32
from ganforge.nets.build import build_discriminator, build_generator
from ganforge.nets.init import dcgan_init
from ganforge.options import opt
from ganforge.tricks.bundle import Tricks, finish_generator
from ganforge.variants.base import SingleCriticVariant, Terms, register_variant
from ganforge.variants.conditional import grid_rows, one_hot

Q_HIDDEN = 128  # FC.128-BN-lReLU-FC, the paper's Q head for MNIST


@dataclass
class InfoGANOptions:
    """InfoGAN's own options: the latent codes and the weight of the information term."""

    n_cat: int = opt(10, "infogan: values of the categorical code (0 = none)", ge=0)
    n_cont: int = opt(2, "infogan: number of continuous codes, each U(-1, 1)", ge=0)
    info_lambda: float = opt(1.0, "infogan: weight lambda of the mutual-information term", ge=0)

    def check(self) -> None:
        """The rules that join the options."""
        if self.n_cat == 1:
            raise ConfigError("--n-cat must be 0 (no categorical code) or >= 2, got 1")
        if self.n_cat + self.n_cont == 0:
            raise ConfigError("infogan needs at least one latent code; set --n-cat 10 or "
                              "--n-cont 2")


class CodedGenerator(nn.Module):
    """G(z, c_cat, c_cont) = net([z, onehot(c_cat), c_cont])."""

    def __init__(self, net: nn.Module, n_cat: int) -> None:
        super().__init__()
        self.net, self.n_cat = net, n_cat

    def forward(self, z: Tensor, c_cat: Tensor | None = None, c_cont: Tensor | None = None
                ) -> Tensor:
        parts = [z]
        if c_cat is not None:
            parts.append(one_hot(c_cat, self.n_cat, z))
        if c_cont is not None:
            parts.append(c_cont)
        return self.net(torch.cat(parts, dim=1))


def info_loss(q_out: Tensor, codes: dict[str, Tensor], n_cat: int) -> tuple[Tensor, Tensor]:
    """-E[log Q(c | x)] up to constants: cross-entropy (categorical) + 0.5 ||c - mu||^2 (Gaussian,
    unit variance); returns (categorical part, continuous part)."""
    q_out = fp32(q_out)  # fp32 losses under --precision bf16/fp16
    zero = q_out.new_zeros(())
    cat = F.cross_entropy(q_out[:, :n_cat], codes["c_cat"]) if "c_cat" in codes else zero
    if "c_cont" not in codes:
        return cat, zero
    cont = 0.5 * ((q_out[:, n_cat:] - codes["c_cont"]) ** 2).sum(1).mean()
    return cat, cont


def _uniform(size: tuple[int, int], gen: torch.Generator | None,
             device: torch.device | str = "cpu") -> Tensor:
    """U(-1, 1) samples: InfoGAN's noise z and continuous codes."""
    return torch.rand(size, generator=gen, device=device) * 2 - 1


class InfoGAN(SingleCriticVariant):
    """G(z, c) against D(x), with Q(c | x) on D's last hidden features."""

    Options = InfoGANOptions

    def __init__(self, cfg: TrainConfig, spec: DataSpec) -> None:
        super().__init__()
        o: InfoGANOptions = cfg.options or InfoGANOptions()
        self.latent_dim, self.n_cat, self.n_cont = cfg.latent_dim, o.n_cat, o.n_cont
        self.info_lambda = o.info_lambda
        self.discriminator = build_discriminator(cfg, spec)
        self.q_head = nn.Sequential(
            nn.Linear(self.discriminator.feature_dim, Q_HIDDEN), nn.BatchNorm1d(Q_HIDDEN),
            nn.LeakyReLU(0.2), nn.Linear(Q_HIDDEN, self.n_cat + self.n_cont))
        dcgan_init(self.q_head)
        net = build_generator(cfg, spec, in_extra=self.n_cat + self.n_cont)
        self.generator = finish_generator(cfg, CodedGenerator(net, self.n_cat), self.noise)
        self.adv = make_loss(cfg.loss)
        self.probabilistic = self.adv.probabilistic
        self.clip = cfg.clip
        self.tricks = Tricks(cfg, spec, self.param_groups())

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        d = [*self.discriminator.parameters(), *self.q_head.parameters()]
        return {"D": d, "G": list(self.generator.parameters())}

    def noise(self, n: int, gen: torch.Generator | None = None) -> dict[str, Tensor]:
        device = "cpu" if gen else self.device
        out = {"z": _uniform((n, self.latent_dim), gen, device)}
        if self.n_cat:
            out["c_cat"] = torch.randint(0, self.n_cat, (n,), generator=gen, device=device)
        if self.n_cont:
            out["c_cont"] = _uniform((n, self.n_cont), gen, device)
        return {k: v.to(self.device) for k, v in out.items()}

    def grid_inputs(self, n: int, gen: torch.Generator) -> dict[str, Tensor]:
        """One row per categorical value (with grid_size n_cat^2)."""
        inputs = self.noise(n, gen)
        if self.n_cat:
            inputs["c_cat"] = grid_rows(n, self.n_cat).to(self.device)
        return inputs

    def traversal_inputs(self, steps: int, gen: torch.Generator, span: float = 2.0
                         ) -> tuple[dict[str, Tensor], int]:
        """One z for the whole figure; a row per categorical value; for each continuous code,
        `steps` columns sweeping it over [-span, span] with the other codes at 0."""
        rows, sweeps = max(self.n_cat, 1), max(self.n_cont, 1)
        cols = steps * sweeps
        z = _uniform((1, self.latent_dim), gen).expand(rows * cols, -1)
        inputs = {"z": z.contiguous()}
        if self.n_cat:
            inputs["c_cat"] = torch.arange(rows).repeat_interleave(cols)
        if self.n_cont:
            cont = torch.zeros(rows, sweeps, steps, self.n_cont)
            values = torch.linspace(-span, span, steps)
            for j in range(self.n_cont):
                cont[:, j, :, j] = values
            inputs["c_cont"] = cont.reshape(rows * cols, self.n_cont)
        return {k: v.to(self.device) for k, v in inputs.items()}, cols

    def generate(self, inputs: dict[str, Tensor], net: nn.Module | None = None) -> Tensor:
        return (net or self.generator)(**inputs)

    def _info_terms(self, feats: Tensor, codes: dict[str, Tensor], terms: Terms, prefix: str
                    ) -> None:
        cat, cont = info_loss(self.q_head(feats), codes, self.n_cat)
        terms["loss"] = terms["loss"] + self.info_lambda * (cat + cont)
        terms[f"{prefix}info_cat"], terms[f"{prefix}info_cont"] = cat.detach(), cont.detach()
        if self.n_cat:  # the categorical part of L_I in nats: H(c) - CE <= I(c_cat; x)
            terms[f"{prefix}mi_cat"] = math.log(self.n_cat) - cat.detach()

    def discriminator_loss(self, batch: Batch) -> Terms:
        codes = self.noise(batch.size)
        with torch.no_grad():
            fake = self.generate(codes)
        critic = self.discriminator.forward_features
        terms, seen = self.tricks.d_terms(critic, batch.x, fake, self.step, self.adv)
        self._info_terms(seen.fake_feats, codes, terms, "d_")
        return terms

    def generator_loss(self, batch: Batch) -> Terms:
        codes = self.noise(batch.size)
        fake = self.generate(codes)
        critic = self.discriminator.forward_features
        terms, fake_feats = self.tricks.g_terms(critic, fake, batch.x, self.step, self.adv)
        self._info_terms(fake_feats, codes, terms, "")
        return terms

    @torch.no_grad()
    def predict_codes(self, x: Tensor) -> dict[str, Tensor]:
        """Q's guess of the codes of images x: categorical probabilities and continuous means."""
        q = self.q_head(self.discriminator.forward_features(x)[1])
        return {"c_cat": q[:, : self.n_cat].softmax(1), "c_cont": q[:, self.n_cat :]}


register_variant("infogan", InfoGAN,
                 "G(z, c) vs D(x), Q(c | x) maximises a bound on I(c; x)")
