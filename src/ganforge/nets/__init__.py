"""Network building blocks."""

from ganforge.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from ganforge.nets.init import dcgan_init
from ganforge.nets.mlp import MLPDiscriminator, MLPGenerator

__all__ = ["DCGANDiscriminator", "DCGANGenerator", "MLPDiscriminator", "MLPGenerator", "dcgan_init"]
