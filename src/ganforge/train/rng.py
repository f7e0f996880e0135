"""Seeding and capturing every random number generator, for bitwise-resumable runs.

Snapshots hold only tensors and plain numbers, so a checkpoint loads with
`torch.load(weights_only=True)`: python's `random.getstate()` tuple and numpy's legacy state are
converted to int64 tensors and back (MT19937 words are below 2**32, so int64 holds them exactly).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def encode_python(state: tuple[Any, ...]) -> dict[str, Any]:
    """`random.getstate()` -> {version, state (int64 tensor), gauss}."""
    version, words, gauss = state
    return {"version": int(version), "state": torch.tensor(words, dtype=torch.int64),
            "gauss": None if gauss is None else float(gauss)}


def decode_python(state: dict[str, Any]) -> tuple[Any, ...]:
    """Inverse of `encode_python`."""
    words = state["state"]
    if not isinstance(words, torch.Tensor) or words.dtype != torch.int64 or words.dim() != 1:
        raise ValueError("python RNG state must be a 1-D int64 tensor")
    gauss = state["gauss"]
    return int(state["version"]), tuple(words.tolist()), None if gauss is None else float(gauss)


def encode_numpy(state: Any) -> dict[str, Any]:
    """`np.random.get_state()` -> {kind, keys (int64 tensor), pos, has_gauss, cached_gaussian}."""
    kind, keys, pos, has_gauss, cached = state
    return {"kind": str(kind), "keys": torch.from_numpy(np.asarray(keys).astype(np.int64)),
            "pos": int(pos), "has_gauss": int(has_gauss), "cached_gaussian": float(cached)}


def decode_numpy(state: dict[str, Any]) -> tuple[Any, ...]:
    """Inverse of `encode_numpy`."""
    keys = state["keys"]
    if not isinstance(keys, torch.Tensor) or keys.dtype != torch.int64 or keys.dim() != 1:
        raise ValueError("numpy RNG keys must be a 1-D int64 tensor")
    words = keys.numpy()
    if words.size and (words.min() < 0 or words.max() >= 2**32):
        raise ValueError("numpy RNG keys must be 32-bit words")
    return (str(state["kind"]), words.astype(np.uint32), int(state["pos"]),
            int(state["has_gauss"]), float(state["cached_gaussian"]))


def rng_state() -> dict[str, Any]:
    """Snapshot of python, numpy, torch CPU and CUDA generator states (tensors and numbers)."""
    state: dict[str, Any] = {
        "python": encode_python(random.getstate()),
        "numpy": encode_numpy(np.random.get_state()),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore a snapshot taken by `rng_state`; a malformed one raises ValueError, TypeError or
    RuntimeError."""
    python, numpy_state = decode_python(state["python"]), decode_numpy(state["numpy"])
    random.setstate(python)
    np.random.set_state(numpy_state)
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
