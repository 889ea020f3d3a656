# Puente — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: run test contract install migrate demo check schema clean bench bench-soak

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): $(PY) requirements.txt requirements-dev.txt
	$(PIP) install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo

## run: web server, Celery worker and beat on this machine; Ctrl-C stops them all.
run: demo
	$(PY) -m config.run_local

## test: ruff, the import contracts (pyproject.toml), the whole suite. Services come from DATABASE_URL / REDIS_URL when set.
test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-logo
	$(PY) -m pytest $(PYTEST_ARGS)

## contract: the live service against its OpenAPI schema (schemathesis) and a generated client.
## Uses a database of its own next to DATABASE_URL's (or a temporary SQLite file).
contract: install
	$(PY) -m tests.contract.run

check: install
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

schema: install
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py spectacular --validate --file var/openapi.yaml

## bench: datasets (made when missing), a load run per scale, the overdue sweep; tables in var/bench/.
## Needs PostgreSQL and Redis on loopback (BENCH_POSTGRES_URL, BENCH_REDIS_URL) and wrk (Debian).
BENCH_SCALES ?= 10k 100k
bench: install
	$(PY) -m bench.run --scales $(BENCH_SCALES) $(BENCH_ARGS)

## bench-soak: every endpoint at once from 200 clients for 10 minutes (zero errors expected).
BENCH_SOAK_CASES ?= 100000
bench-soak: install
	$(PY) -m bench.soak --cases $(BENCH_SOAK_CASES) --duration 600 --connections 200

clean:
	rm -rf var/broker var/cache var/mail var/celerybeat-schedule*
