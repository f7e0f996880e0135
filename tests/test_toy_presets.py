"""The toy presets (gan-toy, pacgan-toy, unrolled-toy) and the MLP shape options they use."""

from __future__ import annotations

import pytest
from torch import nn

from ganforge.api import make_config
from ganforge.data.spec import DataSpec
from ganforge.nets.build import build_discriminator, build_generator

POINTS = DataSpec("points", (2,))


def _linears(net: nn.Module) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in net.modules() if isinstance(m, nn.Linear)]


def test_gan_toy_nets_are_three_layers_of_128_without_batchnorm() -> None:
    cfg = make_config("gan-toy", data="ring8")
    g, d = build_generator(cfg, POINTS), build_discriminator(cfg, POINTS)
    assert _linears(g) == [(2, 128), (128, 128), (128, 128), (128, 2)]
    assert _linears(d) == [(2, 128), (128, 128), (128, 128), (128, 1)]
    assert not any(isinstance(m, nn.BatchNorm1d) for m in g.modules())


def test_g_norm_batch_puts_batchnorm_in_a_point_generator() -> None:
    g = build_generator(make_config("gan-toy", g_norm="batch"), POINTS)
    assert sum(isinstance(m, nn.BatchNorm1d) for m in g.modules()) == 2  # not on the first layer


def test_default_mlp_keeps_the_pyramid() -> None:
    g = build_generator(make_config("gan", hidden=8, latent_dim=3), POINTS)
    assert _linears(g) == [(3, 8), (8, 16), (16, 32), (32, 2)]


@pytest.mark.parametrize(("preset", "pack", "unroll", "batch"),
                         [("gan-toy", 1, 0, 100), ("pacgan-toy", 2, 0, 200),
                          ("unrolled-toy", 1, 5, 100)])
def test_toy_presets(preset: str, pack: int, unroll: int, batch: int) -> None:
    cfg = make_config(preset, data="grid25")
    assert (cfg.pack, cfg.unroll, cfg.batch_size, cfg.latent_dim) == (pack, unroll, batch, 2)
    d = build_discriminator(cfg, POINTS)
    assert _linears(d)[0] == (2 * pack, 128)  # D's input widened for packs


def _first_linear(net: nn.Module) -> nn.Linear:
    return next(m for m in net.modules() if isinstance(m, nn.Linear))


def test_init_dcgan_draws_n0_002_weights_and_zero_biases() -> None:
    layer = _first_linear(build_discriminator(make_config("gan", hidden=256, init="dcgan"),
                                              POINTS))  # (2 -> 1024)
    assert layer.bias is not None and not layer.bias.any()
    assert abs(float(layer.weight.std()) - 0.02) < 0.002


def test_init_default_keeps_pytorch_kaiming_uniform() -> None:
    # nn.Linear's own init: weights and biases uniform in +-1/sqrt(fan_in); fan_in 2 here.
    layer = _first_linear(build_discriminator(make_config("gan", hidden=256, init="default"),
                                              POINTS))
    bound = 1 / 2 ** 0.5
    assert float(layer.weight.abs().max()) <= bound
    assert abs(float(layer.weight.std()) - bound / 3 ** 0.5) < 0.03  # sd of U(-b, b)
    assert layer.bias is not None and float(layer.bias.abs().max()) > 0.1
