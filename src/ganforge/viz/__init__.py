"""Pictures: image grids and files, loss curves, 1-D density and 2-D toy figures, GIFs."""

from __future__ import annotations

from ganforge.viz._common import figure_to_image, numpy_d_fn
from ganforge.viz.curves import moving_average, plot_losses
from ganforge.viz.density1d import (
    DensityFilmstrip,
    make_evolution_strip,
    make_gif,
    plot_density_1d,
)
from ganforge.viz.grid import (
    load_image,
    make_grid,
    save_grid,
    save_image_grid_rows,
    save_images,
    to_uint8,
)
from ganforge.viz.toy2d import plot_toy_2d

__all__ = [
    "DensityFilmstrip",
    "figure_to_image",
    "load_image",
    "make_evolution_strip",
    "make_gif",
    "make_grid",
    "moving_average",
    "numpy_d_fn",
    "plot_density_1d",
    "plot_losses",
    "plot_toy_2d",
    "save_grid",
    "save_image_grid_rows",
    "save_images",
    "to_uint8",
]
