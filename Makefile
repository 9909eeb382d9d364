# One entry point for what people and CI run.
#   make        set up (model, release build, engram on PATH) and run a real ingest + query
#   make test   everything CI checks: fmt, clippy -D warnings, model, all tests, benches compile,
#               the web app's JavaScript tests (Node) and browser tests (Playwright driving
#               Debian's chromium), the Python package (ruff, mypy, pytest); installs
#               tesseract, chromium and arlocal when missing (scripts/test-tools.sh)
#
# Build budget: `make test` compiles the dependency tree exactly once. Clippy does not get a
# check build of its own (that alone was 17 minutes of qdrant-edge on a 2-core machine):
# clippy-driver is the rustc of the workspace's own crates during the one test build
# (RUSTC_WORKSPACE_WRAPPER, the mechanism `cargo clippy` itself uses), so its lints and
# `-D warnings` apply to every target, benches included, while dependencies are compiled
# once by plain rustc. Every cargo call below selects the whole workspace, so features unify
# the same way each time; benches compile in the test profile and run (`make bench`) in
# release, which shares its artifacts with the release binary `make` builds.

SHELL := /bin/bash
CLIPPY_DRIVER := $(shell rustc --print sysroot)/bin/clippy-driver
WITH_CLIPPY := RUSTC_WORKSPACE_WRAPPER=$(CLIPPY_DRIVER) \
	CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__

.PHONY: all setup demo test lint model bench bench-vs-st bench-node-wrk bench-gateway bench-retrieval python-test bench-python
all: setup demo

setup:
	./setup.sh

# A fresh data directory: the model lives in the user's model location, not in a store.
demo:
	$(eval DEMO_DIR := $(shell mktemp -d))
	target/release/engram --data-dir $(DEMO_DIR) ingest --file docs/examples/memories.jsonl
	target/release/engram --data-dir $(DEMO_DIR) query "How do validators keep storage nodes honest?" --top-k 3
	target/release/engram --data-dir $(DEMO_DIR) status
	rm -rf $(DEMO_DIR)

model:
	scripts/fetch-model.sh

# Stand-alone lint, as a developer runs it (a check build of its own).
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	scripts/check-core-pure.sh

test: model
	cargo fmt --all -- --check
	scripts/check-core-pure.sh
	scripts/test-tools.sh
	scripts/web-js-test.sh
	scripts/lint-docker.sh
	$(WITH_CLIPPY) cargo test --workspace --all-targets --no-run
	$(WITH_CLIPPY) cargo test --workspace
	scripts/python-test.sh

# The Python package alone (ruff, mypy, pytest) on the extension the test build made.
python-test:
	scripts/python-test.sh

# engram.embed against sentence-transformers in one Python process; wheel size, import, memory
bench-python:
	scripts/bench-python.sh

bench:
	cargo bench --workspace

# Engram against sentence-transformers on this machine (installs torch in a throwaway venv)
bench-vs-st:
	scripts/bench-embed-vs-st.sh

bench-node-wrk:
	scripts/bench-node-wrk.sh

# nDCG@10 / recall@100 of dense, keyword and hybrid search on Cranfield (ENGRAM_BEIR_DIR: any BEIR folder)
bench-retrieval:
	cargo bench --workspace --bench retrieval

# The cloud-mining gateway against a local chain: 402, paid 201, miner serving (ratios to /health)
bench-gateway:
	scripts/bench-gateway.sh
