"""StarGAN's pieces alone: target labels (hair colours exclusive, other attributes flipped,
edits), the permutation targets, the domain classification losses against hand-computed values,
the gradient penalty on D's source head only, and the networks' shapes at 64 and 128 px."""

from __future__ import annotations

import math
import re

import pytest
import torch
from torch import Tensor, nn

from ganforge.api import make_config
from ganforge.data.batch import Batch
from ganforge.data.spec import DataSpec
from ganforge.errors import ConfigError
from ganforge.losses.translation import domain_loss
from ganforge.nets.stargan import StarDiscriminator, StarGenerator, layers_for
from ganforge.variants.labels import DEFAULT_ATTRS, LabelSpace, label_space, permuted
from ganforge.variants.stargan import StarGAN

FIVE = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young")
SPACE = LabelSpace(FIVE, columns=(0, 1, 2, 3, 4))


def _t(rows: list[list[int]]) -> Tensor:
    return torch.tensor(rows, dtype=torch.float32)


# ----- labels -------------------------------------------------------------------------------


def test_figure_targets_set_hair_exclusively_and_flip_the_rest() -> None:
    c = _t([[1, 0, 0, 1, 0], [0, 0, 1, 0, 1]])  # black-haired young-not man; brown-haired woman
    cols = SPACE.column_targets(c)
    expected = [
        _t([[1, 0, 0, 1, 0], [1, 0, 0, 0, 1]]),  # black hair
        _t([[0, 1, 0, 1, 0], [0, 1, 0, 0, 1]]),  # blond hair
        _t([[0, 0, 1, 1, 0], [0, 0, 1, 0, 1]]),  # brown hair
        _t([[1, 0, 0, 0, 0], [0, 0, 1, 1, 1]]),  # male flipped
        _t([[1, 0, 0, 1, 1], [0, 0, 1, 0, 0]]),  # young flipped
    ]
    assert len(cols) == 5
    for got, want in zip(cols, expected):
        assert torch.equal(got, want)
    assert SPACE.column_names() == ["Black_Hair", "Blond_Hair", "Brown_Hair", "~Male", "~Young"]


def test_other_attribute_choices_generalise() -> None:
    space = LabelSpace(("Smiling", "Gray_Hair", "Blond_Hair"), columns=(0, 1, 2))
    assert space.exclusive == (1, 2)
    c = _t([[0, 0, 1]])
    smiling, gray, blond = space.column_targets(c)
    assert torch.equal(smiling, _t([[1, 0, 1]]))
    assert torch.equal(gray, _t([[0, 1, 0]]))
    assert torch.equal(blond, _t([[0, 0, 1]]))


def test_single_label_targets_are_one_hot_per_domain() -> None:
    space = LabelSpace(("happy", "sad", "angry"), single=True)
    cols = space.column_targets(_t([[0, 1, 0], [1, 0, 0]]))
    assert [c.argmax(1).tolist() for c in cols] == [[0, 0], [1, 1], [2, 2]]
    assert all(torch.equal(c.sum(1), torch.ones(2)) for c in cols)
    batch = Batch(x=torch.zeros(2, 3, 4, 4), y=torch.tensor([2, 0]))
    assert torch.equal(space.of_batch(batch), _t([[0, 0, 1], [1, 0, 0]]))


def test_edits_set_and_clear_with_hair_colours_exclusive() -> None:
    c = _t([[1, 0, 0, 1, 1]])
    assert torch.equal(SPACE.edit(c, SPACE.parse_edits("+Blond_Hair,-Male")), _t([[0, 1, 0, 0, 1]]))
    assert torch.equal(SPACE.edit(c, SPACE.parse_edits("-Black_Hair")), _t([[0, 0, 0, 1, 1]]))
    assert torch.equal(SPACE.edit(c, SPACE.parse_edits("+Male,-Young")), _t([[1, 0, 0, 1, 0]]))
    single = LabelSpace(("a", "b"), single=True)
    assert torch.equal(single.edit(_t([[1, 0]]), single.parse_edits("+b")), _t([[0, 1]]))


@pytest.mark.parametrize(("text", "message"), [
    ("+Blond", "unknown attribute 'Blond'; this run translates: Black_Hair, Blond_Hair"),
    ("Blond_Hair", "'Blond_Hair' must be +NAME (set) or -NAME (clear)"),
    ("+Male,", "'' must be +NAME"),
])
def test_bad_edits_are_one_line_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as e:
        SPACE.parse_edits(text)
    assert "\n" not in str(e.value)


def test_permutation_targets_are_the_batchs_own_labels_reordered() -> None:
    c = torch.arange(12.0).reshape(6, 2)
    targets, perm = permuted(c, torch.Generator().manual_seed(5))
    assert sorted(perm.tolist()) == list(range(6))
    assert torch.equal(targets, c[perm])
    again, perm2 = permuted(c, torch.Generator().manual_seed(5))
    assert torch.equal(perm, perm2) and torch.equal(targets, again)
    assert not torch.equal(perm, permuted(c, torch.Generator().manual_seed(6))[1])


