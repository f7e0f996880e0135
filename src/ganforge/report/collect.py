"""What a report shows, read from a run folder: config, environment, log, pictures, events and
evaluation records. Everything is checked here, so a damaged folder is one line naming the file."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from ganforge.errors import GanforgeError, RunError
from ganforge.monitor import FailureEvent
from ganforge.train.run import RunDir

#: Where evaluation records are looked for: `ganforge eval RUN` writes evals/, and a
#: `--json eval*.json` saved by hand into the run folder is read too.
EVAL_GLOBS = ("evals/*.json", "eval*.json")
_FRAME_NAME = re.compile(r"^(step|epoch)_(\d+)$")


@dataclass(frozen=True)
class Frame:
    """One sample grid or preview figure of the run, as PNG bytes."""

    label: str  # "step 200", "epoch 3 (step 1200)"
    step: int
    png: bytes


@dataclass
class RunContents:
    """Everything the report draws, read and checked."""

    root: Path
    config: dict[str, Any]
    meta: dict[str, Any]
    records: list[dict[str, Any]]  # loss records of log.jsonl, in step order
    events: list[FailureEvent]
    frames: list[Frame]
    evals: list[tuple[str, dict[str, Any]]]  # (file name, record of `ganforge eval --json`)
    figure_caption: str = ""
    extra_pictures: dict[str, bytes] = field(default_factory=dict)  # title -> PNG


def read_png(path: Path) -> bytes:
    """The bytes of a PNG that decodes; anything else is a one-line error naming the file."""
    try:
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise RunError(f"'{path}' is not a PNG image ({image.format}); the run folder "
                               "is damaged")
            image.load()
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as exc:
        raise RunError(f"'{path}' is not a readable PNG image ({type(exc).__name__}); the run "
                       "folder is damaged") from None
    return data


def _frame_step(path: Path, epoch_ends: dict[int, int]) -> tuple[int, str] | None:
    """(step, label) of samples/step_N.png or samples/epoch_E.png; None for other files."""
    match = _FRAME_NAME.match(path.stem)
    if match is None:
        return None
    kind, n = match.group(1), int(match.group(2))
    if kind == "step":
        return n, f"step {n}"
    step = epoch_ends.get(n, -1)
    return step, f"epoch {n}" + (f" (step {step})" if step >= 0 else "")


def read_frames(run: RunDir, records: list[dict[str, Any]]) -> list[Frame]:
    """The run's sample grids in training order."""
    epoch_ends: dict[int, int] = {}
    for r in records:
        if isinstance(r.get("epoch"), int):
            epoch_ends[r["epoch"]] = max(epoch_ends.get(r["epoch"], 0), r["step"])
    found = []
    for path in sorted(run.samples.glob("*.png")) if run.samples.is_dir() else []:
        where = _frame_step(path, epoch_ends)
        if where is not None:
            found.append((where[0], path.name, where[1], path))
    # at the same step the step picture was drawn first, the epoch's at the epoch's end
    found.sort(key=lambda f: (f[0], f[1].startswith("epoch"), f[1]))
    return [Frame(label, step, read_png(path)) for step, _, label, path in found]


def read_evals(root: Path) -> list[tuple[str, dict[str, Any]]]:
    """Evaluation records saved in the run folder, oldest first (by their date)."""
    out = []
    for pattern in EVAL_GLOBS:
        for path in sorted(root.glob(pattern)):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError, RecursionError):
                raise RunError(f"'{path}' is not valid JSON; the run folder is damaged") from None
            if not isinstance(record, dict) or not isinstance(record.get("results"), list):
                raise RunError(f"'{path}' is not an evaluation record (written by ganforge eval "
                               "--json): it has no list of results")
            out.append((str(path.relative_to(root)), record))
    return sorted(out, key=lambda e: str(e[1].get("provenance", {}).get("date", "")))


def read_events(records: list[dict[str, Any]]) -> list[FailureEvent]:
    """The monitor's (and rollback's) events of the log."""
    events = []
    for r in records:
        event = r.get("event")
        if isinstance(event, dict):
            try:
                events.append(FailureEvent.from_dict(event))
            except (KeyError, TypeError, ValueError):
                continue  # a foreign or torn record: the log reader skips those too
    return events


def figure_caption(variant: str) -> str:
    """What the columns of a held-out preview figure are (translation runs), else ''."""
    from ganforge.variants import VARIANTS

    try:
        cls = VARIANTS.get(variant)
    except GanforgeError:  # an unknown variant was refused by run.config() already
        return ""
    if getattr(cls, "preview_source", "noise") != "held_out":
        return ""
    doc = (cls.preview.__doc__ or "").strip().splitlines()
    return doc[0] if doc else ""


def collect(path: str | Path, config: dict[str, Any] | None = None) -> RunContents:
    """Read and check everything a report of the run at `path` shows (`config`: the resolved
    options when the caller holds them, as the trainer does; else config.yaml, checked)."""
    run = RunDir.open(path)
    if config is None:
        config = run.config().to_dict()
    meta = run.meta()
    log = run.read_log()
    records = [r for r in log if "event" not in r]
    extra = {}
    for title, name in (("evolution", "evolution.png"),):
        if (run.root / name).is_file():
            extra[title] = read_png(run.root / name)
    return RunContents(run.root, config, meta, records, read_events(log),
                       read_frames(run, records), read_evals(run.root),
                       figure_caption(str(config.get("variant"))), extra)
