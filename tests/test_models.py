"""Output shapes of every registered model, for every data kind it supports."""

from __future__ import annotations

import re

import pytest
import torch

from conftest import gan_presets
from ganforge.api import make_config
from ganforge.data.batch import Batch
from ganforge.data.spec import DataSpec
from ganforge.errors import ConfigError
from ganforge.nets import DCGANDiscriminator, DCGANGenerator
from ganforge.variants import build_variant

SPECS = [
    DataSpec("image", (1, 28, 28), 10),
    DataSpec("image", (3, 32, 32), 10),
    DataSpec("image", (3, 64, 64), 10),
    DataSpec("points", (2,), None),
    DataSpec("points", (1,), None),
]


def _batch(spec: DataSpec, n: int = 4) -> Batch:
    x = torch.rand(n, *spec.shape) * 2 - 1
    y = torch.randint(0, spec.num_classes, (n,)) if spec.num_classes else None
    return Batch(x=x, y=y)


#: Presets that cannot be built for 2-D or 1-D points, and why (a one-line error).
NOT_FOR_POINTS = {
    "cgan": "cgan needs a labelled dataset",  # the label enters G and D
    "acgan": "acgan needs a labelled dataset",  # D classifies
    "infogan": "--arch infogan needs image data, but '{data}' is points; use --arch mlp",
}


def _model_ids(case: tuple[str, dict]) -> str:
    model, options = case
    return "-".join([model, *map(str, options.values())])


#: Every GAN preset, plus InfoGAN on MLP networks (it needs no labels, only its preset's conv
#: nets).
MODELS = [(name, {}) for name in gan_presets()] + [
    ("infogan", {"arch": "mlp"})]


@pytest.mark.parametrize("case", MODELS, ids=_model_ids)
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: "x".join(map(str, s.shape)))
def test_every_model_produces_the_data_shape(case: tuple[str, dict], spec: DataSpec) -> None:
    model, options = case
    data = {"points": "ring8" if spec.shape == (2,) else "gauss1d"}.get(spec.kind, "mnist")
    cfg = make_config(model, data=data, width=8, hidden=8, latent_dim=6, **options)
    if spec.kind == "points" and model in NOT_FOR_POINTS and not options:
        message = NOT_FOR_POINTS[model].format(data=data)
        with pytest.raises(ConfigError, match=re.escape(message)) as err:
            build_variant(cfg, spec)
        assert "\n" not in str(err.value)
        return
    variant = build_variant(cfg, spec)
    out = variant.generate(variant.noise(4))
    assert out.shape == (4, *spec.shape)
    batch = _batch(spec)
    d_terms, g_terms = variant.discriminator_loss(batch), variant.generator_loss(batch)
    assert d_terms["loss"].dim() == 0 and torch.isfinite(d_terms["loss"])
    assert g_terms["loss"].dim() == 0 and torch.isfinite(g_terms["loss"])
    assert set(variant.param_groups()) == {"D", "G"}


def test_image_outputs_are_in_tanh_range() -> None:
    g = DCGANGenerator(10, 3, 64, width=8)
    out = g(torch.randn(5, 10) * 100)
    assert out.shape == (5, 3, 64, 64) and float(out.abs().max()) <= 1.0


def test_dcgan_follows_the_guidelines() -> None:
    g, d = DCGANGenerator(10, 1, 32, width=8), DCGANDiscriminator(1, 32, width=8)
    g_layers, d_layers = list(g.net), list(d.body)
    assert isinstance(g_layers[-1], torch.nn.Tanh)
    assert not isinstance(g_layers[-2], torch.nn.BatchNorm2d)  # no BN at G's output
    assert isinstance(d_layers[1], torch.nn.LeakyReLU)  # no BN at D's input
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in d.modules())
    assert not any(isinstance(m, torch.nn.BatchNorm2d)
                   for m in DCGANDiscriminator(1, 32, width=8, norm="none").modules())


def test_builder_initialises_n_0_002() -> None:
    variant = build_variant(make_config("dcgan"), SPECS[0])
    convs = [m.weight for m in variant.discriminator.modules() if isinstance(m, torch.nn.Conv2d)]
    assert abs(float(torch.cat([w.flatten() for w in convs]).std()) - 0.02) < 0.002


def test_wgan_gp_critic_has_no_batchnorm() -> None:
    variant = build_variant(make_config("wgan-gp"), SPECS[0])
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in variant.discriminator.modules())


@pytest.mark.parametrize("size", [16, 48, 128])
def test_unsupported_image_size(size: int) -> None:
    with pytest.raises(ConfigError, match="unsupported image size"):
        build_variant(make_config("dcgan"), DataSpec("image", (1, size, size)))
