"""The shared training configuration: one typed dataclass whose field names are the CLI flags'
names, plus the variant's own typed options (`TrainConfig.options`, declared by each variant).

`--batch-size 64` on the command line, `batch_size: 64` (or `batch-size: 64`) in a YAML file.
A preset (gan, dcgan, wgan, …) fills in the papers' defaults; flags and files override it.
Building a config from user values (and which variant options exist) is `ganforge.configure`.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from ganforge.errors import ConfigError
from ganforge.options import check_dataclass, flag
from ganforge.options import opt as _opt

LR_POLICIES = ("constant", "linear")


@dataclass
class TrainConfig:
    """Everything that defines a training run; saved as config.yaml in the run folder."""

    model: str = _opt("dcgan", "model preset (see `ganforge list`)", cli=False)
    variant: str = _opt("unconditional", "variant implementing the game (set by the preset)")
    data: str = _opt("mnist", "dataset name or folder:PATH (see `ganforge list`)")
    data_dir: str | None = _opt(None, "folder holding datasets (else $GANFORGE_DATA, the cache)")
    direction: str = _opt("AtoB", "translation data: which side is the input (facades labels -> "
                          "photo is BtoA)", choices=("AtoB", "BtoA"))
    arch: str = _opt("auto", "networks: mlp, dcgan, infogan (the InfoGAN paper's 28x28 nets), "
                     "or auto (dcgan for images, mlp for points)",
                     choices=("auto", "mlp", "dcgan", "infogan"))
    loss: str = _opt("nonsaturating", "adversarial loss (see `ganforge list`)")
    epochs: int | None = _opt(5, "number of passes over the data", ge=1)
    steps: int | None = _opt(None, "number of training steps (batches); overrides --epochs",
                              ge=1)
    batch_size: int = _opt(64, "examples per batch", ge=1)
    optimizer: str = _opt("adam", "adam or rmsprop (one optimiser per network)",
                          choices=("adam", "rmsprop"))
    lr_g: float = _opt(2e-4, "generator learning rate", gt=0)
    lr_d: float = _opt(2e-4, "discriminator learning rate (TTUR: set it apart from --lr-g)",
                       gt=0)
    beta1: float = _opt(0.5, "Adam beta1", ge=0, lt=1)
    beta2: float = _opt(0.999, "Adam beta2", ge=0, lt=1)
    lr_policy: str = _opt("constant", "learning-rate schedule: constant, or linear (constant until "
                          "--lr-decay-start, then linearly to 0)", choices=LR_POLICIES)
    lr_decay_start: float = _opt(0.5, "linear policy: the share of the run's steps after which the "
                                 "learning rates decay", ge=0, lt=1)
    n_critic: int = _opt(1, "discriminator steps per generator step (k in Algorithm 1)", ge=1)
    clip: float = _opt(0.0, "WGAN weight clipping c (0 = off)", ge=0)
    gp_weight: float = _opt(0.0, "WGAN-GP gradient penalty lambda (0 = off)", ge=0)
    latent_dim: int = _opt(100, "size of the noise vector z", ge=1)
    image_size: int | None = _opt(None, "image side in pixels (28, 32, 64, 128, 256; default: "
                                  "the data's)", ge=1)
    channels: int | None = _opt(None, "1 (gray) or 3 (RGB); default: the data's")
    width: int = _opt(64, "base channel count of the conv nets (DCGAN's ngf/ndf)", ge=1)
    hidden: int = _opt(256, "smallest hidden width of the MLP nets (layers: h, 2h, 4h)", ge=1)
    mlp_depth: int = _opt(0, "MLP nets with this many hidden layers, all --hidden wide (the toy "
                          "papers' nets); 0: three, h, 2h, 4h", ge=0)
    g_norm: str = _opt("auto", "BatchNorm in the MLP generator: auto (for images, not for "
                       "points), batch or none", choices=("auto", "batch", "none"))
    d_norm: str = _opt("batch", "normalisation in D: batch, layer or none",
                       choices=("batch", "layer", "none"))
    init: str = _opt("dcgan", "weight initialisation: dcgan (N(0, 0.02), Radford et al.) or "
                     "default (PyTorch's own, which the 2-D toy presets use)",
                     choices=("dcgan", "default"))
    ema: float = _opt(0.0, "decay of an exponential moving average of G (0 = off, e.g. 0.999)",
                      ge=0, lt=1)
    seed: int = _opt(0, "random seed (data order, init, noise)")
    device: str = _opt("auto", "auto, cpu, cuda or mps", choices=("auto", "cpu", "cuda", "mps"))
    precision: str = _opt("auto", "float type of the forward passes: auto (bf16 where the device "
                          "runs it natively: CUDA capability >= 8.0, a CPU with AMX or "
                          "AVX512-BF16; else fp32), fp32, bf16, or fp16 (CUDA)",
                          choices=("auto", "fp32", "bf16", "fp16"))
    channels_last: str = _opt("auto", "channels-last (NHWC) memory format of conv networks: on, "
                              "off, or auto (on for conv nets without InstanceNorm on a CPU "
                              "or CUDA GPU)",
                              choices=("auto", "on", "off"))
    compile: bool = _opt(False, "torch.compile the networks (slow first steps; where it cannot "
                         "compile, one line says so and training stays eager)")
    threads: int = _opt(0, "torch threads; 0: $OMP_NUM_THREADS if set, else one per physical "
                        "core this process may use", ge=0)
    sync_bn: bool = _opt(False, "several processes (torchrun): BatchNorm statistics over the "
                         "global batch (SyncBatchNorm) instead of each process's share")
    out: str | None = _opt(None, "run folder (default runs/<model>-<data>-<time>)")
    log_every: int = _opt(100, "print a log line every N batches", ge=1)
    sample_every: int = _opt(0, "save a sample grid / picture every N steps "
                             "(0: each epoch; 20 frames a run for points)", ge=0)
    checkpoint_every: int = _opt(500, "write a checkpoint every N steps (and at each epoch end)",
                                 ge=1)
    snapshot_every: int = _opt(0, "also keep the exported weights every N steps in "
                               "snapshots/step_N/ (for curves over training; 0 = off)", ge=0)
    monitor_every: int = _opt(200, "check the samples for mode collapse every N steps (0 = off)",
                              ge=0)
    on_failure: str = _opt("warn", "what a detected failure does: warn, stop, or rollback (on "
                           "NaN/Inf: back to the last checkpoint with both learning rates halved)",
                           choices=("warn", "stop", "rollback"))
    max_rollbacks: int = _opt(3, "--on-failure rollback: rollbacks allowed before training stops",
                              ge=0)
    grid_size: int = _opt(64, "number of images in the sample grids", ge=1)
    tensorboard: bool = _opt(False, "also write TensorBoard event files into RUN/tensorboard/ "
                             "(losses, D outputs, learning rates, images/s, samples, monitor "
                             "events; needs the tensorboard extra)")
    # ----- tricks: options that compose with every variant (see ganforge.tricks) -----
    label_smoothing: float = _opt(
        1.0, "D's target for real data: one-sided label smoothing, 0.9 (Salimans et al.); 1 = off",
        gt=0, le=1)
    instance_noise: float = _opt(
        0.0, "std of Gaussian noise on D's inputs, real and fake (Sønderby et al.); 0 = off", ge=0)
    instance_noise_steps: int = _opt(
        5000, "steps over which --instance-noise anneals linearly to 0", ge=1)
    feature_matching: bool = _opt(
        False, "G matches the mean of D's last hidden layer (Salimans et al.)")
    minibatch_disc: bool = _opt(False, "minibatch discrimination layer in D (Salimans et al.)")
    minibatch_stddev: bool = _opt(
        False, "minibatch standard deviation feature in D (Karras et al.)")
    historical_avg: float = _opt(
        0.0, "weight of the historical-averaging penalty on D and G (Salimans et al.); 0 = off",
        ge=0)
    vbn: bool = _opt(False, "virtual batch normalisation in G, reference batch fixed at start")
    spectral_norm: bool = _opt(False, "spectral normalisation on D's layers (Miyato et al.)")
    diffaugment: str = _opt(
        "", "DiffAugment policies before D, e.g. color,translation,cutout (Zhao et al.)")
    pack: int = _opt(1, "PacGAN: D judges packs of this many samples, all real or all fake, "
                     "concatenated (Lin et al.); 1 = off", ge=1)
    unroll: int = _opt(0, "unrolled GAN: G's loss through this many look-ahead steps of D "
                       "(Metz et al.); 0 = off", ge=0)
    # ----- the variant's own options (an instance of its Options dataclass, or None) -----
    options: Any = _opt(None, "the variant's own typed options", cli=False)

    def to_dict(self) -> dict[str, Any]:
        """A plain, flat dict (YAML-friendly): the shared options, then the variant's own."""
        shared = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "options"}
        own = dataclasses.asdict(self.options) if self.options is not None else {}
        return {**shared, **own}

    def save(self, path: Path) -> None:
        """Write the resolved config as YAML."""
        path.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))


