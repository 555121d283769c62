VENV ?= .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed

.PHONY: install system-deps demo test lint format typecheck bench bench-batch bench-settle bench-api bench-pages clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv
	$(UV) pip install --quiet --python $(PY) -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Debian packages the tests need: Chromium for the browser tests (driven by Playwright by
# its executable path; no browser download) with its Chinese UI (chromium-l10n: file
# pickers and date fields in Chinese), a CJK font so pages and PDFs show Chinese,
# Pango for WeasyPrint's PDFs, and poppler-utils (pdftoppm, pdftotext, pdffonts) to check them.
# Installed when missing, as root; otherwise named, and the run stops.
SYSTEM_PACKAGES := chromium chromium-l10n fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 poppler-utils
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing Debian packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "missing Debian packages:$$missing (run make test as root, or apt-get install them)" >&2; \
			exit 1; \
		fi; \
	fi

# yibao demo settles the demo claims with explanations, then starts the platform on a
# fresh ./var/demo.db (the settled table comes from the same command: --no-settle skips it).
demo: $(STAMP)
	$(VENV)/bin/yibao demo

# The suite runs on SQLite, then on PostgreSQL (127.0.0.1:5432) when it answers; with
# CI=true PostgreSQL is required. Each run creates its own database. Pytest's exit 5
# ("no tests collected") is a failure, said out loud.
PG_PING := $(PY) -c "import psycopg; psycopg.connect('host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3').close()"
PYTEST_RUN = $(VENV)/bin/pytest $(PYTEST_ARGS) || { rc=$$?; [ $$rc -eq 5 ] && echo "pytest collected no tests" >&2; exit $$rc; }

test: $(STAMP) system-deps
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	YIBAO_TEST_DB=sqlite $(PYTEST_RUN)
	@if $(PG_PING) 2>/dev/null; then \
		echo "YIBAO_TEST_DB=postgres pytest"; \
		export YIBAO_TEST_DB=postgres; $(PYTEST_RUN); \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL does not answer on 127.0.0.1:5432 and CI=true: failing" >&2; exit 1; \
	else \
		echo "PostgreSQL does not answer on 127.0.0.1:5432: PostgreSQL run skipped (required when CI=true)" >&2; \
	fi

# lint-imports checks the layers and the forbidden imports of [tool.importlinter] in
# pyproject.toml (docs/architecture.md).
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) bench/engine.py

# a synthetic year (about a million claims) settled by the scalar engine (a sample), the
# columnar engine in-process (Parquet in, Parquet out) and on a 2-worker Dask LocalCluster
bench-batch: $(STAMP)
	$(PY) bench/batch.py

# whole-process `yibao settle` against a plain Decimal implementation of the contract
bench-settle: $(STAMP)
	cd bench && ../$(PY) settle_cli.py

# the settle API over HTTP against PostgreSQL on 127.0.0.1:5432, with pgbench in the same run
bench-api: $(STAMP)
	$(PY) bench/settle_api.py

# the main pages over HTTP against PostgreSQL with 100,000 filings, 500,000 settlements and
# 100,000 reimbursement claims, with pgbench -S in the same run
bench-pages: $(STAMP)
	$(PY) bench/pages.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
