"""Unrolled GAN (Metz et al. 2017, "Unrolled generative adversarial networks", §2.1-2.2): G's
loss is D's judgement after K look-ahead steps of D's own optimisation, f_K(θ_G, θ_D) =
f(θ_G, θ_D^K) with θ_D^{k+1} = θ_D^k + η dL_D/dθ_D^k, so G anticipates how D would answer a move
(e.g. onto one mode) and is pushed off solutions that D would refute a few steps later.

This is the full version: G's gradient flows through the K steps (the second-order term
dθ_D^K/dθ_G, the version of the paper's toy experiments), by `torch.func.functional_call` over
copies of D's parameters with `create_graph=True`. The look-ahead is discarded: D's real
parameters stay those of its normal update.

Each look-ahead step is an Adam step (D's optimiser in the paper's experiments) with D's learning
rate and betas. The trainer's optimiser state is not the variant's to read, so the look-ahead
keeps its own moment estimates (buffers, checkpointed), advanced by the first look-ahead
gradient of every G step. The look-ahead's objective is D's adversarial loss on what D sees
(instance noise, packs, label smoothing included); a gradient penalty is not unrolled.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.func import functional_call

from ganforge.losses import AdversarialLoss

Critic = Callable[[Tensor], tuple[Tensor, Tensor]]
Params = dict[str, Tensor]


class _Bound(nn.Module):
    """D and a critic closure over it: calling this under `functional_call` runs the closure with
    D's parameters swapped, whatever else the closure does (labels, packs)."""

    def __init__(self, net: nn.Module, critic: Critic) -> None:
        super().__init__()
        self.net, self.critic = net, critic

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self.critic(x)


def adam_step(p: Tensor, g: Tensor, m: Tensor, v: Tensor, t: int, lr: float,
              betas: tuple[float, float], eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """One Adam step (Kingma & Ba 2015, Algorithm 1), differentiable in p and g: new p, m, v."""
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    # clamp: sqrt'(0) is infinite, and 0 * inf would turn a zero gradient into NaN
    return p - lr * m_hat / (v_hat.clamp_min(1e-30).sqrt() + eps), m, v


class Unroller(nn.Module):
    """K differentiable look-ahead Adam steps of a discriminator `net`."""

    t: Tensor  # look-ahead first steps taken: Adam's step count for the running moments

    def __init__(self, net: nn.Module, steps: int, lr: float, betas: tuple[float, float],
                 eps: float = 1e-8) -> None:
        super().__init__()
        self.steps, self.lr, self.betas, self.eps = steps, lr, betas, eps
        self._net = (net,)  # a tuple: D is the variant's, not registered (or saved) twice
        self.names = [n for n, _ in net.named_parameters()]
        for i, (_, p) in enumerate(net.named_parameters()):
            self.register_buffer(f"m{i}", torch.zeros_like(p))
            self.register_buffer(f"v{i}", torch.zeros_like(p))
        self.register_buffer("t", torch.zeros((), dtype=torch.long))

    def moments(self) -> tuple[list[Tensor], list[Tensor]]:
        """The running first and second moments, one per parameter of D."""
        n = len(self.names)
        return ([getattr(self, f"m{i}") for i in range(n)],
                [getattr(self, f"v{i}") for i in range(n)])

    def look_ahead(self, critic: Critic, real: Tensor, fake: Tensor, adv: AdversarialLoss,
                   real_target: float) -> Critic:
        """The critic with D's parameters after K steps on (real, fake); differentiable in fake."""
        net = self._net[0]
        bound = _Bound(net, critic)
        params: Params = {n: p.detach().requires_grad_(True) for n, p in net.named_parameters()}
        ms, vs = self.moments()
        t0 = int(self.t)
        for k in range(self.steps):
            call = _call(bound, params)
            loss = adv.d_loss(call(real)[0], call(fake)[0], real_target)
            grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
            stepped = [adam_step(p, g, m, v, t0 + k + 1, self.lr, self.betas, self.eps)
                       for p, g, m, v in zip(params.values(), grads, ms, vs, strict=True)]
            params = dict(zip(params, (s[0] for s in stepped), strict=True))
            ms, vs = [s[1] for s in stepped], [s[2] for s in stepped]
            if k == 0:
                self._advance([m.detach() for m in ms], [v.detach() for v in vs])
        return _call(bound, params)

    @torch.no_grad()
    def _advance(self, ms: list[Tensor], vs: list[Tensor]) -> None:
        """Keep the first look-ahead step's moments as the running estimate."""
        for i, (m, v) in enumerate(zip(ms, vs, strict=True)):
            getattr(self, f"m{i}").copy_(m)
            getattr(self, f"v{i}").copy_(v)
        self.t.add_(1)


def _call(bound: _Bound, params: Params) -> Critic:
    """The bound critic evaluated with D's parameters replaced by `params`."""
    full = {f"net.{n}": p for n, p in params.items()}
    return lambda x: functional_call(bound, full, (x,))
