"""Training-failure monitor: NaN/Inf, a discriminator that wins outright, mode collapse."""

from ganforge.monitor.config import MonitorConfig
from ganforge.monitor.events import KINDS, FailureEvent
from ganforge.monitor.monitor import FailureMonitor

__all__ = ["KINDS", "FailureEvent", "FailureMonitor", "MonitorConfig"]
