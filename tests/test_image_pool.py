"""ImagePool (Shrivastava et al. 2017, CycleGAN): fill, swap with probability 0.5, checkpoints."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

from ganforge.errors import ConfigError
from ganforge.tricks.image_pool import ImagePool


def constant_images(values: list[float] | range) -> torch.Tensor:
    """(N, 2, 3, 3) images, image i filled with values[i]: each one is recognisable by value."""
    return torch.tensor([float(v) for v in values])[:, None, None, None].expand(-1, 2, 3, 3).clone()


def ids(images: torch.Tensor) -> list[int]:
    """The value each constant image was filled with."""
    return [int(v) for v in images[:, 0, 0, 0]]


def test_fills_first_and_returns_the_inputs() -> None:
    pool = ImagePool(5)
    first = constant_images(range(3))
    assert torch.equal(pool.query(first), first)
    second = constant_images(range(3, 5))
    assert torch.equal(pool(second), second)
    assert int(pool.num_stored) == 5 and ids(pool.images) == [0, 1, 2, 3, 4]


def test_a_batch_that_overflows_stores_its_head_then_mixes() -> None:
    pool = ImagePool(4, seed=1)
    pool.query(constant_images(range(3)))
    out = pool.query(constant_images(range(10, 16)))
    assert ids(out)[0] == 10 and ids(pool.images)[3] == 10  # stored in the last free slot
    assert int(pool.num_stored) == 4


def test_swaps_half_the_time_and_replaces_the_returned_image() -> None:
    size, n = 10, 4000
    pool = ImagePool(size, seed=0)
    pool.query(constant_images(range(size)))
    swaps, slots_used = 0, set()
    for k in range(n):
        before = ids(pool.images)
        new = 1000 + k
        got = ids(pool.query(constant_images([new])))[0]
        after = ids(pool.images)
        if got == new:  # kept: the pool is untouched
            assert after == before
            continue
        swaps += 1
        slot = before.index(got)  # an image that was stored …
        slots_used.add(slot)
        assert after[slot] == new and got not in after  # … is handed out and replaced
        assert [a for i, a in enumerate(after) if i != slot] == [
            b for i, b in enumerate(before) if i != slot]
    assert abs(swaps - n / 2) < 4 * (n * 0.25) ** 0.5  # Binomial(n, 0.5): within 4 sigma
    assert slots_used == set(range(size))


def test_same_seed_same_choices_other_seed_others() -> None:
    def run(seed: int) -> list[int]:
        pool = ImagePool(8, seed=seed)
        return [i for k in range(10) for i in ids(pool.query(constant_images(range(10 * k,
                                                                                  10 * k + 10))))]

    assert run(3) == run(3)
    assert run(3) != run(4)


def fed_pool(seed: int = 5) -> ImagePool:
    pool = ImagePool(10, seed=seed)
    for k in range(3):
        pool.query(constant_images(range(100 * k, 100 * k + 7)))
    return pool


def next_outputs(pool: ImagePool) -> list[int]:
    return [i for k in range(20) for i in ids(pool.query(constant_images(range(1000 + 3 * k,
                                                                                1003 + 3 * k))))]


def test_state_dict_restores_images_count_and_random_state() -> None:
    original = fed_pool()
    fresh = ImagePool(10, seed=123)  # lazy: not allocated yet, another seed
    fresh.load_state_dict(original.state_dict())
    assert int(fresh.num_stored) == 10 and torch.equal(fresh.images, original.images)
    assert next_outputs(fresh) == next_outputs(original)


def test_checkpoint_round_trip_with_weights_only_load() -> None:
    model = nn.ModuleDict({"pool": fed_pool(), "d": nn.Linear(2, 1)})
    state = model.state_dict()
    assert {"pool.images", "pool.num_stored", "pool._extra_state"} <= set(state)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)
    restored = nn.ModuleDict({"pool": ImagePool(10, seed=0), "d": nn.Linear(2, 1)})
    restored.load_state_dict(loaded)
    pool, twin = model["pool"], restored["pool"]
    assert isinstance(pool, ImagePool) and isinstance(twin, ImagePool)
    assert next_outputs(twin) == next_outputs(pool)


def test_preallocated_pool_and_a_state_dict_of_an_unused_one() -> None:
    pool = ImagePool(4, image_shape=(2, 3, 3))
    assert pool.images.shape == (4, 2, 3, 3) and int(pool.num_stored) == 0
    unused = ImagePool(4).state_dict()
    pool.load_state_dict(unused)  # an unused pool's empty images replace the allocated ones
    assert pool.images.numel() == 0
    assert torch.equal(pool.query(constant_images(range(2))), constant_images(range(2)))
    with pytest.raises(ConfigError, match=r"holds images of shape \(2, 3, 3\)"):
        pool.query(torch.zeros(1, 3, 3, 3))


def test_size_zero_is_a_passthrough_and_outputs_are_detached() -> None:
    x = torch.randn(3, 2, 4, 4, requires_grad=True)
    off = ImagePool(0)
    y = off.query(x)
    assert torch.equal(y, x) and not y.requires_grad and off.images.numel() == 0
    assert not ImagePool(2).query(x).requires_grad
    with pytest.raises(ConfigError, match="pool size must be >= 0"):
        ImagePool(-1)