def test_label_space_from_the_data() -> None:
    spec = DataSpec("image", (3, 16, 16), attributes=("Bald", *FIVE, "Smiling"))
    space = label_space(spec, DEFAULT_ATTRS)
    assert space.names == FIVE and space.columns == (1, 2, 3, 4, 5)
    batch = Batch(x=torch.zeros(1, 3, 16, 16), attrs=_t([[1, 0, 1, 0, 1, 0, 1]]))
    assert torch.equal(space.of_batch(batch), _t([[0, 1, 0, 1, 0]]))
    with pytest.raises(ConfigError, match="unknown attribute 'Blue_Hair' in --attrs; choose "
                                          "from: Bald, Black_Hair"):
        label_space(spec, "Blue_Hair,Male")
    domains = DataSpec("image", (3, 16, 16), num_classes=2, domains=("a", "b"))
    assert label_space(domains, DEFAULT_ATTRS).single
    with pytest.raises(ConfigError, match="subfolders: a, b"):
        label_space(domains, "Male")
    with pytest.raises(ConfigError, match="not paired two-domain data"):
        label_space(DataSpec("image", (3, 16, 16), pairing="paired", domains=("a", "b")), "x")


# ----- losses --------------------------------------------------------------------------------


def _bce(logit: float, target: float) -> float:
    p = 1 / (1 + math.exp(-logit))
    return -(target * math.log(p) + (1 - target) * math.log(1 - p))


def test_multi_label_loss_sums_attributes_and_averages_the_batch() -> None:
    logits, target = [[0.0, 2.0, -1.0], [-1.5, 0.5, 3.0]], [[1, 0, 0], [0, 1, 1]]
    want = sum(_bce(lo, t) for row, trow in zip(logits, target)
               for lo, t in zip(row, trow)) / 2
    got = domain_loss(torch.tensor(logits), torch.tensor(target, dtype=torch.float32), False)
    assert float(got) == pytest.approx(want, rel=1e-6)


def test_single_label_loss_is_the_cross_entropy_of_the_domain() -> None:
    logits, index = [[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]], [0, 2]
    want = sum(math.log(sum(math.exp(v) for v in row)) - row[i]
               for row, i in zip(logits, index)) / 2
    one_hot = torch.nn.functional.one_hot(torch.tensor(index), 3).float()
    for target in (torch.tensor(index), one_hot):
        assert float(domain_loss(torch.tensor(logits), target, True)) == pytest.approx(want)


class LinearCritic(nn.Module):
    """D_src(x) = <w, x> per image (gradient w everywhere); D_cls far from it."""

    def __init__(self, w: Tensor, k: int) -> None:
        super().__init__()
        self.w, self.k = nn.Parameter(w), k

    def source(self, x: Tensor) -> Tensor:
        return (x * self.w).sum((1, 2, 3)).view(-1, 1, 1, 1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        cls = 50 * (x ** 2).sum((1, 2, 3))[:, None].expand(-1, self.k)
        return self.source(x), cls


def test_gradient_penalty_is_on_the_source_head() -> None:
    cfg = make_config("stargan", image_size=8, width=2, blocks=1)
    spec = DataSpec("image", (3, 8, 8), attributes=FIVE)
    variant = StarGAN(cfg, spec)
    w = torch.full((3, 8, 8), 0.1)  # ||w|| = 0.1 * sqrt(192): penalty (||w|| - 1)^2
    variant.discriminator = LinearCritic(w, 5)  # type: ignore[assignment]
    batch = Batch(x=torch.rand(4, 3, 8, 8) * 2 - 1, attrs=torch.randint(0, 2, (4, 5)).float())
    terms = variant.discriminator_loss(batch)
    assert float(terms["gp"]) == pytest.approx((0.1 * math.sqrt(192) - 1) ** 2, rel=1e-5)
    total = terms["adv"] + variant.opts.lambda_cls * terms["cls"] + 10 * terms["gp"]
    assert float(terms["loss"]) == pytest.approx(float(total), rel=1e-5)


# ----- networks ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [64, 128])
def test_shapes(size: int) -> None:
    g, d = StarGenerator(3, 5, width=4, blocks=1), StarDiscriminator(3, 5, size, width=2)
    x, c = torch.rand(2, 3, size, size) * 2 - 1, torch.rand(2, 5)
    with torch.no_grad():
        y = g(x, c)
        src, cls = d(y)
    assert y.shape == x.shape and float(y.abs().max()) <= 1
    assert src.shape == (2, 1, 2, 2) and cls.shape == (2, 5)
    assert layers_for(size) == {64: 5, 128: 6}[size]
    first = g.main[0]
    assert isinstance(first, nn.Conv2d) and first.in_channels == 3 + 5
    norms = [m for m in g.modules() if isinstance(m, nn.InstanceNorm2d)]
    assert norms and all(m.affine and not m.track_running_stats for m in norms)


def test_the_label_changes_the_output() -> None:
    torch.manual_seed(0)
    g = StarGenerator(3, 2, width=4, blocks=1)
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert not torch.allclose(g(x, _t([[1, 0]])), g(x, _t([[0, 1]])))


def test_a_size_d_cannot_fit_is_a_one_line_error() -> None:
    with pytest.raises(ConfigError, match="do not fit 48 px"):
        StarDiscriminator(3, 5, 48, width=2, layers=5)


def test_the_preset_is_the_papers() -> None:
    cfg = make_config("stargan")
    assert (cfg.loss, cfg.gp_weight, cfg.n_critic, cfg.batch_size) == ("wasserstein", 10.0, 5, 16)
    assert (cfg.lr_g, cfg.lr_d, cfg.beta1, cfg.beta2) == (1e-4, 1e-4, 0.5, 0.999)
    assert (cfg.lr_policy, cfg.lr_decay_start, cfg.image_size) == ("linear", 0.5, 128)
    assert cfg.options.lambda_cls == 1.0 and cfg.options.lambda_rec == 10.0
    assert cfg.options.attrs == DEFAULT_ATTRS and cfg.options.blocks == 6
    with pytest.raises(ConfigError, match="--label-smoothing does not apply to stargan"):
        make_config("stargan", label_smoothing=0.9)
