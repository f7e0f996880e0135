"""Training on several processes (torch.distributed, gloo on the CPU), with two processes started
by the test: a run through torchrun end to end (one writer, a loadable checkpoint, a resume that
continues bitwise), one step on two ranks of B examples against one process on the 2B batch
(with and without --sync-bn), and the variants that train so. All launches share one module
fixture: starting processes that import torch is most of the cost."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from conftest import flat_state, same_leaf
from ganforge.train.checkpoint import load_checkpoint

TESTS = Path(__file__).resolve().parent
SRC = TESTS.parent / "src"
#: The MLP nets of points: G with BatchNorm (rank-local running statistics), D without.
RING = {"data": "ring8", "hidden": 16, "latent_dim": 8, "batch_size": 16, "grid_size": 16,
        "log_every": 1000, "monitor_every": 0, "sample_every": 2, "g_norm": "batch"}
#: The one step is an SGD step (ddp_worker.one_step): Adam's first step, lr g / (|g| + eps),
#: ignores the gradient's scale (a sum in place of a mean would pass) and turns rounding into
#: large differences where g is near eps (real and fake terms cancel at init).
ONE_STEP = {**RING, "steps": 1, "lr_d": 0.1, "lr_g": 0.1}
ONE_STEP_CASES = {
    "plain": {**ONE_STEP, "g_norm": "none"},  # no BatchNorm anywhere
    "sync_bn": {**ONE_STEP, "sync_bn": True},  # G's BatchNorm over the global batch
}
#: 5 chunks a side: two rounds of two processes and a last chunk for rank 0 alone.
EVAL = ["--metrics", "fid,w1,pr", "--n", "500", "--batch-size", "100", "--features", "raw"]
TINY_IMAGES = {"width": 8, "latent_dim": 8, "batch_size": 8, "data": "mnist"}
VARIANTS = {
    "dcgan": {**TINY_IMAGES, "sync_bn": True},
    "wgan-gp": RING,
    "cgan": TINY_IMAGES,
    "acgan": TINY_IMAGES,
    "infogan": TINY_IMAGES,
    "cyclegan": {"width": 4, "data": "mnist-style", "image_size": 32, "blocks": 1,
                 "pool_size": 3, "batch_size": 2},
}


def _env() -> dict[str, str]:
    paths = [str(SRC), str(TESTS), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p),
            "OMP_NUM_THREADS": "1", "CI": "1"}


@pytest.fixture(scope="module")
def launched(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One torchrun launch of two ddp_worker.py processes: `python -m ganforge train` for 2
    steps, the run folder then, its resume to 4 steps (`--resume`), the same run stepped 4 times
    uninterrupted, the one-step cases on two ranks and alone, a SyncBatchNorm layer against
    BatchNorm, and 2 steps of every variant. Starting processes that import torch is most of
    the cost, so every check reads this one launch."""
    root = tmp_path_factory.mktemp("ddp")
    runs, cut = root / "runs", root / "runs" / "cut"
    cut_argv = ["train", "gan", *_flags({**RING, "steps": 2}), "--out", str(cut)]
    jobs = [{"name": "cut", "kind": "cli", "argv": cut_argv},
            {"name": "cut_snapshot", "kind": "snapshot", "run": str(cut)},
            {"name": "resume", "kind": "cli", "argv": ["train", "--resume", str(cut),
                                                       "--steps", "4"]},
            {"name": "full", "kind": "reference", "model": "gan", "opts": RING, "steps": 4},
            {"name": "eval", "kind": "cli", "argv": ["eval", str(cut), *EVAL, "--json",
                                                     str(runs / "eval.json")]},
            {"name": "sync_bn_layer", "kind": "sync_bn_layer"}]
    jobs += [{"name": f"one_step.{k}.{where}", "kind": "one_step", "model": "gan", "opts": v,
              "alone": where == "alone"}
             for k, v in ONE_STEP_CASES.items() for where in ("alone", "ranks")]
    jobs += [{"name": f"variant.{m}", "kind": "in_step", "model": m, "opts": o, "steps": 2}
             for m, o in VARIANTS.items()]
    spec = root / "spec.json"
    spec.write_text(json.dumps({"jobs": jobs, "watch": str(runs), "out": str(root)}))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(TESTS / "ddp_worker.py"), str(spec)]
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    ranks = [torch.load(root / f"rank{r}.pt", weights_only=True) for r in range(2)]
    return {"runs": runs, "stdout": done.stdout, "ranks": ranks,
            "results": [r["results"] for r in ranks]}


def _flags(opts: dict[str, Any]) -> list[str]:
    flags = []
    for key, value in opts.items():
        flags += [f"--{key.replace('_', '-')}", str(value)]
    return flags


def _steps(log: str) -> list[int]:
    return [json.loads(line)["step"] for line in log.splitlines() if '"event"' not in line]


def test_torchrun_run_writes_one_run_folder(launched: dict[str, Any]) -> None:
    """`python -m ganforge train` on two processes: rank 0 alone prints and writes (one log
    record per step), a checkpoint that reloads, the two processes in meta.json."""
    first = launched["results"][0]
    assert first["cut"] == 0 and launched["results"][1]["cut"] == 0
    assert launched["stdout"].count("Run folder:") == 1, launched["stdout"]
    assert "cpu x 2 processes" in launched["stdout"]
    cut = first["cut_snapshot"]
    assert {"config.yaml", "meta.json", "log.jsonl", "generator.safetensors",
            "checkpoints/last.pt", "samples/step_0000002.png"} <= set(cut["files"])
    assert _steps(cut["log"]) == [1, 2]
    assert json.loads((launched["runs"] / "cut" / "meta.json").read_text())["processes"] == 2
    state = cut["checkpoint"]
    assert state["counters"]["step"] == 2 and state["distributed"]["world_size"] == 2
    assert cut["sample"].shape == (4, 2) and torch.isfinite(cut["sample"]).all()


