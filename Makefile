# correction — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
export TEST_DATABASE_URL
export FLASK_APP := wsgi

.PHONY: demo run test lint test-sqlite test-postgresql install install-dev migrate seed clean fonts chromium vendor translations bench-tools

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc

# The PDF report embeds a CJK font. Debian's fonts-wqy-microhei is installed when we can (root);
# otherwise the PDF falls back to a standard, non-embedded CID font (see docs/decisions.md).
fonts:
	@if [ ! -f $(CJK_FONT) ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing fonts-wqy-microhei for PDF reports"; \
	  (apt-get install -y -q fonts-wqy-microhei >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q fonts-wqy-microhei >/dev/null 2>&1)) || \
	  echo "could not install fonts-wqy-microhei; PDFs will use a non-embedded CJK font"; \
	fi

CHROMIUM := /usr/bin/chromium

# The console's browser tests drive Debian's Chromium (Playwright's own download is not reachable
# from closed networks). Installed when missing and we can (root), quietly; else the tests say so.
chromium:
	@if [ ! -x $(CHROMIUM) ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing chromium for the console's browser tests"; \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1)) || \
	  echo "could not install chromium; the console's browser tests will fail"; \
	fi

## vendor: fetch the pinned browser packages from npm again (console: htmx, Leaflet; app: jsQR,
## qrcode-generator) and rewrite their manifests
vendor:
	$(PYTHON) -m correction.console.vendor
	$(PYTHON) -m correction.mobile.vendor

## translations: extract the console's strings, merge them into the zh_Hans_CN catalog, compile it
## (the compiled .mo is committed; a test fails when it or a translation is missing)
CONSOLE_I18N := correction/console/translations
translations: install-dev
	$(BIN)/pybabel extract -F correction/console/babel.cfg --no-location --sort-output --omit-header \
	  -o $(CONSOLE_I18N)/messages.pot correction/console
	$(BIN)/pybabel update -i $(CONSOLE_I18N)/messages.pot -d $(CONSOLE_I18N) -l zh_Hans_CN --ignore-obsolete \
	  --ignore-pot-creation-date --no-fuzzy-matching
	$(BIN)/pybabel compile -d $(CONSOLE_I18N) -l zh_Hans_CN

# benchmarks/ingest_http.py drives the servers with wrk: Debian's wrk, installed when we can (root).
bench-tools:
	@if ! command -v wrk >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing wrk for benchmarks/ingest_http.py"; \
	  (apt-get install -y -q wrk >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q wrk >/dev/null 2>&1)) || \
	  echo "could not install wrk"; \
	fi
	@command -v wrk >/dev/null || echo "wrk is missing: run make bench-tools as root"

# A random SECRET_KEY made once for this checkout (mode 0600) and reused by every command below:
# the seeded national-ID hashes depend on it. An exported SECRET_KEY or CORRECTION_SECRET_KEY wins.
SECRET_KEY_FILE := instance/secret_key
WITH_KEY := SECRET_KEY="$${SECRET_KEY:-$$(cat $(SECRET_KEY_FILE))}"

$(SECRET_KEY_FILE):
	@mkdir -p $(dir $@)
	@umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(48))' > $@.tmp && mv $@.tmp $@
	@echo "generated $@ (the app's SECRET_KEY; keep it: the seeded data depend on it)"

install: $(VENV)/.installed fonts
install-dev: $(VENV)/.installed-dev fonts

migrate: install $(SECRET_KEY_FILE)
	$(WITH_KEY) $(BIN)/flask db upgrade

seed: migrate
	$(WITH_KEY) $(BIN)/flask seed demo --json instance/demo-logins.json

## run: install, migrate the embedded database, seed the demo if empty, serve on $(HOST):$(PORT)
## together with the scheduler (one process; stopping make stops both). Rate limits: the configured
## store, else Redis at 127.0.0.1:6379 if it answers (2 workers), else memory in 1 worker (4 threads)
run: seed
	@echo "Console: http://$(HOST):$(PORT)/   API: http://$(HOST):$(PORT)/api/v1/health   docs: http://$(HOST):$(PORT)/api/v1/docs"
	@echo "Demo logins: instance/demo-logins.json"
	export $(WITH_KEY); \
	store=$$($(BIN)/python -m correction.ratelimit); \
	case $$store in memory://*) workers=1;; *) workers=2;; esac; \
	echo "Rate limits counted in $$store; $$workers gunicorn worker(s)"; \
	export CORRECTION_RATELIMIT_STORAGE_URI=$$store; \
	$(BIN)/flask jobs run & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn -c gunicorn.conf.py --bind $(HOST):$(PORT) --workers $$workers --threads 4 --access-logfile - wsgi:app

## demo: a simulated week in the demo district, through the HTTP API, scored (see README)
demo: install
	$(BIN)/flask demo simulate --days $${DAYS:-7} --supervisees $${SUPERVISEES:-421} --seed $${SEED:-1}

## test: the layers' import contract, then the whole suite on SQLite and on PostgreSQL at $(TEST_DATABASE_URL),
## each pass spread over TEST_WORKERS pytest-xdist processes (one per core, at most 4; each has its own
## PostgreSQL database, $(TEST_DATABASE_URL)_gw0...). TEST_WORKERS=1 runs plain pytest in one process.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; echo $$n)
PYTEST := $(BIN)/python -m pytest $(if $(filter-out 0 1,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist worksteal)

test: lint test-sqlite test-postgresql

## lint: the layers (docs/design.md) as import-linter contracts (.importlinter)
lint: install-dev
	$(BIN)/lint-imports

test-sqlite: install-dev chromium
	$(PYTEST) --db sqlite

test-postgresql: install-dev chromium
	$(PYTEST) --db postgresql

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
