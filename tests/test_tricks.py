"""The mathematics of every training trick, on tiny tensors and 8-wide networks."""

from __future__ import annotations

import copy
import math

import pytest
import scipy.stats
import torch
import torch.nn.functional as F
from torch import nn

from ganforge.api import make_config
from ganforge.config import validate
from ganforge.configure import preset_values
from ganforge.data.batch import Batch
from ganforge.data.spec import DataSpec
from ganforge.errors import ConfigError
from ganforge.losses import make_loss
from ganforge.nets.build import build_discriminator, build_generator
from ganforge.train.ema import EMA
from ganforge.train.optim import make_optimizers
from ganforge.tricks.d_inputs import DInputs
from ganforge.tricks.diffaugment import color, cutout, diff_augment, parse_policy, translation
from ganforge.tricks.feature_matching import feature_matching_loss
from ganforge.tricks.historical import HistoricalAverage
from ganforge.tricks.instance_noise import annealed_std
from ganforge.tricks.minibatch import MinibatchDiscrimination, MinibatchStdDev
from ganforge.tricks.spectral import apply_spectral_norm, largest_singular_value
from ganforge.tricks.vbn import ReferenceBatch, VirtualBatchNorm, to_virtual_batchnorm
from ganforge.variants import VARIANTS, Variant, build_variant

MNIST = DataSpec("image", (1, 28, 28), 10)
TINY = {"width": 4, "hidden": 8, "latent_dim": 6, "batch_size": 8}


# ----- one-sided label smoothing -------------------------------------------------------------
def smoothing_gap(loss: str, real: torch.Tensor) -> float:
    """d_loss(target 0.9) - d_loss(target 1) by hand: for BCE, -0.9 log s(r) - 0.1 log(1 - s(r))
    + log s(r) = 0.1 r; for least squares, 0.5 ((r - 0.9)^2 - (r - 1)^2) = 0.1 r - 0.095."""
    return 0.1 * float(real.mean()) - (0.095 if loss == "lsgan" else 0.0)


@pytest.mark.parametrize("loss", ["nonsaturating", "minimax", "lsgan"])
def test_smoothing_changes_real_targets_only(loss: str) -> None:
    adv, real = make_loss(loss), torch.randn(16) + 0.5
    fakes = [torch.randn(16), torch.randn(16) * 3]
    gaps = [float(adv.d_loss(real, f, 0.9) - adv.d_loss(real, f, 1.0)) for f in fakes]
    assert gaps == pytest.approx([smoothing_gap(loss, real)] * 2, abs=1e-6)


