"""PacGAN (--pack M): packs hold samples of one source only, D's input is M times as wide, and a
batch that does not split into packs is refused in one line."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from ganforge.api import make_config
from ganforge.data.batch import Batch
from ganforge.data.spec import DataSpec
from ganforge.errors import ConfigError
from ganforge.tricks.pack import pack
from ganforge.variants import build_variant

POINTS = DataSpec("points", (2,))
IMAGES = DataSpec("image", (1, 28, 28))
TINY = {"hidden": 4, "latent_dim": 3, "width": 4}


def test_pack_joins_consecutive_samples_on_the_feature_axis() -> None:
    x = torch.arange(12.0).view(6, 2)  # sample i is (2i, 2i + 1)
    assert pack(x, 3).tolist() == [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]


def test_pack_joins_images_on_the_channel_axis() -> None:
    x = torch.arange(4.0).view(4, 1, 1, 1).expand(4, 1, 2, 2)
    packed = pack(x, 2)  # (2, 2, 2, 2)
    assert packed.shape == (2, 2, 2, 2)
    assert packed[1, :, 0, 0].tolist() == [2.0, 3.0]


def test_pack_of_one_is_the_identity() -> None:
    x = torch.randn(5, 2)
    assert pack(x, 1) is x


def _recording_critic(seen: list[Tensor]):  # type: ignore[no-untyped-def]
    def critic(x: Tensor) -> tuple[Tensor, Tensor]:
        seen.append(x.detach().clone())
        return x.sum(1), x
    return critic


def test_d_and_g_phases_pack_real_with_real_and_fake_with_fake() -> None:
    variant = build_variant(make_config("gan", pack=4, batch_size=8, **TINY), POINTS)
    real = torch.full((8, 2), 1.0)  # real samples are all +1, fakes all -1
    fake = torch.full((8, 2), -1.0)
    seen: list[Tensor] = []
    variant.tricks.d_terms(_recording_critic(seen), real, fake, 0, variant.adv)
    variant.tricks.g_terms(_recording_critic(seen), fake, real, 0, variant.adv)
    assert [s.shape for s in seen] == [(2, 8)] * 3  # 8 samples -> 2 packs of 4 points
    assert (seen[0] == 1).all() and (seen[1] == -1).all() and (seen[2] == -1).all()


@pytest.mark.parametrize(("spec", "arch"), [(POINTS, "mlp"), (IMAGES, "dcgan")])
def test_discriminator_takes_packs(spec: DataSpec, arch: str) -> None:
    variant = build_variant(make_config("gan", arch=arch, pack=2, batch_size=4, **TINY), spec)
    batch = Batch(x=torch.randn(4, *spec.shape))
    terms = variant.discriminator_loss(batch)
    assert torch.isfinite(terms["loss"])
    assert torch.isfinite(variant.generator_loss(batch)["loss"])


def test_batch_not_divisible_by_pack_is_one_line_error() -> None:
    with pytest.raises(ConfigError, match="--batch-size 10 is not a multiple of --pack 4"):
        make_config("gan", pack=4, batch_size=10)


def test_pack_refused_for_conditional_models() -> None:
    cfg = make_config("cgan", pack=2, batch_size=4, **TINY)
    with pytest.raises(ConfigError, match="--pack does not apply to cgan"):
        build_variant(cfg, DataSpec("image", (1, 28, 28), 10))
