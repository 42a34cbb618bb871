# The two quickstart commands are `make demo` (train the copy task, evaluate, draw pictures)
# and `make test` (the test suite). Both create the virtual environment on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
# A CPU build; override with e.g. `make TORCH_SPEC=torch` to take whatever pip picks.
TORCH_SPEC ?= torch==2.13.0
RUN ?= runs/demo
# The demo stops when the copy task is learned, or after this many seconds of training;
# a second `make demo` moves the first one's run aside (RUN.replaced-DATE) and starts over.
DEMO_SECONDS ?= 900

.PHONY: install test test-fast lint format demo docs docs-serve bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[dev,sweep]"
	@# Compile the fused C++ engine now (cached for later runs); if it cannot be built,
	@# ntmkit still runs on its eager path, so a failure here does not stop the install.
	-$(PY) -m ntmkit.fused
	touch $@

test: install
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not slow"

lint: install
	$(VENV)/bin/ruff check src tests benchmarks examples docs/hooks
	$(VENV)/bin/ruff format --check src tests benchmarks examples docs/hooks
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format src tests benchmarks examples docs/hooks
	$(VENV)/bin/ruff check --fix src tests benchmarks examples docs/hooks

# The documentation site (docs/, mkdocs.yml) into site/; --strict fails on any link, heading or
# API name that does not resolve. tests/test_docs.py runs every code block of its pages.
docs: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

docs-serve: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve

demo: install
	$(VENV)/bin/ntmkit train copy --out $(RUN) --overwrite --time-limit $(DEMO_SECONDS)
	$(VENV)/bin/ntmkit animate $(RUN)
	$(VENV)/bin/ntmkit report $(RUN)
	@echo "Pictures: $(RUN)/dashboard.png learning_curves.png generalisation.png paper_comparison.png animation.gif"
	@echo "Report:   $(RUN)/report.html"

clean:
	rm -rf $(VENV) runs site .pytest_cache .ruff_cache
