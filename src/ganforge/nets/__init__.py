"""Network building blocks."""

from ganforge.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from ganforge.nets.init import dcgan_init
from ganforge.nets.mlp import MLPDiscriminator, MLPGenerator
from ganforge.nets.patchgan import PatchDiscriminator, receptive_field
from ganforge.nets.resnet import ResnetGenerator, blocks_for
from ganforge.nets.unet import UNetGenerator

__all__ = [
    "DCGANDiscriminator",
    "DCGANGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
    "PatchDiscriminator",
    "ResnetGenerator",
    "UNetGenerator",
    "blocks_for",
    "dcgan_init",
    "receptive_field",
]
