# The two README commands (`make report`, `make test`) and their idempotent set-up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HARNESS := $(VENV)/bin/harness
export TF_CPP_MIN_LOG_LEVEL := 3

.PHONY: setup report test test-nightly test-all lint format bench bench-layers train app apple-ops

setup: $(VENV)/.setup-stamp node_modules/.setup-stamp apps/web/node_modules/.setup-stamp
	@bash scripts/ensure_chromium.sh >&2
	@bash scripts/ensure_browsers.sh >&2
	@bash scripts/ensure_coreai.sh >&2
	@PY=$(PY) bash scripts/ensure_arm64.sh >&2

# Re-installs only when the pinned set or the project metadata changes.
$(VENV)/.setup-stamp: pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[all]' >&2
	@touch $@

node_modules/.setup-stamp: package.json package-lock.json
	@PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >&2
	@touch $@

# The web app's own npm set; the harness keeps the stamp (npm ci only when the lock changed).
apps/web/node_modules/.setup-stamp: apps/web/package.json apps/web/package-lock.json | $(VENV)/.setup-stamp
	@$(PY) -c "from harness.app.build import ensure_node_modules; ensure_node_modules()" >&2
	@touch $@

golden/reference/manifest.json: | $(VENV)/.setup-stamp
	$(HARNESS) train

report: setup golden/reference/manifest.json
	$(HARNESS) report

# Two workers (pytest-xdist), a test file each at a time: browsers and converters wait as much as they compute.
TEST_WORKERS ?= 2

# `make test` leaves out the tests marked nightly (pyproject.toml says which and why), to stay
# under 8 minutes here; `make test-nightly` runs just those, `make test-all` everything.
test: setup lint
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not nightly"

test-nightly: setup
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m nightly

test-all: setup lint
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(VENV)/.setup-stamp
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

# The JavaScript that ships or runs in the engines (eslint.config.mjs says how each part is read).
JS_LINT_PATHS := apps/web/src apps/web/vite.config.js runtimes/browser
.PHONY: lint-js
lint: lint-js
lint-js: node_modules/.setup-stamp
	node_modules/.bin/eslint --max-warnings 0 $(JS_LINT_PATHS)

format: $(VENV)/.setup-stamp
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: setup golden/reference/manifest.json
	@$(HARNESS) bench

bench-layers: setup golden/reference/manifest.json  # only the `compare --layers` figure of `make bench`
	@$(PY) -m harness.bench.compare_layers

# Apple's own MIL op tests (coremltools 9.0 wheel), fp16 and fp32, replayed against coreml-ref:
# 20-30 min. Writes the summary (passed / refused by op / mismatched / beyond fp16) and exits
# non-zero on any mismatch or evaluator error. `make test` runs only the fixed sample.
APPLE_OPS_SUMMARY ?= reports/apple-ops/summary.json
apple-ops: $(VENV)/.setup-stamp
	@mkdir -p $(dir $(APPLE_OPS_SUMMARY))
	$(PY) -m tests.apple_ops.replay --summary $(APPLE_OPS_SUMMARY)

app: setup golden/reference/manifest.json
	$(HARNESS) app build

train: $(VENV)/.setup-stamp
	$(HARNESS) train

.PHONY: hooks
# The commit-msg check (scripts/check_commit_msg.py: subject <= 72 characters, a blank line, a
# body that says why) into this repository's hooks; see CONTRIBUTING.md.
hooks:
	@bash scripts/install_hooks.sh
