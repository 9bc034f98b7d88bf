# OMS — two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PACKAGES := common contracts services/orders services/payments services/notifications services/exports services/documents gateway tools/oms_cli
STAMP := $(VENV)/.installed
PROJECT_FILES := requirements.lock $(addsuffix /pyproject.toml,$(PACKAGES))

.PHONY: install browser run lint test test-unit test-services test-browser test-faults test-faults-simulated bench clean

install: $(STAMP)

$(STAMP): $(PROJECT_FILES)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation $(addprefix -e ,$(PACKAGES))
	@touch $(STAMP)

run: install
	$(PY) tools/run.py

# The browser tests run in their own pytest process: Playwright needs plain asyncio,
# while the service tests monkey-patch everything for eventlet. The fault suite runs in every
# `make test` in its simulation mode: only this suite's own broker and database connections are
# cut, so nothing that others on the machine use is restarted. Each pytest process shuffles the
# test order and prints its seed; PYTEST_ARGS="--randomly-seed=N" repeats an order.
test: lint test-services test-browser test-faults-simulated

# Style and types, configured in the root pyproject.toml: ruff's lint rules and its formatting, and
# mypy over the contracts, the shared machinery and the domain modules.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The tests that need neither RabbitMQ nor PostgreSQL (domain rules, schemas, rendering, parsing),
# in seconds; unreachable broker and database addresses prove they need neither.
test-unit: install
	OMS_TEST_UNIT=1 OMS_TEST_AMQP_URI=amqp://guest:guest@127.0.0.1:1/ \
	OMS_TEST_PG_ADMIN_URL=postgresql://postgres@127.0.0.1:1/postgres \
	$(PY) -m pytest tests --ignore=tests/browser --ignore=tests/faults $(PYTEST_ARGS)

test-services: install
	$(PY) -m pytest tests --ignore=tests/browser --ignore=tests/faults $(PYTEST_ARGS)

test-browser: install browser
	$(PY) -m pytest --confcutdir=tests/browser tests/browser $(PYTEST_ARGS)

browser:
	@tools/ensure_chromium.sh

# Two replicas of every service under load while connections drop, SMTP is down, processes are
# killed and PostgreSQL and RabbitMQ restart for real (about 2 minutes).
test-faults: install
	OMS_FAULT_SUITE=1 $(PY) -m pytest tests/faults -s --timeout 900 $(PYTEST_ARGS)

test-faults-simulated: install
	OMS_FAULT_SUITE=1 OMS_FAULT_SIMULATE_RESTARTS=1 $(PY) -m pytest tests/faults -s --timeout 900 $(PYTEST_ARGS)

bench: install
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) var
