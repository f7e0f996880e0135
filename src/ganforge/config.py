"""The training configuration: one typed dataclass whose field names are the CLI flags' names.

`--batch-size 64` on the command line, `batch_size: 64` (or `batch-size: 64`) in a YAML file.
A preset (gan, dcgan, wgan, …) fills in the papers' defaults; flags and files override it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from ganforge.errors import ConfigError


def _opt(default: Any, help: str, **meta: Any) -> Any:
    return field(default=default, metadata={"help": help, **meta})


@dataclass
class TrainConfig:
    """Everything that defines a training run; saved as config.yaml in the run folder."""

    model: str = _opt("dcgan", "model preset (see `ganforge list`)", cli=False)
    variant: str = _opt("unconditional", "variant implementing the game (set by the preset)")
    data: str = _opt("mnist", "dataset name or folder:PATH (see `ganforge list`)")
    data_dir: str | None = _opt(None, "folder holding datasets (else $GANFORGE_DATA, the cache)")
    arch: str = _opt("auto", "networks: mlp, dcgan, infogan (the InfoGAN paper's 28x28 nets), "
                     "or auto (dcgan for images, mlp for points)")
    loss: str = _opt("nonsaturating", "adversarial loss (see `ganforge list`)")
    epochs: int | None = _opt(5, "number of passes over the data")
    steps: int | None = _opt(None, "number of training steps (batches); overrides --epochs")
    batch_size: int = _opt(64, "examples per batch")
    optimizer: str = _opt("adam", "adam or rmsprop (one optimiser per network)")
    lr_g: float = _opt(2e-4, "generator learning rate")
    lr_d: float = _opt(2e-4, "discriminator learning rate (TTUR: set it apart from --lr-g)")
    beta1: float = _opt(0.5, "Adam beta1")
    beta2: float = _opt(0.999, "Adam beta2")
    n_critic: int = _opt(1, "discriminator steps per generator step (k in Algorithm 1)")
    clip: float = _opt(0.0, "WGAN weight clipping c (0 = off)")
    gp_weight: float = _opt(0.0, "WGAN-GP gradient penalty lambda (0 = off)")
    latent_dim: int = _opt(100, "size of the noise vector z")
    image_size: int | None = _opt(None, "image side in pixels (28, 32, 64; default: the data's)")
    channels: int | None = _opt(None, "1 (gray) or 3 (RGB); default: the data's")
    width: int = _opt(64, "base channel count of the conv nets (DCGAN's ngf/ndf)")
    hidden: int = _opt(256, "smallest hidden width of the MLP nets (layers: h, 2h, 4h)")
    d_norm: str = _opt("batch", "normalisation in D: batch, layer or none")
    ema: float = _opt(0.0, "decay of an exponential moving average of G (0 = off, e.g. 0.999)")
    seed: int = _opt(0, "random seed (data order, init, noise)")
    device: str = _opt("auto", "auto, cpu, cuda or mps")
    out: str | None = _opt(None, "run folder (default runs/<model>-<data>-<time>)")
    log_every: int = _opt(100, "print a log line every N batches")
    sample_every: int = _opt(0, "save a sample grid / picture every N steps "
                             "(0: each epoch; 20 frames a run for points)")
    checkpoint_every: int = _opt(500, "write a checkpoint every N steps (and at each epoch end)")
    monitor_every: int = _opt(200, "check the samples for mode collapse every N steps (0 = off)")
    on_failure: str = _opt("warn", "what a detected failure does: warn, stop, or rollback (on "
                           "NaN/Inf: back to the last checkpoint with both learning rates halved)")
    max_rollbacks: int = _opt(3, "--on-failure rollback: rollbacks allowed before training stops")
    grid_size: int = _opt(64, "number of images in the sample grids")
    # ----- tricks: options that compose with every variant (see ganforge.tricks) -----
    label_smoothing: float = _opt(
        1.0, "D's target for real data: one-sided label smoothing, 0.9 (Salimans et al.); 1 = off")
    instance_noise: float = _opt(
        0.0, "std of Gaussian noise on D's inputs, real and fake (Sønderby et al.); 0 = off")
    instance_noise_steps: int = _opt(
        5000, "steps over which --instance-noise anneals linearly to 0")
    feature_matching: bool = _opt(
        False, "G matches the mean of D's last hidden layer (Salimans et al.)")
    minibatch_disc: bool = _opt(False, "minibatch discrimination layer in D (Salimans et al.)")
    minibatch_stddev: bool = _opt(
        False, "minibatch standard deviation feature in D (Karras et al.)")
    historical_avg: float = _opt(
        0.0, "weight of the historical-averaging penalty on D and G (Salimans et al.); 0 = off")
    vbn: bool = _opt(False, "virtual batch normalisation in G, reference batch fixed at start")
    spectral_norm: bool = _opt(False, "spectral normalisation on D's layers (Miyato et al.)")
    diffaugment: str = _opt(
        "", "DiffAugment policies before D, e.g. color,translation,cutout (Zhao et al.)")
    # ----- InfoGAN (Chen et al. 2016) -----
    n_cat: int = _opt(10, "infogan: values of the categorical code (0 = none)")
    n_cont: int = _opt(2, "infogan: number of continuous codes, each U(-1, 1)")
    info_lambda: float = _opt(1.0, "infogan: weight lambda of the mutual-information term")

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (YAML-friendly)."""
        return dataclasses.asdict(self)

    def save(self, path: Path) -> None:
        """Write the resolved config as YAML."""
        path.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))


