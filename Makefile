# Cairn — the two commands a new user needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
LOCAL_PACKAGES := libs/contracts libs/servicekit deploy/local \
	services/clients services/invoicing services/payments services/notifications \
	services/documents services/scheduling services/portal-gateway
STAMP  := $(VENV)/.installed
SERVICES := clients.service:ClientsService invoicing.service:InvoicingService \
	payments.service:PaymentsService notifications.service:NotificationsService \
	documents.service:DocumentsService scheduling.service:SchedulingService

.PHONY: run test test-services test-across test-browser test-slow bench load install services-up dlq dlq-replay migrate rabbitmq-definitions reconcile statements clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-test.txt constraints.txt $(addsuffix /pyproject.toml,$(LOCAL_PACKAGES))
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Cairn needs Python 3.11 or newer")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip==25.3
	$(PIP) install -q -c constraints.txt -r requirements-test.txt $(addprefix -e ,$(LOCAL_PACKAGES))
	$(PIP) check
	touch $(STAMP)

services-up:
	@bash deploy/local/ensure-services.sh

run: install
	@$(PY) deploy/local/run.py

# Compare a day's Stripe objects with Cairn's (DAY=YYYY-MM-DD or today; yesterday
# by default) against the running services; REPAIR=1 replays Stripe's objects.
reconcile: install
	@$(PY) -m payments.reconcile_cli $(if $(DAY),--day $(DAY)) $(if $(REPAIR),--repair)

# Statements for a period over the whole clinic (PERIOD=2026-11, or START=… END=…;
# last month by default) in the running services, with a progress bar and a
# summary. Run it again to resume after a crash: nobody gets a statement twice.
statements: install
	@$(PY) -m invoicing.statements_cli $(if $(PERIOD),--period $(PERIOD)) $(if $(START),--start $(START)) $(if $(END),--end $(END))

migrate: install
	$(PY) -m servicekit.migrate clients invoicing payments notifications documents scheduling

# Playwright hangs under eventlet: browser folders run in their own pytest
# processes, each stopping conftest lookup at its own folder.
BROWSER_PYTEST := $(PY) -m pytest -p no:pytest_nameko -p no:pytest_eventlet -q

# The default suite in three processes at once — each service's own tests,
# the cross-service tests, the browser tests — each printed whole when it
# ends. Every test has its own databases, vhost and var/ directory, and most
# of a test's time is spent waiting on the broker, PostgreSQL or a page.
test: install services-up
	@test -x /usr/bin/chromium || { echo "Browser tests need Chromium: sudo apt-get install chromium"; exit 1; }
	$(MAKE) --no-print-directory -j3 --output-sync=target test-services test-across test-browser

test-services: install services-up
	$(PY) -m pytest -m "not slow" -q libs services deploy/local/tests

test-across: install services-up
	$(PY) -m pytest -m "not slow" -q tests

test-browser: install services-up
	$(BROWSER_PYTEST) --confcutdir=deploy/local/tests/browser deploy/local/tests/browser
	$(BROWSER_PYTEST) --confcutdir=tests/browser tests/browser

test-slow: install services-up
	$(PY) -m pytest -m slow -q

bench: install services-up
	$(PY) bench/run.py $(BENCH_ARGS)

# Page load with Locust (its own gevent process) against the whole stack, next
# to bare nameko floors of the same run; report in bench/reports/load-<date>.md.
load: install services-up
	$(PY) bench/load/run.py $(LOAD_ARGS)

dlq: install
	@$(PY) -m servicekit.deadletters $(SERVICES) --action list

dlq-replay: install
	@$(PY) -m servicekit.deadletters $(SERVICES) --action replay --queue $(QUEUE)

rabbitmq-definitions: install
	CAIRN_EVENT_RETRY_DELAYS_MS=1000,5000,30000,120000 $(PY) -m servicekit.topology --definitions \
		$(SERVICES) > deploy/rabbitmq/definitions.json

clean:
	rm -rf var
