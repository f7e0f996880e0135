"""`python -m ganforge …`, the form torchrun starts: torchrun --nproc_per_node=N -m ganforge
train MODEL …"""

from __future__ import annotations

import sys

from ganforge.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
