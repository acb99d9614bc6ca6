# correction — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
export TEST_DATABASE_URL
export FLASK_APP := wsgi

.PHONY: run test test-sqlite test-postgresql install install-dev migrate seed clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed demo --json instance/demo-logins.json

## run: install, migrate the embedded database, seed the demo if empty, serve on $(HOST):$(PORT)
## together with the scheduler (one process; stopping make stops both)
run: seed
	@echo "API:  http://$(HOST):$(PORT)/api/v1/health   docs: http://$(HOST):$(PORT)/api/v1/docs"
	@echo "Demo logins: instance/demo-logins.json"
	$(BIN)/flask jobs run & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers 2 --access-logfile - wsgi:app

## test: the whole suite on SQLite, then on PostgreSQL at $(TEST_DATABASE_URL)
test: test-sqlite test-postgresql

test-sqlite: install-dev
	$(BIN)/python -m pytest --db sqlite

test-postgresql: install-dev
	$(BIN)/python -m pytest --db postgresql

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