FIELD_NAMES = tuple(f.name for f in fields(TrainConfig))


def normalise_keys(values: dict[str, Any], where: str) -> dict[str, Any]:
    """Map `batch-size` to `batch_size`, refusing unknown keys with the list of valid ones."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = str(key).replace("-", "_")
        if name not in FIELD_NAMES:
            valid = ", ".join(n.replace("_", "-") for n in FIELD_NAMES)
            raise ConfigError(f"unknown option '{key}' in {where}; valid options: {valid}")
        out[name] = value
    return out


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file whose keys are the flags' names."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file '{p}' does not exist; pass --config FILE.yaml")
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        at = f" (line {line + 1})" if line is not None else ""
        raise ConfigError(f"config file '{p}' is not valid YAML{at}; fix its syntax") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file '{p}' must be a mapping of option: value")
    return normalise_keys(data, f"config file '{p}'")


def validate(cfg: TrainConfig) -> TrainConfig:
    """Check values a user can get wrong; raise a one-line ConfigError naming the fix."""
    positive = {"batch_size": "--batch-size", "latent_dim": "--latent-dim", "width": "--width",
                "hidden": "--hidden", "n_critic": "--n-critic", "log_every": "--log-every",
                "grid_size": "--grid-size"}
    for name, flag in positive.items():
        if getattr(cfg, name) <= 0:
            raise ConfigError(f"{flag} must be a positive integer, got {getattr(cfg, name)}")
    for name in ("epochs", "steps"):
        value = getattr(cfg, name)
        if value is not None and value <= 0:
            raise ConfigError(f"--{name} must be a positive integer, got {value}")
    for name in ("lr_g", "lr_d"):
        if getattr(cfg, name) <= 0:
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"{flag} must be positive, got {getattr(cfg, name)}")
    if not 0.0 <= cfg.ema < 1.0:
        raise ConfigError(f"--ema must be in [0, 1), got {cfg.ema}")
    _check_choice("--on-failure", cfg.on_failure, ("warn", "stop", "rollback"))
    if cfg.max_rollbacks < 0:
        raise ConfigError(f"--max-rollbacks must be >= 0, got {cfg.max_rollbacks}")
    _check_choice("--optimizer", cfg.optimizer, ("adam", "rmsprop"))
    _check_choice("--device", cfg.device, ("auto", "cpu", "cuda", "mps"))
    _check_choice("--arch", cfg.arch, ("auto", "mlp", "dcgan", "infogan"))
    _check_choice("--d-norm", cfg.d_norm, ("batch", "layer", "none"))
    if cfg.channels is not None and cfg.channels not in (1, 3):
        raise ConfigError(f"--channels must be 1 or 3, got {cfg.channels}")
    if cfg.image_size is not None and cfg.image_size <= 0:
        raise ConfigError(f"--image-size must be positive, got {cfg.image_size}")
    _validate_tricks(cfg)
    return cfg


def _validate_tricks(cfg: TrainConfig) -> None:
    """The trick and InfoGAN options."""
    if not 0.0 < cfg.label_smoothing <= 1.0:
        raise ConfigError(f"--label-smoothing is D's real target, in (0, 1] (e.g. 0.9), "
                          f"got {cfg.label_smoothing}")
    if cfg.label_smoothing != 1.0 and cfg.loss == "wasserstein":
        raise ConfigError("--label-smoothing has no meaning for the wasserstein loss (no "
                          "targets); drop it or use --loss nonsaturating")
    for name in ("instance_noise", "historical_avg", "info_lambda"):
        if getattr(cfg, name) < 0:
            raise ConfigError(f"--{name.replace('_', '-')} must be >= 0, got {getattr(cfg, name)}")
    if cfg.instance_noise_steps <= 0:
        raise ConfigError(f"--instance-noise-steps must be a positive integer, "
                          f"got {cfg.instance_noise_steps}")
    if cfg.n_cat < 0 or cfg.n_cont < 0 or cfg.n_cat == 1:
        raise ConfigError(f"--n-cat must be 0 or >= 2 and --n-cont >= 0, got {cfg.n_cat}, "
                          f"{cfg.n_cont}")
    if cfg.variant == "infogan" and cfg.n_cat + cfg.n_cont == 0:
        raise ConfigError("infogan needs at least one latent code; set --n-cat 10 or --n-cont 2")
    from ganforge.tricks.diffaugment import parse_policy

    parse_policy(cfg.diffaugment)


def _check_choice(flag: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise ConfigError(f"unknown {flag} value '{value}'; choose from: {', '.join(valid)}")
