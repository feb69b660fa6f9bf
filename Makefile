# The two commands of the README. Both create .venv when it is missing and install
# what they need; a fresh machine needs only Python 3.11 and pip.
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed-stamp
CONFORMANCE := tests/connectors/conformance
CLIENTS := $(CONFORMANCE)/node_modules/.package-lock.json

.PHONY: demo test lint typecheck unit clean

demo: $(STAMP)
	$(VENV)/bin/steptrace demo

test: lint typecheck unit

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP) $(CLIENTS)
	$(VENV)/bin/pytest

# The conformance suite's official Node clients, pinned by its lock file, installed when
# npm is here; without Node those tests skip and name the Debian packages to install.
$(CLIENTS): $(CONFORMANCE)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix $(CONFORMANCE) --no-audit --no-fund --loglevel=error; \
	else \
	  echo "npm not found: the official-client conformance tests will be skipped"; \
	fi

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev,embedded,otel]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .steptrace .mypy_cache .pytest_cache .ruff_cache
