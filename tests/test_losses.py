"""Losses against hand-computed values; the gradient penalty against analytic critics."""

from __future__ import annotations

import math

import pytest
import torch

from ganforge.losses import clip_weights, gradient_penalty, make_loss


def sig(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


R = torch.tensor([2.0, -0.5])  # D's raw outputs on a real batch
F = torch.tensor([-1.0, 0.3])  # … and on a fake batch


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def test_minimax_matches_equation_1() -> None:
    loss = make_loss("minimax")
    d = mean([-math.log(sig(r)) for r in R.tolist()]) + mean(
        [-math.log(1 - sig(f)) for f in F.tolist()])
    g = mean([math.log(1 - sig(f)) for f in F.tolist()])
    assert float(loss.d_loss(R, F)) == pytest.approx(d, rel=1e-6)
    assert float(loss.g_loss(F)) == pytest.approx(g, rel=1e-6)


def test_nonsaturating_generator_loss() -> None:
    loss = make_loss("nonsaturating")
    assert float(loss.g_loss(F)) == pytest.approx(mean([-math.log(sig(f)) for f in F.tolist()]))


def test_label_smoothing_changes_the_real_term_only() -> None:
    loss = make_loss("nonsaturating")
    t = 0.9
    d = mean([-(t * math.log(sig(r)) + (1 - t) * math.log(1 - sig(r))) for r in R.tolist()])
    d += mean([-math.log(1 - sig(f)) for f in F.tolist()])
    assert float(loss.d_loss(R, F, real_target=t)) == pytest.approx(d, rel=1e-6)


def test_lsgan_a0_b1_c1() -> None:
    loss = make_loss("lsgan")
    d = 0.5 * mean([(r - 1) ** 2 for r in R.tolist()]) + 0.5 * mean([f**2 for f in F.tolist()])
    assert float(loss.d_loss(R, F)) == pytest.approx(d)
    assert float(loss.g_loss(F)) == pytest.approx(0.5 * mean([(f - 1) ** 2 for f in F.tolist()]))


def test_wasserstein_and_hinge() -> None:
    w = make_loss("wasserstein")
    assert float(w.d_loss(R, F)) == pytest.approx(mean(F.tolist()) - mean(R.tolist()))
    assert float(w.g_loss(F)) == pytest.approx(-mean(F.tolist()))
    h = make_loss("hinge")
    d = mean([max(0.0, 1 - r) for r in R.tolist()]) + mean([max(0.0, 1 + f) for f in F.tolist()])
    assert float(h.d_loss(R, F)) == pytest.approx(d)
    assert float(h.g_loss(F)) == pytest.approx(-mean(F.tolist()))


def test_losses_average_over_patch_maps() -> None:
    loss = make_loss("nonsaturating")
    patch = torch.zeros(2, 1, 3, 3)
    assert float(loss.d_loss(patch, patch)) == pytest.approx(2 * math.log(2))


def test_gradient_penalty_linear_critic() -> None:
    # D(x) = w.x has gradient w everywhere: the penalty is (||w|| - 1)^2 whatever eps is.
    w = torch.tensor([3.0, 4.0])
    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    gp = gradient_penalty(lambda x: x @ w, real, fake)
    assert float(gp) == pytest.approx((5.0 - 1.0) ** 2, rel=1e-6)


def test_gradient_penalty_quadratic_critic() -> None:
    # D(x) = ||x||^2 / 2 has gradient x; with real == fake, x_hat == real exactly.
    x = torch.randn(8, 3, 2, 2)
    gp = gradient_penalty(lambda v: 0.5 * (v**2).flatten(1).sum(1), x, x)
    expected = ((x.flatten(1).norm(dim=1) - 1) ** 2).mean()
    assert float(gp.detach()) == pytest.approx(float(expected), rel=1e-5)


def test_gradient_penalty_one_epsilon_per_sample() -> None:
    # D(x) = ||x||^2 / 2 with real = 1, fake = 0: x_hat = eps * 1, grad norm = eps * sqrt(d).
    torch.manual_seed(0)
    real, fake = torch.ones(4096, 4), torch.zeros(4096, 4)
    torch.manual_seed(1)
    gp = gradient_penalty(lambda v: 0.5 * (v**2).sum(1), real, fake)
    torch.manual_seed(1)
    eps = torch.rand(4096, 1)
    expected = float(((eps.squeeze() * 2 - 1) ** 2).mean())
    assert float(gp.detach()) == pytest.approx(expected, rel=1e-5)


def test_gradient_penalty_reaches_the_critic() -> None:
    critic = torch.nn.Linear(2, 1)
    gp = gradient_penalty(lambda x: critic(x).squeeze(1), torch.randn(8, 2), torch.randn(8, 2))
    gp.backward()
    assert critic.weight.grad is not None and critic.weight.grad.abs().sum() > 0


def test_weight_clipping() -> None:
    net = torch.nn.Linear(4, 4)
    with torch.no_grad():
        net.weight.copy_(torch.linspace(-0.03, 0.03, 16).view(4, 4))
        net.bias.copy_(torch.tensor([-0.5, -0.01, 0.004, 0.02]))
    before = [p.detach().clone() for p in net.parameters()]
    clip_weights(net, 0.01)
    for old, new in zip(before, net.parameters()):
        inside = old.abs() <= 0.01
        assert inside.any() and (~inside).any()
        assert torch.equal(new[inside], old[inside])  # values within [-c, c] are untouched
        assert torch.equal(new[~inside], 0.01 * old[~inside].sign())  # the rest sit at +-c
