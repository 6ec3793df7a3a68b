# The two front-door commands (see README): `make demo` and `make test`.
# Both create .venv on first use; nothing else needs to be installed by hand.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED ?= ../shared
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

.PHONY: install demo test bench
install: $(STAMP)

# Build the reference store from the official files in ../shared/refdata, then run reclaim on examples/.
demo: $(STAMP)
	bash scripts/demo.sh

# The whole test suite (needs ../shared beside the checkout; services are started by scripts/test-services.sh).
test: $(STAMP)
	bash scripts/test.sh

bench: $(STAMP)
	bash scripts/bench.sh
