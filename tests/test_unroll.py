"""--unroll K (Metz et al. 2017): the look-ahead against a hand-written unrolled computation on a
logistic-regression D, whose BCE gradient and Adam step are written out below by formula."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.api import make_config
from ganforge.data.batch import Batch
from ganforge.data.spec import DataSpec
from ganforge.errors import ConfigError
from ganforge.losses import make_loss
from ganforge.tricks.unroll import Unroller
from ganforge.variants import build_variant

LR, BETAS, EPS = 0.05, (0.5, 0.9), 1e-8


class LogisticD(nn.Module):
    """D(x) = w . x + c, its input as its 'features'."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 1).double()

    def forward_features(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self.lin(x).squeeze(-1), x


# Adam moments of (w1, w2, c) as if D had already taken T0 look-ahead steps: with zero moments the
# first Adam step is about lr * sign(g), whose derivative in g (the second-order term) is ~0.
M0 = torch.tensor([0.02, -0.05, 0.01], dtype=torch.float64)
V0 = torch.tensor([4e-4, 9e-4, 1e-4], dtype=torch.float64)
T0 = 5


def by_hand(w: Tensor, c: Tensor, real: Tensor, fake: Tensor, k: int
            ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """K Adam steps of D on L_D = mean softplus(-(w.x + c)) + mean softplus(w.y + c) from the
    moments M0, V0 at step T0, with the gradient by formula: dL/dw = mean(-sigmoid(-r) x) +
    mean(sigmoid(f) y). Returns w_K, c_K and the moments after step 1 (of w and c, stacked)."""
    m, v = M0.clone(), V0.clone()
    theta = torch.cat([w, c])  # (3,)
    first = (m, v)
    for t in range(T0 + 1, T0 + k + 1):
        r, f = real @ theta[:2] + theta[2], fake @ theta[:2] + theta[2]
        a, b = -torch.sigmoid(-r), torch.sigmoid(f)
        g = torch.cat([(a[:, None] * real).mean(0) + (b[:, None] * fake).mean(0),
                       (a.mean() + b.mean()).view(1)])
        m = BETAS[0] * m + (1 - BETAS[0]) * g
        v = BETAS[1] * v + (1 - BETAS[1]) * g * g
        step = (m / (1 - BETAS[0] ** t)) / ((v / (1 - BETAS[1] ** t)).sqrt() + EPS)
        theta = theta - LR * step
        if t == T0 + 1:
            first = (m.detach(), v.detach())
    return theta[:2], theta[2:], first[0], first[1]


def _unroller(d: LogisticD, k: int) -> Unroller:
    """An Unroller whose running moments are M0, V0 after T0 steps."""
    unroller = Unroller(d, k, LR, BETAS, EPS)
    ms, vs = unroller.moments()
    ms[0].copy_(M0[:2].view(1, 2)), ms[1].copy_(M0[2:])
    vs[0].copy_(V0[:2].view(1, 2)), vs[1].copy_(V0[2:])
    unroller.t.fill_(T0)
    return unroller


def _setup() -> tuple[LogisticD, Tensor, Tensor, Tensor]:
    torch.manual_seed(0)
    d = LogisticD()
    real = torch.randn(6, 2, dtype=torch.float64) + 1.0
    shift = torch.tensor([0.3, -0.2], dtype=torch.float64, requires_grad=True)  # G: z + shift
    return d, real, shift, torch.randn(6, 2, dtype=torch.float64)


@pytest.mark.parametrize("k", [1, 2])
def test_look_ahead_matches_the_hand_written_unrolled_loss_and_gradient(k: int) -> None:
    d, real, shift, z = _setup()
    adv, unroller = make_loss("nonsaturating"), _unroller(d, k)
    before = [p.detach().clone() for p in d.parameters()]
    fake = z + shift
    critic = unroller.look_ahead(d.forward_features, real, fake, adv, 1.0)
    loss = adv.g_loss(critic(fake)[0])
    (grad,) = torch.autograd.grad(loss, shift)

    w0, c0 = d.lin.weight.detach()[0], d.lin.bias.detach()
    w_k, c_k, m1, v1 = by_hand(w0, c0, real, z + shift, k)
    want = F.softplus(-((z + shift) @ w_k + c_k)).mean()  # G's non-saturating loss at theta_K
    (want_grad,) = torch.autograd.grad(want, shift)
    assert float(loss) == pytest.approx(float(want), rel=1e-9)
    assert grad.tolist() == pytest.approx(want_grad.tolist(), rel=1e-7, abs=1e-12)
    # D's real parameters are untouched; the running moments are those of the first step
    assert all(torch.equal(p, q) for p, q in zip(d.parameters(), before, strict=True))
    ms, vs = unroller.moments()
    assert torch.cat([ms[0].flatten(), ms[1]]).tolist() == pytest.approx(m1.tolist(), rel=1e-9)
    assert torch.cat([vs[0].flatten(), vs[1]]).tolist() == pytest.approx(v1.tolist(), rel=1e-9)
    assert int(unroller.t) == T0 + 1


def test_gradient_includes_the_second_order_term() -> None:
    """Holding theta_K fixed (no gradient through D's steps) gives another gradient, so the test
    above would catch an implementation that drops the look-ahead's dependence on G."""
    d, real, shift, z = _setup()
    w0, c0 = d.lin.weight.detach()[0], d.lin.bias.detach()
    w_k, c_k, _, _ = by_hand(w0, c0, real, z + shift, 1)
    full = torch.autograd.grad(F.softplus(-((z + shift) @ w_k + c_k)).mean(), shift)[0]
    w_k, c_k = w_k.detach(), c_k.detach()
    first = torch.autograd.grad(F.softplus(-((z + shift) @ w_k + c_k)).mean(), shift)[0]
    assert not torch.allclose(full, first, rtol=0.05)


def test_adam_moments_carry_over_between_g_steps() -> None:
    d, real, shift, z = _setup()
    unroller = Unroller(d, 1, LR, BETAS, EPS)
    for _ in range(3):
        unroller.look_ahead(d.forward_features, real, z + shift, make_loss("nonsaturating"), 1.0)
    assert int(unroller.t) == 3 and float(unroller.moments()[1][0].abs().sum()) > 0


POINTS = DataSpec("points", (2,))


@pytest.mark.parametrize("extra", [{}, {"pack": 2}, {"minibatch_disc": True}])
def test_unrolled_generator_loss_trains_g_and_leaves_d(extra: dict[str, object]) -> None:
    torch.manual_seed(0)
    cfg = make_config("gan", unroll=3, batch_size=8, hidden=4, latent_dim=2, **extra)
    v = build_variant(cfg, POINTS)
    d_before = [p.detach().clone() for p in v.discriminator.parameters()]
    loss = v.generator_loss(Batch(x=torch.randn(8, 2)))["loss"]
    loss.backward()
    assert math.isfinite(float(loss))
    assert all(p.grad is not None and torch.isfinite(p.grad).all()
               for p in v.generator.parameters())
    assert all(torch.equal(p, q) for p, q in zip(v.discriminator.parameters(), d_before,
                                                 strict=True))


def test_unroll_refused_for_conditional_models() -> None:
    cfg = make_config("cgan", unroll=2, batch_size=4, hidden=4, latent_dim=2, width=4)
    with pytest.raises(ConfigError, match="--unroll does not apply to cgan"):
        build_variant(cfg, DataSpec("image", (1, 28, 28), 10))
