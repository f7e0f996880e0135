"""Pix2Pix/CycleGAN networks: shapes, the U-Net's wiring, PatchGAN's receptive field, sizes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganforge.errors import ConfigError
from ganforge.nets import (
    PatchDiscriminator,
    ResnetGenerator,
    UNetGenerator,
    blocks_for,
    receptive_field,
)
from ganforge.nets.unet import dropout_count, encoder_channels, unet_depth

SIZES = (64, 128, 256)


def n_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def count(net: nn.Module, kind: type[nn.Module]) -> int:
    return sum(isinstance(m, kind) for m in net.modules())


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_output_shapes(size: int, norm: str) -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 3, size, size)
    unet = UNetGenerator(3, 2, size, width=8, norm=norm)
    y = unet(x)
    assert y.shape == (2, 2, size, size) and y.abs().max() <= 1.0  # tanh
    assert unet.encode(x)[-1].shape == (2, 64, 1, 1)  # 1x1 bottleneck, 8 x width channels
    resnet = ResnetGenerator(3, 1, width=8, n_blocks=2, norm=norm)
    assert resnet(x).shape == (2, 1, size, size)
    patch = PatchDiscriminator(6, width=8, norm=norm)
    assert patch(torch.cat([x, x], 1)).shape == (2, 1, size // 8 - 2, size // 8 - 2)


def test_unet_depth_and_channels_follow_the_image_size() -> None:
    assert [unet_depth(s) for s in SIZES] == [6, 7, 8]
    assert encoder_channels(64, 8) == [64, 128, 256, 512, 512, 512, 512, 512]  # C64-…-C512
    for bad in (0, 2, 100, 255):
        with pytest.raises(ConfigError, match="power-of-two image size"):
            unet_depth(bad)


def test_parameter_counts_match_the_official_networks() -> None:
    # The official code prints 54.414 M (unet_256), 11.378 M (resnet_9blocks), 2.765 M (basic D).
    assert n_params(UNetGenerator(3, 3, 256)) == 54_413_955
    assert n_params(ResnetGenerator(3, 3, n_blocks=9)) == 11_378_179
    assert n_params(PatchDiscriminator(3)) == 2_765_633


def test_unet_norms_only_inside_the_encoder_and_tanh_at_the_end() -> None:
    net = UNetGenerator(3, 3, 64, width=4)
    has_norm = [count(block, nn.BatchNorm2d) > 0 for block in net.down]
    assert has_norm == [False, True, True, True, True, False]  # outermost and innermost: none
    assert count(net.down, nn.LeakyReLU) == net.depth - 1 and count(net.down, nn.ReLU) == 0
    assert count(net.up, nn.ReLU) == net.depth and count(net.up, nn.LeakyReLU) == 0
    assert isinstance(net.up[0][-1], nn.Tanh)
    conv = net.down[1][1]
    assert isinstance(conv, nn.Conv2d) and conv.kernel_size == (4, 4) and conv.stride == (2, 2)
    assert conv.bias is None  # followed by BatchNorm
    inst = UNetGenerator(3, 3, 64, width=4, norm="instance")
    assert count(inst, nn.BatchNorm2d) == 0 and count(inst, nn.InstanceNorm2d) == 4 + 5
    assert inst.down[1][1].bias is not None


@pytest.mark.parametrize(("size", "expected"), [(64, 3), (128, 3), (256, 3), (512, 4)])
def test_dropout_blocks_sit_just_outside_the_innermost(size: int, expected: int) -> None:
    assert dropout_count(unet_depth(size)) == expected
    net = UNetGenerator(3, 3, size, width=2)
    with_dropout = [k for k, block in enumerate(net.up) if count(block, nn.Dropout)]
    depth = net.depth
    assert with_dropout == list(range(depth - 1 - expected, depth - 1))
    assert all(m.p == 0.5 for m in net.modules() if isinstance(m, nn.Dropout))
    assert count(UNetGenerator(3, 3, size, width=2, dropout=False), nn.Dropout) == 0


def test_unet_decoder_reads_the_skip_then_the_deeper_decoder_output() -> None:
    torch.manual_seed(0)
    net = UNetGenerator(3, 3, 64, width=4).eval()
    enc_out: dict[int, torch.Tensor] = {}
    dec_in: dict[int, torch.Tensor] = {}
    dec_out: dict[int, torch.Tensor] = {}
    for k in range(net.depth):
        net.down[k].register_forward_hook(lambda m, i, o, k=k: enc_out.__setitem__(k, o))
        net.up[k].register_forward_pre_hook(lambda m, i, k=k: dec_in.__setitem__(k, i[0]))
        net.up[k].register_forward_hook(lambda m, i, o, k=k: dec_out.__setitem__(k, o))
    net(torch.randn(2, 3, 64, 64))
    innermost = net.depth - 1
    assert torch.equal(dec_in[innermost], enc_out[innermost])
    for k in range(innermost):
        c = enc_out[k].shape[1]
        assert dec_in[k].shape[1] == c + dec_out[k + 1].shape[1]
        assert torch.equal(dec_in[k][:, :c], enc_out[k])  # skip first, as in the official code
        assert torch.equal(dec_in[k][:, c:], dec_out[k + 1])


@pytest.mark.parametrize("depth_k", range(6))
def test_zeroing_a_skip_changes_the_output(depth_k: int) -> None:
    torch.manual_seed(0)
    net = UNetGenerator(3, 3, 64, width=4, dropout=False)  # train mode: BN keeps signals O(1)
    x = torch.randn(2, 3, 64, 64)
    before = net(x)
    c = encoder_channels(4, net.depth)[depth_k]

    def zero_skip(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor]:
        h = inputs[0].clone()
        h[:, :c] = 0  # the innermost block reads the bottleneck itself: zero it all
        return (h,)

    net.up[depth_k].register_forward_pre_hook(zero_skip)
    assert (net(x) - before).abs().max() > 1e-3


def test_train_and_eval_differ_only_through_dropout_and_batchnorm() -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 3, 64, 64)
    plain = UNetGenerator(3, 3, 64, width=4, norm="instance", dropout=False)
    assert torch.equal(plain.train()(x), plain.eval()(x))
    noisy = UNetGenerator(3, 3, 64, width=4, norm="instance", dropout=True)
    assert torch.equal(noisy.eval()(x), noisy(x))
    assert not torch.equal(noisy.train()(x), noisy(x))  # pix2pix's noise is the dropout
    batch = UNetGenerator(3, 3, 64, width=4, norm="batch", dropout=False)
    assert not torch.allclose(batch.train()(x), batch.eval()(x))
    assert torch.equal(batch.eval()(x), batch(x))


def test_weights_follow_the_normal_002_init() -> None:
    torch.manual_seed(0)
    net = UNetGenerator(3, 3, 256, width=16)
    big = net.down[4][1].weight  # 128 x 128 x 4 x 4
    assert big.mean().abs() < 2e-3 and abs(big.std().item() - 0.02) < 1e-3
    bn = net.down[4][2]
    assert abs(bn.weight.mean().item() - 1.0) < 0.01 and bn.weight.std() < 0.03
    assert torch.equal(bn.bias, torch.zeros_like(bn.bias))
    assert torch.equal(net.up[0][1].bias, torch.zeros(3))


@pytest.mark.parametrize(("n_layers", "expected"), [(1, 16), (2, 34), (3, 70), (4, 142)])
def test_receptive_field_formula(n_layers: int, expected: int) -> None:
    assert receptive_field(PatchDiscriminator(3, width=2, n_layers=n_layers)) == expected


@pytest.mark.parametrize("n_layers", [1, 2, 3])
def test_receptive_field_is_the_set_of_input_pixels_one_output_sees(n_layers: int) -> None:
    torch.manual_seed(0)
    net = PatchDiscriminator(1, width=4, n_layers=n_layers).eval()  # eval: BN mixes no pixels
    x = torch.randn(1, 1, 160, 160, requires_grad=True)
    out = net(x)  # (1, 1, h, w)
    centre = out.shape[-1] // 2
    out[0, 0, centre, centre].backward()
    assert x.grad is not None
    rows, cols = (x.grad[0, 0] != 0).nonzero(as_tuple=True)
    assert rows.min() > 0 and rows.max() < 159  # the field lies inside: padding cuts nothing
    side = receptive_field(net)
    assert int(rows.max() - rows.min()) + 1 == side
    assert int(cols.max() - cols.min()) + 1 == side
    assert len(rows) == side * side  # every pixel of the square counts


def test_patchgan_layout() -> None:
    net = PatchDiscriminator(3)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 128, 256, 512, 1]
    assert [c.stride[0] for c in convs] == [2, 2, 2, 1, 1]
    assert all(c.kernel_size == (4, 4) for c in convs)
    assert count(net, nn.BatchNorm2d) == 3  # none after C64
    assert all(m.negative_slope == 0.2 for m in net.modules() if isinstance(m, nn.LeakyReLU))


def test_resnet_layout_and_blocks_for() -> None:
    assert blocks_for(128) == 6 and blocks_for(64) == 6 and blocks_for(256) == 9
    net = ResnetGenerator(3, 3, width=8, n_blocks=6)
    assert len(net.blocks) == 6 and count(net, nn.Dropout) == 0
    assert count(net, nn.BatchNorm2d) == 0 and count(net, nn.InstanceNorm2d) == 3 + 12 + 2
    assert count(net, nn.ReflectionPad2d) == 2 + 12
    ups = [m for m in net.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [u.output_padding for u in ups] == [(1, 1), (1, 1)]
    assert isinstance(net.decoder[-1], nn.Tanh)


def test_resnet_block_is_residual() -> None:
    net = ResnetGenerator(3, 3, width=4, n_blocks=1)
    block = net.blocks[0]
    x = torch.randn(1, 16, 8, 8)
    last_conv = [m for m in block.modules() if isinstance(m, nn.Conv2d)][-1]
    nn.init.zeros_(last_conv.weight)
    nn.init.zeros_(last_conv.bias)  # the body's last InstanceNorm maps a constant to 0
    assert torch.allclose(block(x), x)


def test_unknown_norm_lists_the_choices() -> None:
    for build in (lambda: UNetGenerator(3, 3, 64, norm="layer"),
                  lambda: ResnetGenerator(3, 3, norm="layer"),
                  lambda: PatchDiscriminator(3, norm="layer")):
        with pytest.raises(ConfigError, match="unknown norm 'layer'; choose from: batch, instance"):
            build()
