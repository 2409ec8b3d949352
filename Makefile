# icff_kit: two commands do everything on a fresh machine.
#   make demo   set up, then run the main job on the embedded synthetic dataset
#   make test   set up, then nbdev_test (notebooks) and pytest
# Set-up is incremental: each step leaves a stamp inside what it built and is skipped while that stamp is newer
# than its inputs.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
PYTHON ?= python3
VENV := .venv
SPV := .venv-spleeter
BIN := $(VENV)/bin
export ICFF_MODELS ?= $(CURDIR)/data/models
export PIP_DISABLE_PIP_VERSION_CHECK := 1
PIP_Q := -q --no-input

.PHONY: setup setup-ray system models demo test test-slow test-browser test-ray bench reproduce lab clean-venvs help
DATASET ?= synth
PROFILE ?= smoke

help:
	@echo "make demo    set up and run the demo (synthetic dataset, smoke profile)"
	@echo "make test    set up and run nbdev_test + pytest"
	@echo "make test-browser   the explorer in JupyterLab, driven in Chromium (adds JupyterLab, Playwright, Chromium)"
	@echo "make test-ray       the data stage on a two-node Ray cluster on this machine (adds Ray)"
	@echo "make setup   only the set-up (venvs, system packages, Spleeter weights)"
	@echo "make bench   run every benchmark under bench/"
	@echo "make reproduce DATASET=synth PROFILE=smoke [ROOT=dir]   every table and figure of the paper (papermill)"
	@echo "make lab     set up, add JupyterLab to .venv, and start it (nbs/60_explore.ipynb: the explorer)"

setup: $(VENV)/.icff-ok $(SPV)/.icff-ok system models

$(VENV)/.icff-ok: requirements.txt settings.ini setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "set-up: main environment $(VENV) (torch 2.13.0 CPU, nbdev 2.4.14, ...)"
	$(BIN)/pip install $(PIP_Q) -r requirements.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
	@$(BIN)/python -c "import torch, nbdev, numpy" || { echo "set-up: $(VENV) is broken" >&2; exit 1; }
	$(BIN)/pip install $(PIP_Q) --no-deps --no-build-isolation -e . 2>&1 | { grep -v "^WARNING: Location" || true; }
	@touch $@

$(SPV)/.icff-ok: requirements-spleeter.txt
	@test -x $(SPV)/bin/python || $(PYTHON) -m venv $(SPV)
	@echo "set-up: Spleeter environment $(SPV) (spleeter 2.4.2, TensorFlow 2.12, numpy<2)"
	$(SPV)/bin/pip install $(PIP_Q) -r requirements-spleeter.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
	@$(SPV)/bin/python -c "import spleeter, soundfile" || { echo "set-up: $(SPV) is broken" >&2; exit 1; }
	@touch $@

system:
	@tools/system-deps.sh

models: $(VENV)/.icff-ok $(SPV)/.icff-ok
	@$(BIN)/icff models fetch

demo: setup
	@tools/demo.sh

test: setup
	$(BIN)/nbdev_test
	$(BIN)/pytest

# The explorer in a real browser: JupyterLab (requirements-lab.txt) and Playwright (requirements-browser.txt) in .venv,
# Debian's Chromium from apt (Playwright's own browser download is not used); screenshots in reports/out/.
$(VENV)/.icff-browser: requirements-browser.txt $(VENV)/.icff-lab
	@echo "set-up: Playwright in $(VENV)"
	$(BIN)/pip install $(PIP_Q) -r requirements-browser.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
	@touch $@

test-browser: setup $(VENV)/.icff-browser
	@tools/system-deps.sh chromium
	ICFF_BROWSER_REQUIRED=1 $(BIN)/pytest -m browser

# Ray (requirements-ray.txt) for --ray; the test starts a head and a second raylet here and stops them after.
$(VENV)/.icff-ray: requirements-ray.txt $(VENV)/.icff-ok
	@echo "set-up: Ray in $(VENV)"
	$(BIN)/pip install $(PIP_Q) -r requirements.txt -r requirements-ray.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
	@touch $@

setup-ray: setup $(VENV)/.icff-ray

test-ray: setup-ray
	$(BIN)/nbdev_test --flags ray --path nbs/02_cluster.ipynb
	ICFF_RAY_REQUIRED=1 $(BIN)/pytest -m ray

test-slow: setup
	$(BIN)/nbdev_test --flags slow
	$(BIN)/pytest -m slow

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b; rc=$$?; \
	  if [ $$rc -eq 3 ]; then echo "   (skipped: the data it measures on is not here)"; elif [ $$rc -ne 0 ]; then exit $$rc; fi; done

reproduce: setup
	$(BIN)/icff reproduce --dataset $(DATASET) --profile $(PROFILE) $(if $(ROOT),--root $(ROOT)) $(ARGS)

$(VENV)/.icff-lab: requirements-lab.txt $(VENV)/.icff-ok
	@echo "set-up: JupyterLab in $(VENV)"
	$(BIN)/pip install $(PIP_Q) -r requirements-lab.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
	@touch $@

lab: setup $(VENV)/.icff-lab
	$(BIN)/jupyter lab $(ARGS)

clean-venvs:
	rm -rf $(VENV) $(SPV)
