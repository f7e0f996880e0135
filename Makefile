# Set-up, demo and tests. `make demo` and `make test` work on a fresh clone, offline except for
# the package registries.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch first, pinned: here it resolves to the local CPU wheel, and with it installed the
# package's own `torch>=2.1` is already satisfied, so pip never pulls a CUDA build.
TORCH_SPEC ?= torch==2.13.0
SHARED_DATA := $(abspath ../shared/data)
export GANFORGE_DATA ?= $(SHARED_DATA)
DEMO_EPOCHS ?= 2

.PHONY: setup demo test lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q $(TORCH_SPEC)
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

demo: setup
	@run=runs/demo-$$(date +%Y%m%d-%H%M%S); \
	$(BIN)/ganforge train dcgan --data mnist --epochs $(DEMO_EPOCHS) --out $$run && \
	$(BIN)/ganforge sample $$run --n 64 --out $$run/grid.png && \
	echo "Demo run: $$run (samples/, loss_curve.png, grid.png)"

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check src tests benchmarks scripts

bench: setup
	$(BIN)/python benchmarks/throughput.py

clean:
	rm -rf $(VENV) runs .pytest_cache
