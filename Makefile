# Two commands do everything:  `make run`  and  `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export DJANGO_SETTINGS_MODULE ?= config.settings.local

.PHONY: run test install assets lint typecheck pytest totp demo-data clean-data browser bench \
	bench-dashboard

run: install assets ## Set up and run web, worker and beat with demo data
	$(PY) manage.py run_platform

test: install assets browser lint typecheck pytest ## Every check and test
	@echo "All checks passed."

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

assets: static/dist/main.css

static/dist/main.css: node_modules/.installed static/src/main.scss static/src/app.mjs scripts/build-assets.mjs
	npm run --silent build

# Browser tests use Debian's chromium (CI installs it); elsewhere Playwright's own build.
browser:
	@if [ -z "$$PHB_CHROMIUM" ] && ! command -v chromium >/dev/null 2>&1; then \
		echo "No chromium on PATH: installing Playwright's chromium for the browser tests"; \
		$(PY) -m playwright install chromium; \
	fi

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py check --fail-level WARNING
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run

typecheck:
	$(VENV)/bin/mypy $$(ls */services.py */selectors*.py */permissions.py marketplace/[a-z]*.py \
		outcomes/[a-z]*.py outcomes/api/[a-z]*.py core/reporting/[a-z]*.py core/reporting/api/[a-z]*.py \
		2>/dev/null | grep -v -e urls -e /forms_ -e /admin.py | sort -u) \
		budgets/ledger.py budgets/allocation.py budgets/monitoring.py budgets/ras.py

# The suite runs in parallel, one worker per CPU (pytest-xdist); each worker has its own
# test database, Redis database, Celery queue, browser and live server.
# PYTEST_WORKERS=0 runs it in one process; PYTEST_ARGS adds options, e.g. --durations=30.
PYTEST_WORKERS ?= auto
PYTEST_DIST ?= load
pytest:
	DJANGO_SETTINGS_MODULE=config.settings.test $(VENV)/bin/pytest \
		-n $(PYTEST_WORKERS) --dist $(PYTEST_DIST) $(PYTEST_ARGS)

totp: ## The current two-factor code for the demo staff logins
	@$(PY) manage.py demo_totp 2>/dev/null

demo-data:
	$(PY) manage.py demo_data

clean-data: ## Delete the embedded Postgres and Redis data
	rm -rf .data

# Not part of `make test`: a million budgets take a while. BENCH_BUDGETS=10000 for a quick
# run; it uses (and empties) its own database, never the one `make run` uses.
bench: install ## Benchmark the allocation job, the spend path and the dashboard (bench/results.txt)
	$(PY) bench/ledger_bench.py
	$(PY) bench/dashboard_bench.py

# The dashboard alone: BENCH_BUDGETS=20000 BENCH_ENTRIES=400000 for a quick run.
bench-dashboard: install ## Benchmark the snapshot refresh and the dashboard page
	$(PY) bench/dashboard_bench.py
