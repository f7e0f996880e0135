"""Template for a new variant: copy this file to variants/<name>.py, fill it in, register it in
variants/__init__.py, and add a preset in presets.py. The trainer needs no change.

    class MyVariant(Variant):
        def __init__(self, cfg: TrainConfig, spec: DataSpec) -> None:
            super().__init__()
            self.generator = build_generator(cfg, spec)        # exported, averaged by --ema
            self.discriminator = build_discriminator(cfg, spec)
            self.adv = make_loss(cfg.loss)

        def param_groups(self):           # which parameters each phase's optimiser updates
            return {"D": [...], "G": [...]}

        def discriminator_loss(self, batch):   # phase D; batch.x, batch.y, batch.a, batch.b
            return {"loss": total, "some_term": term.detach()}

        def generator_loss(self, batch):       # phase G, every n_critic steps
            return {"loss": total}

        def noise(self, n, gen=None):          # generator inputs: z, labels, codes, …
            return {"z": ...}

        def generate(self, inputs, net=None):  # net: the EMA copy of self.generator, if any
            return (net or self.generator)(inputs["z"])

Tests in tests/test_variants.py are parametrised over the registry: a registered variant is
shape-checked and trained for a few steps the day it is added.
"""
