# Restorer — two commands for a fresh Debian/Ubuntu machine with Python 3.11.
#   make run   create .venv, install the app, open the GUI on the bundled damaged sample
#   make test  create .venv with the dev, train and cluster extras, run the whole suite offscreen

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
SAMPLE := resources/samples/damaged_portrait.jpg
SAMPLE_MASK := resources/samples/damaged_portrait_mask.png

.PHONY: run test lint bench clean strace nsis dist

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.app-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,train,cluster]"
	touch $@ $(VENV)/.app-installed

run: $(VENV)/.app-installed
	$(BIN)/restorer-gui $(SAMPLE) --mask $(SAMPLE_MASK)

test: $(VENV)/.dev-installed strace nsis
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q
	$(BIN)/lint-imports

# The installers: the CPU variant's portable tarball and .deb in dist/ (packaging/README.md).
# CUDA: $(PYTHON) packaging/build.py cuda
dist:
	$(PYTHON) packaging/build.py cpu

# tests/test_no_network.py records every socket with strace; where it cannot be installed
# (not root, no apt), those checks are skipped with a reason.
strace:
	@command -v strace >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace >/dev/null 2>&1 \
		     || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace >/dev/null 2>&1; }; }; } \
		|| echo "strace is not available: the no-network socket checks will be skipped"

# tests/test_packaging.py compiles the Windows installer script with NSIS's makensis (Debian
# package nsis); without it the script is only checked against the build.
nsis:
	@command -v makensis >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nsis >/dev/null 2>&1 \
		     || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nsis >/dev/null 2>&1; }; }; } \
		|| echo "makensis is not available: the Windows installer script will not be compiled"

bench: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/fill_latency.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
