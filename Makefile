# The two commands of the README. Both create .venv when it is missing and install
# what they need; a fresh machine needs only Python 3.11 and pip.
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit clean

demo: $(STAMP)
	$(VENV)/bin/steptrace demo

test: lint typecheck unit

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(VENV)/bin/pytest

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev,embedded,otel]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .steptrace .mypy_cache .pytest_cache .ruff_cache
