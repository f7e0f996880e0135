"""ganforge: generative adversarial networks for students and researchers.

    import ganforge
    run = ganforge.train("dcgan", data="mnist", steps=500, out="runs/demo")
    images = ganforge.load_run("runs/demo").sample(64)      # (64, 1, 28, 28) in [-1, 1]
"""

from ganforge._version import __version__
from ganforge.api import Run, load_run, train

__all__ = ["Run", "__version__", "load_run", "train"]
