# ModelWatch: `make demo` and `make test` set up everything they need on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := out/demo

.PHONY: demo test lint unit browser-deps benchmark synth lock clean

$(STAMP): requirements/dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Reports are pictures: the end-to-end tests look at them in Debian's Chromium.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium (Debian package) for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

demo: $(STAMP)
	$(BIN)/modelwatch demo-data --out $(DEMO)/data --rows 20000
	$(BIN)/modelwatch profile --spec monitoring.toml --data $(DEMO)/data/reference.csv --out $(DEMO)/baseline.json
	@echo "--- production window without drift"
	$(BIN)/modelwatch drift --spec monitoring.toml --reference $(DEMO)/baseline.json \
	  --current $(DEMO)/data/current_stable.csv --json $(DEMO)/stable/drift.json --html $(DEMO)/stable/report.html
	@echo "--- production window with drift (exit code 1 means drift: expected here)"
	-$(BIN)/modelwatch drift --spec monitoring.toml --reference $(DEMO)/baseline.json \
	  --current $(DEMO)/data/current_drifted.csv --json $(DEMO)/drifted/drift.json --html $(DEMO)/drifted/report.html
	@echo
	@echo "--- the embedded stack: a quiet day, then latency, a bad model push, data drift, concept drift"
	$(BIN)/modelwatch demo --out $(DEMO)/stack
	@echo
	@echo "Reports of the two CSV windows: $(CURDIR)/$(DEMO)/stable/report.html, $(CURDIR)/$(DEMO)/drifted/report.html"
	@echo "Start here (dashboard, every report, the alert log): $(CURDIR)/$(DEMO)/stack/index.html"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(STAMP) browser-deps lint
	$(BIN)/python -m pytest -n 2 -q

# The CloudFormation template in cdk.out, offline and without Docker (layers are built with pip).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

# The deployment's on-call address (required: alerts about the alerting path go there by email).
ALERT_EMAILS ?= oncall@example.com
synth: $(STAMP) node_modules/.installed
	JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 CDK_DISABLE_CLI_TELEMETRY=true npx --no-install cdk synth --no-notices --quiet -c alertEmails=$(ALERT_EMAILS)
	@echo "template: cdk.out/ModelWatch.template.json"

benchmark: $(STAMP)
	$(BIN)/python -m benchmarks.drift_throughput

# Re-pin requirements/dev.txt from the working venv. --all keeps setuptools, which the editable
# install builds with (a fresh venv's own setuptools is too old for this pyproject).
lock:
	{ echo "# Pinned set for development, tests and CI (Python 3.11; Lambda runs 3.12+)."; \
	  echo "# Regenerate with 'make lock'; 'make' installs exactly these."; \
	  $(BIN)/python -m pip freeze --all --exclude-editable | grep -v -E '^(pip|modelwatch)=='; } > requirements/dev.txt
	# The retrain and promote images install with --require-hashes: the training set, locked with
	# every transitive package and the hashes of its distributions for either architecture.
	# (uv in a venv of its own: the development set stays as frozen above.)
	test -x .cache/uv/bin/uv || { $(PYTHON) -m venv .cache/uv && .cache/uv/bin/pip install --quiet uv==0.13.9; }
	{ echo "# The retrain and promote images' packages, every one pinned with its distributions' hashes (the"; \
	  echo "# images install with --require-hashes). Generated from training.txt by 'make lock'; do not edit."; \
	  .cache/uv/bin/uv pip compile layers/requirements/training.txt --universal --python-version 3.12 \
	    --generate-hashes --no-header --quiet; } > layers/requirements/training.lock

clean:
	rm -rf $(VENV) .venv-evidently out .pytest_cache .hypothesis .ruff_cache cdk.out node_modules .cache
