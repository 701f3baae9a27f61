# Every target creates .venv itself when it is missing or out of date, so that on a fresh
# clone `make demo` and `make test` do all the set-up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEPLOY_STAMP := $(VENV)/.deploy-installed
# make demo installs only requirements-demo.txt (seconds) and runs from src/.
DEMO_STAMP := $(VENV)/.demo-installed

.PHONY: test test-fast lint demo package bench oracle clean deploy invoke screenshots

$(STAMP): pyproject.toml requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests tools
	$(BIN)/ruff format --check src tests tools

test: lint
	$(BIN)/python -m pytest

# The inner loop: everything but the tests marked slow (the simulated day, the FC package).
test-fast: lint
	$(BIN)/python -m pytest -m "not slow"

$(DEMO_STAMP): requirements.txt requirements-demo.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-demo.txt
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	PYTHONPATH=src $(BIN)/python -m shipper_alert_dev.demo

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache

# Needs FC's Python 3.10 to compile the bytecode: FC_PYTHON, python3.10 on PATH or pyenv's.
package: $(STAMP)
	$(BIN)/python tools/package.py

# make bench: the full run (a few minutes); make bench BENCH_ARGS=--quick for a short one.
bench: $(STAMP)
	$(BIN)/python tools/bench.py $(BENCH_ARGS)

# The long oracle: simulated days of timer checks against a model of SLS, both modes.
oracle: $(STAMP)
	$(BIN)/python tools/oracle.py --seeds 3

# docs/email-900.png and docs/email-390.png, the README's "How to read an alert"; needs chromium.
screenshots: $(STAMP)
	$(BIN)/python tools/screenshots.py

# make deploy / make invoke: FC_ENDPOINT (or FC_ACCOUNT_ID + FC_REGION), the deployer's
# ALIBABA_CLOUD_ACCESS_KEY_* and FC_ROLE_ARN; see README "Deployment" and tools/fc.py.
$(DEPLOY_STAMP): $(STAMP) requirements-deploy.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-deploy.txt
	touch $(DEPLOY_STAMP)

deploy: package $(DEPLOY_STAMP)
	$(BIN)/python tools/fc.py deploy

# EVENT='{"from": "...", "to": "..."}' make invoke; the default {"dryRun": true} sends nothing.
invoke: $(DEPLOY_STAMP)
	$(BIN)/python tools/fc.py invoke