FIELD_NAMES = tuple(f.name for f in fields(TrainConfig) if f.name != "options")
#: The tricks (ganforge.tricks): options of the GAN variants that use the shared D/G plumbing.
TRICK_OPTIONS = ("label_smoothing", "instance_noise", "feature_matching", "minibatch_disc",
                 "minibatch_stddev", "historical_avg", "vbn", "spectral_norm", "diffaugment",
                 "pack", "unroll")


def parse_yaml(text: str) -> tuple[Any, str | None]:
    """(data, None), or (None, where it failed) for text that is not YAML safe_load can build:
    bad syntax, nesting too deep, a number past Python's digit limit. safe_load runs no code."""
    try:
        return yaml.safe_load(text), None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        return None, f" (line {line + 1})" if line is not None else ""


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file whose keys are the flags' names (checked by the caller, who
    knows the model and so its own options)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file '{p}' does not exist; pass --config FILE.yaml")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"config file '{p}' is not UTF-8 text; save it as UTF-8 YAML") from None
    except OSError as exc:
        raise ConfigError(f"config file '{p}' cannot be read ({exc.strerror}); check its "
                          "permissions") from None
    data, at = parse_yaml(text)
    if at is not None:
        raise ConfigError(f"config file '{p}' is not valid YAML{at}; fix its syntax")
    data = data or {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file '{p}' must be a mapping of option: value")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def validate(cfg: TrainConfig) -> TrainConfig:
    """Hold every option to its type and range, then the rules that join several options;
    raise a one-line ConfigError naming the fix."""
    check_dataclass(cfg)
    if cfg.options is not None:
        check_dataclass(cfg.options)
        check = getattr(cfg.options, "check", None)
        if check is not None:
            check()
    if cfg.channels is not None and cfg.channels not in (1, 3):
        raise ConfigError(f"--channels must be 1 or 3, got {cfg.channels}")
    if cfg.label_smoothing != 1.0 and cfg.loss == "wasserstein":
        raise ConfigError("--label-smoothing has no meaning for the wasserstein loss (no "
                          "targets); drop it or use --loss nonsaturating")
    if cfg.batch_size % cfg.pack:
        raise ConfigError(f"--batch-size {cfg.batch_size} is not a multiple of --pack {cfg.pack}; "
                          "D judges whole packs: pick a batch size divisible by the pack size")
    if cfg.tensorboard and importlib.util.find_spec("tensorboard") is None:
        raise ConfigError("--tensorboard needs the tensorboard package: pip install "
                          "'ganforge[tensorboard]' (or pip install tensorboard)")
    if cfg.compile and (cfg.gp_weight > 0 or cfg.unroll > 0):
        raise ConfigError("--compile cannot differentiate twice, which --gp-weight and --unroll "
                          "need; drop --compile or the option")
    from ganforge.tricks.diffaugment import parse_policy

    parse_policy(cfg.diffaugment)
    return cfg


def check_choice(option: str, value: str, valid: tuple[str, ...]) -> None:
    """One-line error for a value outside `valid`."""
    if value not in valid:
        raise ConfigError(f"unknown {flag(option)} value '{value}'; choose from: "
                          f"{', '.join(valid)}")
