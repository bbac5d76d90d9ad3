# Two commands for a fresh machine: `make demo` (the main job) and `make test` (all tests).
# Both build the virtual environment first (.venv, from pyproject.toml) when needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# A CPU build of PyTorch that lies on this kind of machine's disk; unpinned torch would
# download a multi-GB CUDA build.
TORCH ?= torch==2.13.0

.PHONY: demo test test-fast lint format bench bench-smoke clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[test,lint]"
	touch $@

demo: $(VENV)/.installed
	$(PY) tools/run_demo.py demo.ipynb

test: $(VENV)/.installed
	$(PY) -m pytest -q

# Unit + functional without the slow / UI / kernel-starting tests (markers: pyproject.toml).
test-fast: $(VENV)/.installed
	$(PY) -m pytest -q -m "not slow and not ui and not kernel" tests/unit tests/functional

# Style, types and the layer rule (pyproject.toml: [tool.ruff], [tool.mypy], [tool.importlinter]),
# and the lab extension's eslint.
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check jupyter_mvc tests bench tools
	$(VENV)/bin/ruff format --check jupyter_mvc tests bench tools
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	cd labextension && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" jlpm lint:check

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix jupyter_mvc tests bench tools
	$(VENV)/bin/ruff format jupyter_mvc tests bench tools

bench: $(VENV)/.installed
	$(PY) -m bench

bench-smoke: $(VENV)/.installed
	$(PY) -m bench --smoke

clean:
	rm -rf $(VENV) build dist *.egg-info
