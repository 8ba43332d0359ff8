# Every target installs what is missing first, so a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
# The CPU build of torch that lies on this machine's disk; the package itself accepts any torch>=2.1.
TORCH_PIN ?= torch==2.13.0
SHARED_MNIST := $(wildcard ../shared/data/mnist)
MNIST_ENV := $(if $(GENLAB_MNIST_DIR),,$(if $(SHARED_MNIST),GENLAB_MNIST_DIR=$(abspath $(SHARED_MNIST))))

.PHONY: install demo test bench figures clean

install: $(VENV)/.installed

# With the launchers and optuna extras (tests/test_launchers.py runs sweeps through them) and
# scikit-learn (tests/test_estimator_api.py checks the models with its clone and GridSearchCV) and
# tensorboard, mlflow and wandb (tests/test_loggers.py reads back what those loggers wrote).
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) $(TORCH_PIN)
	$(PIP) -e '.[test,launchers,optuna,sklearn,tensorboard,mlflow,wandb]'
	touch $@

$(VENV)/.bench-installed: $(VENV)/.installed
	$(PIP) -e '.[test,bench]'
	touch $@

# The main job, on embedded (generated) data.
demo: $(VENV)/.installed
	$(VENV)/bin/genlab model=wgan data=moons

# pytest exits 5 when it collected no test (e.g. a -k that matches nothing): say so, do not fail.
# One pytest-xdist worker per core, one torch thread each (their runs in subprocesses too): the
# tests are small single-threaded runs, so this halves the suite's time on 2 cores.
# PYTEST_ARGS="-n 0" runs it in one process.
test: $(VENV)/.installed
	@OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(PY) -m pytest -q -n auto $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$status

# Density models against scikit-learn/scipy (a few minutes), the new sample metrics against
# prdc and torchmetrics (a minute), then GAN/WGAN runs with
# time budgets and the loop against a bare torch loop (about 25 minutes), then the
# Parzen protocol's cost and the VAE and GAN on MNIST, 10 minutes of training each (about
# 40 minutes), then RealNVP on the toy sets and MNIST (about 35 minutes). Run it alone.
# MNIST: GENLAB_MNIST_DIR, else ../shared/data/mnist where it exists, else genlab's cache.
bench: $(VENV)/.bench-installed
	$(PY) tests/bench/run.py
	OMP_NUM_THREADS=1 $(PY) tests/bench/sample_metrics.py
	$(PY) tests/bench/adversarial.py
	$(MNIST_ENV) $(PY) tests/bench/parzen.py
	$(MNIST_ENV) $(PY) tests/bench/images.py
	$(MNIST_ENV) $(PY) tests/bench/flow.py

# The lecture gallery: every figure remade by its own genlab command into outputs/lecture/,
# with outputs/lecture/index.md stating each command (about 6 minutes here, two figures at a
# time on 2 cores; run it alone).
figures: $(VENV)/.installed
	$(PY) -m genlab.lecture.gallery

clean:
	rm -rf $(VENV) build *.egg-info
