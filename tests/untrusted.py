"""Helpers shared by the trust tests: fuzzing settings and bookkeeping, and a malicious pickle."""

from __future__ import annotations

import io
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from PIL import Image

from ganforge.errors import GanforgeError

#: GANFORGE_FUZZ_SCALE=50 for a long hunt; CI runs the default, a few seconds.
SCALE = int(os.environ.get("GANFORGE_FUZZ_SCALE", "1"))
TRIED: Counter[str] = Counter()


def fuzz_settings(examples: int) -> settings:
    """`examples` inputs per CI run (times SCALE), no deadline, no example database."""
    return settings(max_examples=examples * SCALE, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def outcome(loader: str, call: Callable[[], object]) -> object:
    """Run one input through a loader: data, or a one-line GanforgeError (anything else fails)."""
    TRIED[loader] += 1
    try:
        return call()
    except GanforgeError as exc:
        assert "\n" not in str(exc), str(exc)
        return exc


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    """After a module: how many inputs each loader was given (run pytest with -s to see)."""
    yield
    for loader, n in sorted(TRIED.items()):
        print(f"fuzz {loader}: {n} inputs, 0 tracebacks")
    TRIED.clear()


def image_bytes(fmt: str, mode: str, size: tuple[int, int], value: int = 128) -> bytes:
    """A uniform image of `size` in `mode`, encoded as `fmt`."""
    buf = io.BytesIO()
    Image.new(mode, size, value).save(buf, format=fmt)
    return buf.getvalue()


def damaged_files(images: Sequence[bytes], extensions: Sequence[str], *, always_cut: bool,
                  changes: int, random_size: int) -> st.SearchStrategy[tuple[str, bytes]]:
    """(extension, bytes): one of `images` cut (always, or half the time) and with up to
    `changes` bytes changed, or up to `random_size` random bytes."""
    @st.composite
    def draw_file(draw: st.DrawFn) -> tuple[str, bytes]:
        if draw(st.booleans()):
            raw = bytearray(draw(st.sampled_from(images)))
            if always_cut or draw(st.booleans()):
                raw = raw[: draw(st.integers(0, len(raw)))]
            for _ in range(draw(st.integers(0, changes))):
                if raw:
                    raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
            data = bytes(raw)
        else:
            data = draw(st.binary(max_size=random_size))
        return draw(st.sampled_from(extensions)), data

    return draw_file()


class Call:
    """Pickles as a call of `fn(*args)`: what a malicious file makes the full unpickler do."""

    def __init__(self, fn: Callable[..., object], *args: object) -> None:
        self.fn, self.args = fn, args

    def __reduce__(self) -> tuple[object, ...]:
        return self.fn, self.args
