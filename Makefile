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

.PHONY: setup browser demo test lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q $(TORCH_SPEC)
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

# Chromium for the report's browser test (tests/test_report_browser.py), from the system's
# packages where apt-get is available; when it cannot be installed, set-up goes on and that
# test skips saying how to install it.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    sudo=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); \
	    { $$sudo apt-get update -q && $$sudo env DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -q --no-install-recommends chromium; } >/dev/null \
	    || echo "note: could not install chromium; the browser test will skip"; \
	  else echo "note: no apt-get here; install Chromium to run the browser test"; fi; }

setup: $(VENV)/.installed browser

demo: setup
	@run=runs/demo-$$(date +%Y%m%d-%H%M%S); \
	$(BIN)/ganforge train dcgan --data mnist --epochs $(DEMO_EPOCHS) --out $$run && \
	$(BIN)/ganforge sample $$run --n 64 --out $$run/grid.png && \
	echo "Demo run: $$run (samples/, loss_curve.png, report.html, grid.png)"

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check src tests benchmarks scripts

bench: setup
	$(BIN)/python benchmarks/throughput.py

clean:
	rm -rf $(VENV) runs .pytest_cache
