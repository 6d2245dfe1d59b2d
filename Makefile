# Vigil: `make run` starts everything on this machine; `make test` proves it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Each app seeds its own demo data with an idempotent command; `demo` prints the logins.
DEMO_COMMANDS := demo demo_escalation demo_statuspage demo_postmortems demo_integrations
# make test runs against real PostgreSQL and Redis; these are this machine's defaults.
TEST_ENV = DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/vigil} \
           REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/15}

.PHONY: install install-dev run test lint security deps-audit chaos format bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(BIN)/.installed-dev: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed
install-dev: $(BIN)/.installed-dev

run: install
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	@for command in $(DEMO_COMMANDS); do $(BIN)/python manage.py $$command || exit 1; done
	@echo
	@echo "  Vigil is starting on http://127.0.0.1:$(PORT)/"
	@echo "  API: http://127.0.0.1:$(PORT)/api/v1/   docs: http://127.0.0.1:$(PORT)/api/docs/"
	@echo "  Admin: http://127.0.0.1:$(PORT)/admin/   (Ctrl-C stops web, worker and beat)"
	@echo
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.dev -p $(PORT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Bandit's ten accepted findings are in bandit-baseline.json (README "Security" says why);
# a new one fails the build.
SOURCES := config incidents escalation postmortems statuspage integrations audit
security: install-dev deps-audit
	$(BIN)/bandit -q -c pyproject.toml -r $(SOURCES) -b bandit-baseline.json

deps-audit: install-dev
	$(BIN)/python scripts/audit_dependencies.py

# Fault tests only: each starts its own PostgreSQL (never the shared one) and breaks it.
# They are quick, so `make test` runs them too.
chaos: install-dev
	$(TEST_ENV) $(BIN)/pytest -m chaos $(PYTEST_ARGS)

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint security
	$(TEST_ENV) $(BIN)/python manage.py check --fail-level WARNING
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(BIN)/pytest $(PYTEST_ARGS)

# The scenarios against a bare Django view on this machine: see README "Performance".
# BENCH_ARGS: e.g. --incidents 1000000 --duration 20, or --smoke (seconds).
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf var .pytest_cache
