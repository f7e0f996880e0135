"""`Tricks`: the shared D- and G-phase plumbing every variant calls, so a trick written once
composes with every variant. A variant passes a `critic`, x -> (D's adversarial output, D's last
hidden features), closing over whatever else its D needs (labels for cgan)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ganforge.config import TrainConfig
from ganforge.data.spec import DataSpec
from ganforge.errors import ConfigError
from ganforge.losses import AdversarialLoss, gradient_penalty
from ganforge.tricks.d_inputs import DInputs
from ganforge.tricks.feature_matching import feature_matching_loss
from ganforge.tricks.historical import HistoricalAverage
from ganforge.tricks.pack import pack
from ganforge.tricks.unroll import Unroller
from ganforge.tricks.vbn import NoiseFn, with_reference_batch
from ganforge.variants.base import Terms

Critic = Callable[[Tensor], tuple[Tensor, Tensor]]
VBN_REFERENCE = 64  # reference batch size for --vbn (capped at --batch-size)


@dataclass
class DView:
    """D's outputs and features on the real and fake batch of a D phase."""

    real_out: Tensor
    fake_out: Tensor
    real_feats: Tensor
    fake_feats: Tensor


class Tricks(nn.Module):
    """The tricks of one run, from its config; holds the historical averages (checkpointed).
    `packable`: the variant's D judges samples alone (no labels joined per sample), so --pack
    applies; the unconditional variant says so, the conditional ones do not. `unroll_net`: the D
    that --unroll looks ahead with (a variant that passes none does not support --unroll)."""

    def __init__(self, cfg: TrainConfig, spec: DataSpec, groups: dict[str, list[nn.Parameter]],
                 *, packable: bool = False, unroll_net: nn.Module | None = None):
        super().__init__()
        if cfg.pack > 1 and not packable:
            raise ConfigError(f"--pack does not apply to {cfg.model} (its D judges each sample "
                              "with its label or code); drop it or use an unconditional model")
        if cfg.unroll > 0 and unroll_net is None:
            raise ConfigError(f"--unroll does not apply to {cfg.model} (its G loss has terms "
                              "beyond D's judgement); drop it or use an unconditional model")
        self.unroller = (Unroller(unroll_net, cfg.unroll, cfg.lr_d, (cfg.beta1, cfg.beta2))
                         if unroll_net is not None and cfg.unroll > 0 else None)
        self.inputs = DInputs.from_config(cfg, spec)
        self.pack = cfg.pack
        self.feature_matching = cfg.feature_matching
        self.gp_weight = cfg.gp_weight
        self.hist_weight = cfg.historical_avg
        self.history = nn.ModuleDict(
            {k: HistoricalAverage(v) for k, v in groups.items()} if cfg.historical_avg > 0 else {}
        )

    @property
    def real_target(self) -> float:
        """D's target for real data (0.9 with one-sided label smoothing)."""
        return self.inputs.real_target

    def seen(self, x: Tensor, step: int) -> Tensor:
        """What D is shown of a batch of one source: transformed, then packed (--pack)."""
        return pack(self.inputs(x, step), self.pack)

    def d_terms(self, critic: Critic, real: Tensor, fake: Tensor, step: int,
                adv: AdversarialLoss) -> tuple[Terms, DView]:
        """D's adversarial loss (+ gradient penalty, + historical averaging) and what D saw."""
        seen_real, seen_fake = self.seen(real, step), self.seen(fake, step)
        real_out, real_feats = critic(seen_real)  # (B/M,), (B/M, F): one per pack
        fake_out, fake_feats = critic(seen_fake)
        loss = adv.d_loss(real_out, fake_out, self.real_target)
        terms: Terms = {"loss": loss, "adv": loss.detach()}
        if self.gp_weight > 0:  # on the inputs D actually judged
            gp = gradient_penalty(lambda x: critic(x)[0], seen_real, seen_fake)
            terms["gp"] = gp.detach()
            terms["loss"] = terms["loss"] + self.gp_weight * gp
        self._historical("D", terms, "d_hist")
        terms["d_real"] = adv.d_prob(real_out)
        terms["d_fake"] = adv.d_prob(fake_out)
        return terms, DView(real_out, fake_out, real_feats, fake_feats)

    def g_terms(self, critic: Critic, fake: Tensor, real: Tensor, step: int,
                adv: AdversarialLoss) -> tuple[Terms, Tensor]:
        """G's adversarial loss, or feature matching, (+ historical averaging); and D's features.
        With --unroll, D is the one after its K look-ahead steps on this batch (Metz et al.)."""
        seen_fake = self.seen(fake, step)
        if self.unroller is not None:
            critic = self.unroller.look_ahead(critic, self.seen(real, step), seen_fake, adv,
                                              self.real_target)
        fake_out, fake_feats = critic(seen_fake)
        if self.feature_matching:  # Salimans et al. (2016), §3.1: replaces G's objective
            with torch.no_grad():
                _, real_feats = critic(self.seen(real, step))
            loss = feature_matching_loss(real_feats, fake_feats)
            terms: Terms = {"loss": loss, "fm": loss.detach()}
        else:
            terms = {"loss": adv.g_loss(fake_out)}
        self._historical("G", terms, "hist")
        return terms, fake_feats

    def _historical(self, group: str, terms: Terms, name: str) -> None:
        if group in self.history:
            penalty = self.history[group]()
            terms[name] = penalty.detach()
            terms["loss"] = terms["loss"] + self.hist_weight * penalty


def finish_generator(cfg: TrainConfig, net: nn.Module, noise: NoiseFn) -> nn.Module:
    """G as trained: with --vbn, wrapped with its fixed reference batch of inputs."""
    if not cfg.vbn:
        return net
    return with_reference_batch(net, noise, min(cfg.batch_size, VBN_REFERENCE), cfg.seed + 7919)
