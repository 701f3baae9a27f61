# Every target creates .venv itself when it is missing or out of date, so that on a fresh
# clone `make demo` and `make test` do all the set-up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEPLOY_STAMP := $(VENV)/.deploy-installed

.PHONY: test lint demo package bench clean deploy invoke

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

demo: $(STAMP)
	$(BIN)/python -m shipper_alert_dev.demo

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache

package: $(STAMP)
	$(BIN)/python tools/package.py

# make bench: the full run (a few minutes); make bench BENCH_ARGS=--quick for a short one.
bench: $(STAMP)
	$(BIN)/python tools/bench.py $(BENCH_ARGS)

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