def test_smoothed_bce_targets_are_0_9_and_0() -> None:
    real, fake = torch.randn(16), torch.randn(16)
    want = (F.binary_cross_entropy_with_logits(real, torch.full_like(real, 0.9))
            + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    got = make_loss("nonsaturating").d_loss(real, fake, DInputs(real_target=0.9).real_target)
    assert float(got) == pytest.approx(float(want), rel=1e-6)


def test_smoothing_reaches_the_variant_loss() -> None:
    torch.manual_seed(0)
    batch = Batch(torch.rand(8, 1, 28, 28) * 2 - 1, torch.randint(0, 10, (8,)))
    plain = build_variant(make_config("dcgan", **TINY), MNIST)
    smooth = build_variant(make_config("dcgan", label_smoothing=0.9, **TINY), MNIST)
    smooth.load_state_dict(plain.state_dict())
    torch.manual_seed(1)
    a = float(plain.discriminator_loss(batch)["loss"])
    torch.manual_seed(1)
    b = float(smooth.discriminator_loss(batch)["loss"])
    real_logits = plain.discriminator(batch.x)  # train mode, real batch alone: as in the loss
    assert b - a == pytest.approx(smoothing_gap("nonsaturating", real_logits), abs=1e-6)


# ----- instance noise ------------------------------------------------------------------------
def test_instance_noise_anneals_linearly_to_zero() -> None:
    assert annealed_std(0.2, 0, 100) == pytest.approx(0.2)
    assert annealed_std(0.2, 50, 100) == pytest.approx(0.1)
    assert annealed_std(0.2, 100, 100) == 0.0
    assert annealed_std(0.2, 150, 100) == 0.0


def test_instance_noise_has_the_scheduled_std() -> None:
    torch.manual_seed(0)
    see, x = DInputs(noise_std=0.5, noise_steps=10), torch.zeros(20000)
    assert float(see(x, 0).std()) == pytest.approx(0.5, rel=0.03)
    assert float(see(x, 6).std()) == pytest.approx(0.2, rel=0.03)
    assert torch.equal(see(x, 10), x)


# ----- feature matching ----------------------------------------------------------------------
def test_feature_matching_is_squared_distance_of_means() -> None:
    real, fake = torch.randn(32, 5), torch.randn(32, 5) + 1.0
    want = ((real.mean(0) - fake.mean(0)) ** 2).sum()
    assert float(feature_matching_loss(real, fake)) == pytest.approx(float(want))
    shuffled = real[torch.randperm(32)]
    assert float(feature_matching_loss(real, shuffled)) == pytest.approx(0, abs=1e-9)


def test_feature_matching_replaces_g_objective_and_trains_g() -> None:
    torch.manual_seed(0)
    variant = build_variant(make_config("dcgan", feature_matching=True, **TINY), MNIST)
    batch = Batch(torch.rand(8, 1, 28, 28) * 2 - 1)
    torch.manual_seed(1)
    terms = variant.generator_loss(batch)
    torch.manual_seed(1)  # the same fakes, by hand: ||mean f(x) - mean f(G(z))||^2, f D's last
    with torch.no_grad():  # hidden layer (Salimans et al. 2016, §3.1)
        fake = variant.generate(variant.noise(8))
        _, real_feats = variant.discriminator.forward_features(batch.x)
        _, fake_feats = variant.discriminator.forward_features(fake)
    want = float(((real_feats.mean(0) - fake_feats.mean(0)) ** 2).sum())
    assert want > 1e-6 and float(terms["loss"]) == pytest.approx(want, rel=1e-5)
    assert float(terms["fm"]) == float(terms["loss"])
    terms["loss"].backward()
    for name, p in variant.generator.named_parameters():
        assert p.grad is not None and float(p.grad.abs().sum()) > 0, name


# ----- minibatch layers ----------------------------------------------------------------------
def test_minibatch_discrimination_matches_the_paper_formula() -> None:
    torch.manual_seed(0)
    layer, f = MinibatchDiscrimination(6, kernels=4, kernel_dim=3), torch.randn(5, 6)
    out = layer(f)
    assert out.shape == (5, 10) and torch.equal(out[:, :6], f)
    assert torch.allclose(out[:, 6:], _paper_formula(f, layer), atol=1e-6)


@pytest.mark.parametrize("twice", [False, True])
def test_minibatch_discrimination_gradient_matches_the_formula(twice: bool) -> None:
    torch.manual_seed(1)
    layer = MinibatchDiscrimination(6, kernels=4, kernel_dim=3)
    layer.twice_differentiable = twice
    f = torch.randn(5, 6, requires_grad=True)
    assert torch.allclose(layer(f)[:, 6:], _paper_formula(f, layer), atol=1e-6)
    got = torch.autograd.grad(layer(f)[:, 6:].pow(2).sum(), (f, layer.T))
    m = (f @ layer.T).view(5, 4, 3)  # the formula by broadcasting, differentiated by autograd
    o = torch.exp(-(m.unsqueeze(0) - m.unsqueeze(1)).abs().sum(-1)).sum(1)
    want = torch.autograd.grad(o.pow(2).sum(), (f, layer.T))
    assert all(torch.allclose(g, w, atol=1e-5) for g, w in zip(got, want, strict=True))


def _paper_formula(f: torch.Tensor, layer: MinibatchDiscrimination) -> torch.Tensor:
    """o(x_i)_b = sum_j exp(-||M_i,b - M_j,b||_1), by loops over the pairs."""
    n = f.shape[0]
    m = (f @ layer.T).view(n, layer.kernels, layer.kernel_dim)
    return torch.stack([sum(torch.exp(-(m[i] - m[j]).abs().sum(-1)) for j in range(n))
                        for i in range(n)])


def test_minibatch_discrimination_sees_collapse() -> None:
    layer = MinibatchDiscrimination(6, kernels=4, kernel_dim=3)
    same = layer(torch.ones(5, 6))[:, 6:]
    assert torch.allclose(same, torch.full_like(same, 5.0))  # every c_b = 1: all identical


def test_minibatch_stddev_appends_mean_std() -> None:
    x = torch.randn(6, 3, 4, 4)
    out = MinibatchStdDev()(x)
    want = x.var(0, unbiased=False).add(1e-8).sqrt().mean()
    assert out.shape == (6, 4, 4, 4) and torch.allclose(out[:, 3], want.expand(6, 4, 4))
    flat = MinibatchStdDev()(torch.ones(5, 7))
    assert flat.shape == (5, 8) and float(flat[:, -1].max()) == pytest.approx(1e-4)


@pytest.mark.parametrize("arch", ["dcgan", "mlp"])
def test_minibatch_layers_build_into_d(arch: str) -> None:
    cfg = make_config("dcgan", arch=arch, minibatch_disc=True, minibatch_stddev=True, **TINY)
    d = build_discriminator(cfg, MNIST)
    out, feats = d.forward_features(torch.randn(3, 1, 28, 28))
    assert out.shape == (3,) and feats.shape == (3, d.feature_dim)


# ----- historical averaging ------------------------------------------------------------------
def test_historical_penalty_is_squared_distance_to_running_mean() -> None:
    p = nn.Parameter(torch.zeros(3))
    hist, seen = HistoricalAverage([p]), []
    for t in range(5):
        with torch.no_grad():
            p.copy_(torch.randn(3) * (t + 1))
        seen.append(p.detach().clone())
        penalty = hist()
        want = ((p.detach() - torch.stack(seen).mean(0)) ** 2).sum()
        assert float(penalty) == pytest.approx(float(want), rel=1e-5, abs=1e-7)
    penalty.backward()
    assert torch.allclose(p.grad, 2 * (p.detach() - torch.stack(seen).mean(0)))


def test_historical_average_is_in_the_checkpoint() -> None:
    cfg = make_config("dcgan", historical_avg=0.1, **TINY)

    def build() -> Variant:
        torch.manual_seed(0)
        return build_variant(cfg, MNIST)

    trained, fresh, reloaded = build(), build(), build()
    for _ in range(3):  # three moves of every parameter, each folded into the averages
        with torch.no_grad():
            for p in trained.parameters():
                p.add_(torch.randn_like(p))
        for history in trained.tricks.history.values():
            history.update()
    state = trained.state_dict()
    keys = [k for k in state if k.startswith("tricks.history.")]
    assert "tricks.history.D.count" in keys and "tricks.history.G.avg_0" in keys
    reloaded.load_state_dict(state)
    after, before = reloaded.state_dict(), fresh.state_dict()
    assert all(torch.equal(after[k], state[k]) for k in keys)
    assert float(after["tricks.history.G.count"]) == 3
    assert all(not torch.equal(after[k], before[k]) for k in keys)  # not a fresh history
    for group in ("D", "G"):
        penalty = reloaded.tricks.history[group].penalty()
        assert float(penalty) == float(trained.tricks.history[group].penalty()) > 0


# ----- virtual batch normalisation -----------------------------------------------------------
def test_vbn_uses_reference_plus_example_statistics() -> None:
    torch.manual_seed(0)
    vbn, ref, x = VirtualBatchNorm(3), torch.randn(4, 3), torch.randn(2, 3)
    vbn.ref_size = 4
    out = vbn(torch.cat([ref, x]))[4:]
    for i in range(2):
        pool = torch.cat([ref, x[i : i + 1]])  # the reference batch plus the example itself
        want = (x[i] - pool.mean(0)) / torch.sqrt(pool.var(0, unbiased=False) + 1e-5)
        assert torch.allclose(out[i], want, atol=1e-5)


def test_vbn_output_does_not_depend_on_the_minibatch() -> None:
    torch.manual_seed(0)
    net = to_virtual_batchnorm(build_generator(make_config("dcgan", vbn=False, **TINY), MNIST))
    g = ReferenceBatch(net, {"z": torch.randn(8, 6)})
    z = torch.randn(5, 6)
    alone = g(z=z[:1])
    together = g(z=torch.cat([z[:1], torch.randn(4, 6) * 5]))
    assert torch.allclose(alone, together[:1], atol=1e-5)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in g.modules())