def test_other_ranks_write_nothing(launched: dict[str, Any]) -> None:
    """Rank 1 trained, resumed and saved without writing a file (its audit hook saw none)."""
    assert launched["ranks"][1]["writes"] == []


def test_resume_on_two_processes_is_bitwise(launched: dict[str, Any]) -> None:
    """2 steps, then `--resume … --steps 4`, end where 4 uninterrupted steps end: weights,
    optimiser states, and each rank's generators and buffers (G's BatchNorm statistics)."""
    runs = launched["runs"]
    assert _steps((runs / "cut" / "log.jsonl").read_text()) == [1, 2, 3, 4]
    cut = load_checkpoint(runs / "cut" / "checkpoints" / "last.pt")
    assert cut["counters"]["step"] == 4
    assert any("running_mean" in k for k in cut["distributed"]["ranks"][1]["variant"])
    _assert_equal(cut["variant"], launched["results"][0]["full"]["variant"])  # rank 0's
    for rank, result in enumerate(launched["results"]):
        assert result["resume"] == 0
        _assert_equal(cut["optimizers"], result["full"]["optimizers"])
        _assert_equal(cut["distributed"]["ranks"][rank], result["full"]["rank"])


def _assert_equal(a: object, b: object) -> None:
    flat_a, flat_b = flat_state(a), flat_state(b)
    assert flat_a.keys() == flat_b.keys()
    for name, value in flat_a.items():
        assert same_leaf(value, flat_b[name]), name


@pytest.mark.parametrize("case", sorted(ONE_STEP_CASES))
def test_one_step_on_two_ranks_is_one_step_on_the_global_batch(case: str,
                                                               launched: dict[str, Any]) -> None:
    """Two ranks of B examples each (DDP per network, noise of the global batch, --sync-bn)
    give the weights and gradients of one process on the 2B batch."""
    for result in launched["results"]:
        alone, got = result[f"one_step.{case}.alone"], result[f"one_step.{case}.ranks"]
        assert got.keys() == alone.keys()
        assert any(k.startswith("g.generator") for k in got) and any(
            k.startswith("g.discriminator") for k in got)
        for key, want in alone.items():
            if key.startswith("w."):
                assert (got[key] - want).abs().max() <= 1e-6, key
            else:  # float32 sums in another order (terms of real and fake cancel at init)
                tolerance = 1e-5 * want.abs().max() + 1e-7
                assert (got[key] - want).abs().max() <= tolerance, key


def test_sync_batchnorm_on_the_cpu_is_batchnorm_of_the_global_batch(
        launched: dict[str, Any]) -> None:
    for result in launched["results"]:
        diffs = result["sync_bn_layer"]
        assert set(diffs) == {"out", "x_grad", "weight_grad", "bias_grad", "running_mean",
                              "running_var"}
        for name, diff in diffs.items():
            assert diff <= 2e-5, name


@pytest.mark.parametrize("model", sorted(VARIANTS))
def test_variant_trains_on_two_processes(model: str, launched: dict[str, Any]) -> None:
    """Two steps of each variant on two ranks, its weights identical on both afterwards
    (state.gather compares them) and finite."""
    for result in launched["results"]:
        assert result[f"variant.{model}"]["step"] == 2, result[f"variant.{model}"]
        assert result[f"variant.{model}"]["finite"]


def test_eval_on_two_processes_is_eval_in_one(launched: dict[str, Any]) -> None:
    """`ganforge eval` under torchrun: the ranks share the extraction, rank 0 reports the
    values one process computes."""
    from ganforge.cli.main import main

    runs = launched["runs"]
    assert [r["eval"] for r in launched["results"]] == [0, 0]
    assert launched["stdout"].count("Wrote ") == 1
    shared = json.loads((runs / "eval.json").read_text())
    assert main(["eval", str(runs / "cut"), *EVAL, "--json", str(runs / "alone.json")]) == 0
    alone = json.loads((runs / "alone.json").read_text())
    assert shared["n_real"] == alone["n_real"] == 500
    assert [r["values"] for r in shared["results"]] == [r["values"] for r in alone["results"]]


@pytest.mark.parametrize(("opts", "message"), [
    ({"batch_size": 30}, "--batch-size 30 (the global batch) does not split evenly across 4 "
                         "processes; choose a multiple of 4"),
    ({"batch_size": 36, "pack": 2}, "across 4 processes x --pack 2; choose a multiple of 8"),
    ({"on_failure": "rollback"}, "--on-failure rollback is not available with several"),
])
def test_options_several_processes_cannot_train_with_are_one_line_errors(
        opts: dict[str, Any], message: str) -> None:
    from ganforge.api import make_config
    from ganforge.errors import ConfigError
    from ganforge.train.distributed import World, check_config

    cfg = make_config("gan", **{"data": "ring8", **opts})
    check_config(cfg, World(0, 1))  # one process: anything goes
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_config(cfg, World(0, 4))
