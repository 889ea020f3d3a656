# Puente — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: run test contract install migrate demo check schema clean stop bench bench-soak fuzz
# Without DATABASE_URL / REDIS_URL, commands run on the embedded PostgreSQL and Valkey
# (config/embedded.py): `$(WITH_SERVICES) cmd` starts what is missing and stops it afterwards.
WITH_SERVICES := $(PY) -m config.embedded run --

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): $(PY) requirements.txt requirements-dev.txt
	$(PIP) install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(WITH_SERVICES) $(PY) manage.py migrate --noinput

demo: install
	$(WITH_SERVICES) sh -c '$(PY) manage.py migrate --noinput && $(PY) manage.py seed_demo'

## run: schema, demo, then web server, Celery worker and beat; Ctrl-C stops them all.
run: install
	$(PY) -m config.run_local

## test: ruff, the import contracts (pyproject.toml), then the whole suite, on DATABASE_URL / REDIS_URL
## when set, else on embedded servers.
test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-logo
	$(WITH_SERVICES) $(PY) -m pytest --ds=config.settings.test $(PYTEST_ARGS)

## contract: the live service against its OpenAPI schema (schemathesis) and a generated client.
## Uses a database of its own next to DATABASE_URL's.
contract: install
	$(WITH_SERVICES) $(PY) -m tests.contract.run

## fuzz: the stateful access test (tests/security/) at length: many more and longer random sequences than CI's.
FUZZ_EXAMPLES ?= 300
FUZZ_STEPS ?= 50
fuzz: install
	PUENTE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) PUENTE_FUZZ_STEPS=$(FUZZ_STEPS) $(WITH_SERVICES) $(PY) -m pytest -q -p no:cacheprovider tests/security/test_stateful_access.py

## check: migrations in step; the schema generated without warnings and valid for strict validators
## (openapi-spec-validator, as openapi-core loads it; docs/api/contract.md).
check: install
	DJANGO_SETTINGS_MODULE=config.settings.test $(WITH_SERVICES) $(PY) manage.py makemigrations --check --dry-run
	@mkdir -p var
	DJANGO_SETTINGS_MODULE=config.settings.test $(WITH_SERVICES) $(PY) manage.py spectacular --validate --fail-on-warn --file var/openapi-check.yaml
	$(VENV)/bin/openapi-spec-validator var/openapi-check.yaml

schema: install
	DJANGO_SETTINGS_MODULE=config.settings.test $(WITH_SERVICES) $(PY) manage.py spectacular --validate --file var/openapi.yaml

## bench: datasets (made when missing), a load run per scale, the overdue sweep; tables in var/bench/.
## Needs PostgreSQL and Redis on loopback (BENCH_POSTGRES_URL, BENCH_REDIS_URL) and wrk (Debian).
BENCH_SCALES ?= 10k 100k
bench: install
	$(PY) -m bench.run --scales $(BENCH_SCALES) $(BENCH_ARGS)

## bench-soak: every endpoint at once from 200 clients for 10 minutes (zero errors expected).
BENCH_SOAK_CASES ?= 100000
bench-soak: install
	$(PY) -m bench.soak --cases $(BENCH_SOAK_CASES) --duration 600 --connections 200

## stop: the embedded PostgreSQL and Valkey, if a command left them running (`manage.py` does).
stop: install
	$(PY) -m config.embedded stop

clean: stop
	rm -rf var/mail var/celerybeat-schedule*