def test_vbn_generator_reloads_with_its_reference() -> None:
    cfg = make_config("dcgan", vbn=True, **TINY)
    a, b = build_variant(cfg, MNIST), build_variant(make_config("dcgan", vbn=True, seed=3, **TINY),
                                                    MNIST)
    b.load_state_dict(a.state_dict())
    z = a.noise(3, torch.Generator().manual_seed(0))
    assert torch.allclose(a.generate(z), b.generate(z))


# ----- spectral normalisation ----------------------------------------------------------------
def test_spectral_norm_brings_sigma_max_to_one() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(8 * 4 * 4, 5))
    with torch.no_grad():
        for m in net:
            if hasattr(m, "weight"):
                m.weight.mul_(10)
    apply_spectral_norm(net)
    for _ in range(30):  # one power iteration per training forward
        net(torch.randn(2, 3, 6, 6))
    for layer in (net[0], net[2]):
        assert largest_singular_value(layer.weight) == pytest.approx(1.0, abs=0.05)


def test_spectral_norm_flag_covers_every_d_layer() -> None:
    d = build_discriminator(make_config("dcgan", spectral_norm=True, **TINY), MNIST)
    layers = [m for m in d.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert layers and all(hasattr(m, "parametrizations") for m in layers)


# ----- DiffAugment ---------------------------------------------------------------------------
def test_diffaugment_keeps_gradients_flowing_to_g() -> None:
    torch.manual_seed(0)
    cfg = make_config("dcgan", diffaugment="color,translation,cutout", **TINY)
    variant = build_variant(cfg, MNIST)
    variant.generator_loss(Batch(torch.rand(8, 1, 28, 28) * 2 - 1))["loss"].backward()
    grads = [p.grad for p in variant.generator.parameters()]
    assert all(g is not None for g in grads) and sum(float(g.abs().sum()) for g in grads) > 0


def test_translation_shifts_content_and_pads_zero() -> None:
    # 8 x 16 images: shifts of up to 1/8 of each side, |dy| <= 1 and |dx| <= 2 (Zhao et al.)
    x = torch.arange(1, 129, dtype=torch.float).view(1, 1, 8, 16).repeat(60, 2, 1, 1)
    torch.manual_seed(0)
    out = translation(x)
    torch.manual_seed(0)  # the same draws, in the code's order: dy, then dx, one per image
    dy, dx = torch.randint(-1, 2, (60,)), torch.randint(-2, 3, (60,))
    for img, sy, sx in zip(out, dy.tolist(), dx.tolist()):
        assert torch.equal(img, _shift(x[0], sy, sx))  # both channels alike
    shifts = set(zip(dy.tolist(), dx.tolist()))
    assert len(shifts) == 15  # every (dy, dx) in the range occurs, not only (0, 0)


def _shift(img: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """img[..., i + dy, j + dx] at (i, j), zero where that falls outside the image."""
    out = torch.zeros_like(img)
    h, w = img.shape[-2:]
    for i in range(h):
        for j in range(w):
            if 0 <= i + dy < h and 0 <= j + dx < w:
                out[..., i, j] = img[..., i + dy, j + dx]
    return out


def test_cutout_zeroes_a_half_size_square() -> None:
    torch.manual_seed(0)
    out = cutout(torch.ones(200, 1, 8, 8))
    zeros = (out == 0).sum((1, 2, 3))
    assert int(zeros.max()) == 16 and int(zeros.min()) >= 4  # 4x4, clipped at the borders


def test_color_draws_the_papers_brightness_saturation_and_contrast() -> None:
    # Zhao et al. (2020), official DiffAugment code: x + U(-0.5, 0.5); saturation: deviations
    # from the per-pixel channel mean times U(0, 2); contrast: deviations from the image mean
    # times U(0.5, 1.5). The three factors are read back from each output image:
    # image mean -> brightness; spread of the channel-mean map -> contrast; spread of the
    # deviations from the channel mean -> saturation x contrast.
    torch.manual_seed(0)
    x = torch.rand(3000, 3, 4, 4, dtype=torch.float64) * 2 - 1
    out = color(x)
    brightness = (out.mean((1, 2, 3)) - x.mean((1, 2, 3))).numpy()
    gray_in, gray_out = x.mean(1), out.mean(1)
    contrast = (gray_out.std((1, 2)) / gray_in.std((1, 2))).numpy()
    saturation = ((out - gray_out[:, None]).std((1, 2, 3))
                  / (x - gray_in[:, None]).std((1, 2, 3))).numpy() / contrast
    for values, lo, hi in ((brightness, -0.5, 0.5), (saturation, 0.0, 2.0), (contrast, 0.5, 1.5)):
        assert lo <= values.min() < lo + 0.01 and hi - 0.01 < values.max() < hi
        assert scipy.stats.kstest(values, "uniform", args=(lo, hi - lo)).pvalue > 0.01
    gray = torch.rand(5, 1, 4, 4, dtype=torch.float64)  # saturation is a no-op on one channel
    torch.manual_seed(1)
    out = color(gray)
    torch.manual_seed(1)
    b, _, c = (torch.rand(5, 1, 1, 1, dtype=torch.float64) for _ in range(3))
    mean = gray.mean((1, 2, 3), keepdim=True)
    assert torch.allclose(out, (gray - mean) * (c + 0.5) + mean + b - 0.5)
    assert torch.equal(diff_augment(x, ()), x)


def test_diffaugment_policy_errors_are_one_line() -> None:
    assert parse_policy("color, cutout") == ("color", "cutout")
    with pytest.raises(ConfigError, match="choose from: color, translation, cutout"):
        parse_policy("colour")


# ----- EMA and TTUR --------------------------------------------------------------------------
def test_ema_is_an_exponential_moving_average() -> None:
    net = nn.Linear(2, 1)
    with torch.no_grad():
        net.weight.fill_(0.0)
    ema, d = EMA(net, 0.9), 0.9
    with torch.no_grad():
        net.weight.fill_(1.0)
    for _ in range(10):
        ema.update(net)
    want = 1.0 - d**10  # theta_ema_k = theta + (theta_0 - theta) d^k
    assert torch.allclose(ema.module.weight, torch.full_like(net.weight, want))
    assert not any(p.requires_grad for p in ema.module.parameters())


def test_ema_copy_drives_sampling() -> None:
    cfg = make_config("dcgan", ema=0.5, **TINY)
    variant = build_variant(cfg, MNIST)
    ema = EMA(variant.generator, 0.5)
    moved = copy.deepcopy(variant.generator)
    with torch.no_grad():
        for p in moved.parameters():
            p.add_(1.0)
    ema.update(moved)
    z = variant.noise(2, torch.Generator().manual_seed(0))
    ema.module.eval()
    assert not torch.allclose(variant.generate(z, ema.module), variant.generate(z))


def test_ttur_preset_separates_learning_rates() -> None:
    values = preset_values("dcgan-ttur")
    lrs = (values["lr_d"], values["lr_g"], values["beta1"], values["beta2"])
    assert lrs == (4e-4, 1e-4, 0, 0.9)
    variant = build_variant(make_config("dcgan-ttur", **TINY), MNIST)
    opts = make_optimizers(make_config("dcgan-ttur", **TINY), variant.param_groups())
    assert opts["D"].param_groups[0]["lr"] == 4e-4 and opts["G"].param_groups[0]["lr"] == 1e-4


# ----- options, composition ------------------------------------------------------------------
@pytest.mark.parametrize(("flag", "value"), [("label_smoothing", 0.0), ("label_smoothing", 1.2),
                                             ("instance_noise", -0.1), ("instance_noise_steps", 0),
                                             ("historical_avg", -1.0), ("diffaugment", "zoom")])
def test_bad_trick_values_are_one_line_errors(flag: str, value: object) -> None:
    with pytest.raises(ConfigError, match=flag.replace("_", "-")):
        validate(make_config("dcgan", **{flag: value}))


def test_smoothing_is_refused_for_wasserstein() -> None:
    with pytest.raises(ConfigError, match="wasserstein"):
        validate(make_config("wgan-gp", label_smoothing=0.9))


ALL_TRICKS = {"label_smoothing": 0.9, "instance_noise": 0.1, "feature_matching": True,
              "minibatch_disc": True, "minibatch_stddev": True, "historical_avg": 0.01,
              "vbn": True, "spectral_norm": True, "diffaugment": "color,translation,cutout"}


@pytest.mark.parametrize("variant", [v for v in VARIANTS.names() if VARIANTS.get(v).uses_tricks])
def test_every_trick_composes_with_every_variant(variant: str) -> None:
    torch.manual_seed(0)
    model = {"unconditional": "dcgan"}.get(variant, variant)
    v = build_variant(make_config(model, **ALL_TRICKS, **TINY), MNIST)
    batch = Batch(torch.rand(8, 1, 28, 28) * 2 - 1, torch.randint(0, 10, (8,)))
    for terms in (v.discriminator_loss(batch), v.generator_loss(batch)):
        assert math.isfinite(float(terms["loss"]))
        terms["loss"].backward()


@pytest.mark.parametrize("model", ["pix2pix", "cyclegan"])
def test_tricks_are_refused_where_they_do_not_apply(model: str) -> None:
    for name, value in ALL_TRICKS.items():
        with pytest.raises(ConfigError, match=f"--{name.replace('_', '-')} does not apply to "
                                              f"{model}"):
            make_config(model, **{name: value})
