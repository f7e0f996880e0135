"""Choosing and building networks from the config: one place that maps --arch to classes."""

from __future__ import annotations

import math

from torch import nn

from ganforge.config import TrainConfig
from ganforge.data.spec import DataSpec
from ganforge.errors import ConfigError
from ganforge.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from ganforge.nets.infogan import InfoGANDiscriminator, InfoGANGenerator
from ganforge.nets.init import dcgan_init
from ganforge.nets.mlp import MLPDiscriminator, MLPGenerator
from ganforge.tricks.minibatch import MinibatchDiscrimination
from ganforge.tricks.spectral import apply_spectral_norm
from ganforge.tricks.vbn import to_virtual_batchnorm

#: --arch -> its convolutional (generator, discriminator) classes.
CONV_NETS = {"dcgan": (DCGANGenerator, DCGANDiscriminator),
             "infogan": (InfoGANGenerator, InfoGANDiscriminator)}
CONV_ARCHS = tuple(CONV_NETS)


def resolve_arch(cfg: TrainConfig, spec: DataSpec) -> str:
    """`auto` means conv nets for images and MLPs for points."""
    if cfg.arch == "auto":
        return "dcgan" if spec.kind == "image" else "mlp"
    if cfg.arch in CONV_ARCHS and spec.kind != "image":
        raise ConfigError(
            f"--arch {cfg.arch} needs image data, but '{cfg.data}' is points; use --arch mlp")
    return cfg.arch


def mlp_widths(cfg: TrainConfig) -> tuple[int, ...]:
    """G's MLP hidden widths (D takes them reversed): h, 2h, 4h, or --mlp-depth layers of h."""
    h = cfg.hidden
    return (h,) * cfg.mlp_depth if cfg.mlp_depth else (h, 2 * h, 4 * h)


def build_generator(cfg: TrainConfig, spec: DataSpec, in_extra: int = 0) -> nn.Module:
    """G for the data's shape; `in_extra` widens its input (labels, codes). With --vbn its
    BatchNorms are virtual: the variant then wraps it with `tricks.bundle.finish_generator`."""
    arch = resolve_arch(cfg, spec)
    if arch in CONV_ARCHS:
        c, h, _ = spec.shape
        net: nn.Module = CONV_NETS[arch][0](cfg.latent_dim, c, h, cfg.width, in_extra)
    else:
        images = spec.kind == "image"
        norm = images if cfg.g_norm == "auto" else cfg.g_norm == "batch"
        widths = mlp_widths(cfg)
        net = MLPGenerator(cfg.latent_dim, spec.shape, widths, norm, images, in_extra)
    if cfg.init == "dcgan":
        dcgan_init(net)
    return to_virtual_batchnorm(net) if cfg.vbn else net


def build_discriminator(
    cfg: TrainConfig, spec: DataSpec, in_extra: int = 0, out_dim: int = 1
) -> MLPDiscriminator | DCGANDiscriminator | InfoGANDiscriminator:
    """D for the data's shape; `in_extra` adds input channels/features (labels). The minibatch
    layers and spectral normalisation are applied here when the config asks for them; with
    --pack M the input is M samples joined on the channel (feature) axis (tricks/pack.py)."""
    net: MLPDiscriminator | DCGANDiscriminator | InfoGANDiscriminator
    minibatch = (cfg.minibatch_disc, cfg.minibatch_stddev)
    arch = resolve_arch(cfg, spec)
    if arch in CONV_ARCHS:
        c, h, _ = spec.shape
        extra = in_extra + (cfg.pack - 1) * c
        net = CONV_NETS[arch][1](c, h, cfg.width, cfg.d_norm, extra, out_dim, *minibatch)
    else:
        extra = in_extra + (cfg.pack - 1) * math.prod(spec.shape)
        widths = mlp_widths(cfg)[::-1]
        net = MLPDiscriminator(spec.shape, widths, extra, out_dim, *minibatch)
    if cfg.init == "dcgan":
        dcgan_init(net)
    if cfg.spectral_norm:
        apply_spectral_norm(net)
    if cfg.unroll:  # G's loss differentiates through D's look-ahead gradient steps
        for m in net.modules():
            if isinstance(m, MinibatchDiscrimination):
                m.twice_differentiable = True
    return net
