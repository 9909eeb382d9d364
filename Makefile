# One entry point for what people and CI run.
#   make        set up (model, release build, engram on PATH) and run a real ingest + query
#   make test   everything CI checks: fmt, clippy, model, all tests, benches compile

SHELL := /bin/bash
export ENGRAM_DATA_DIR ?= $(HOME)/.local/share/engram
export ENGRAM_MODEL_DIR ?= $(ENGRAM_DATA_DIR)/model

.PHONY: all setup demo test lint model bench bench-vs-st
all: setup demo

setup:
	./setup.sh

demo:
	target/release/engram ingest --file docs/examples/memories.jsonl
	target/release/engram query "How do validators keep storage nodes honest?" --top-k 3
	target/release/engram status

model:
	scripts/fetch-model.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	@if cargo tree -p engram-core -e normal | grep -E 'tokio|axum|hyper|qdrant'; then \
		echo "engram-core must stay pure (no I/O or async dependencies)"; exit 1; fi

test: lint model
	cargo test --workspace
	# the portable kernels (CPUs without AVX-512) must pass the same fidelity cases
	ENGRAM_PORTABLE_KERNELS=1 cargo test -p engram-embed
	cargo build --workspace --benches

bench:
	cargo bench --workspace

# Engram against sentence-transformers on this machine (installs torch in a throwaway venv)
bench-vs-st:
	scripts/bench-embed-vs-st.sh
