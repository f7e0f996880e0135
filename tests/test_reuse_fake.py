"""--reuse-fake (on in the dcgan preset): one batch of fakes a step serves D's update (detached)
and G's, as in pytorch/examples' DCGAN loop; without it G's update draws fresh noise. (The dcgan
preset's bitwise resume, with it on, is tests/test_precision.py's.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import ganforge
from ganforge.api import make_config
from ganforge.data.batch import Batch
from ganforge.data.spec import DataSpec
from ganforge.errors import ConfigError
from ganforge.train.trainer import Trainer
from ganforge.variants.unconditional import Unconditional

SPEC = DataSpec("image", (1, 28, 28), 10)


def _variant(model: str, **opts: object) -> Unconditional:
    cfg = make_config(model, data="mnist", image_size=28, width=8, latent_dim=8, **opts)
    torch.manual_seed(0)
    return Unconditional(cfg, SPEC)


def _one_step(v: Unconditional, step: int) -> list[torch.Tensor]:
    """D's then G's loss of one step; the generator's outputs, in the order it made them."""
    outputs: list[torch.Tensor] = []
    hook = v.generator.register_forward_hook(lambda m, i, out: outputs.append(out))
    try:
        v.step = step
        batch = Batch(x=torch.rand(6, 1, 28, 28) * 2 - 1)
        v.discriminator_loss(batch)["loss"].backward()
        v.generator_loss(batch)["loss"].backward()
    finally:
        hook.remove()
    return outputs


def test_the_dcgan_preset_draws_one_fake_batch_a_step() -> None:
    v = _variant("dcgan")
    assert v.opts.reuse_fake
    for step in (1, 2):
        assert len(_one_step(v, step)) == 1
    assert v._fake is None  # the graph is not kept past the step


def test_without_it_g_draws_fresh_noise() -> None:
    v = _variant("dcgan", reuse_fake=False)
    first, second = _one_step(v, 1)
    assert not torch.equal(first, second)
    assert len(_one_step(_variant("gan", arch="dcgan"), 1)) == 2  # off by default elsewhere


def test_g_gets_gradients_through_the_shared_fakes() -> None:
    v = _variant("dcgan")
    v.zero_grad()
    _one_step(v, 1)
    grads = [p.grad for p in v.generator.parameters()]
    assert all(g is not None for g in grads) and any(bool(g.abs().sum() > 0) for g in grads)


def test_g_draws_its_own_fakes_when_d_did_not_run_this_step() -> None:
    v = _variant("dcgan")
    v.step = 1
    v.discriminator_loss(Batch(x=torch.rand(6, 1, 28, 28)))
    outputs: list[torch.Tensor] = []
    hook = v.generator.register_forward_hook(lambda m, i, out: outputs.append(out))
    v.step = 2
    v.generator_loss(Batch(x=torch.rand(6, 1, 28, 28)))
    hook.remove()
    assert len(outputs) == 1  # a stale step's fakes are not reused


def test_reuse_fake_needs_one_critic_step() -> None:
    with pytest.raises(ConfigError, match="--reuse-fake needs --n-critic 1"):
        _variant("wgan-gp", reuse_fake=True)


@pytest.mark.parametrize(("reuse", "per_step"), [(True, 1), (False, 2)])
def test_the_trainer_draws_one_fake_batch_a_step(reuse: bool, per_step: int, tmp_path: Path,
                                                 tiny: dict, monkeypatch: pytest.MonkeyPatch
                                                 ) -> None:
    """Through the trainer, which freezes G's parameters in D's phase: the fakes D's phase
    draws must still carry G's graph, or G's phase draws a second batch."""
    forwards: list[int] = []
    original = Trainer.train_step

    def counted(self: Trainer, batch: Batch) -> dict:
        calls: list[int] = []
        hook = self.variant.generator.register_forward_hook(lambda *_: calls.append(1))
        try:
            return original(self, batch)
        finally:
            hook.remove()
            forwards.append(len(calls))

    monkeypatch.setattr(Trainer, "train_step", counted)
    ganforge.train("dcgan", steps=3, out=tmp_path / "run", quiet=True, reuse_fake=reuse, **tiny)
    assert forwards == [per_step] * 3
