"""User-facing errors: the CLI prints them as one line and exits with status 2."""

from __future__ import annotations


class GanforgeError(Exception):
    """A problem with the user's input: the message names what was wrong and how to fix it."""


class ConfigError(GanforgeError):
    """An invalid option, flag, preset or config file."""


class DataError(GanforgeError):
    """A dataset that is missing, corrupt, empty or unsupported."""


class RunError(GanforgeError):
    """A run folder or checkpoint that is missing or not a ganforge run."""


def choices_error(kind: str, name: str, valid: list[str] | tuple[str, ...]) -> GanforgeError:
    """Build the standard `unknown X 'y'; choose from: a, b, c` error."""
    return ConfigError(f"unknown {kind} '{name}'; choose from: {', '.join(sorted(valid))}")


class WriteError(RunError, OSError):
    """A file of the run could not be written (disk full, read-only folder); still an OSError."""
