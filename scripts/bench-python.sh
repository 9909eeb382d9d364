#!/usr/bin/env bash
# The Python package against sentence-transformers in the same Python process: builds the
# release wheel (maturin, sharing target/ with `make`), installs it into a venv that also has
# sentence-transformers on CPU torch, and runs scripts/bench_python.py: texts/s at batch 1
# and 32 for `engram.embed` and `SentenceTransformer.encode` on the same sentences, their
# ratio (target >= 2 at both), fidelity, wheel size, import time and resident memory, with
# the CPU model. Not part of CI (torch is ~1-6 GB).
#
#   scripts/bench-python.sh
#   ENGRAM_ST_VENV=/root/st-venv scripts/bench-python.sh     # reuse a venv with torch
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
venv="${ENGRAM_ST_VENV:-$work/venv}"
trap 'rm -rf "$work"' EXIT
./scripts/fetch-model.sh >/dev/null

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import sentence_transformers' 2>/dev/null; then
  "$venv/bin/pip" install --quiet --timeout 10 --retries 0 torch \
      --index-url https://download.pytorch.org/whl/cpu 2>/dev/null \
    || "$venv/bin/pip" install --quiet torch
  "$venv/bin/pip" install --quiet sentence-transformers numpy
fi
"$venv/bin/pip" install --quiet "maturin>=1.7,<2"

echo "building the release wheel"
rm -rf target/wheels
(cd python && "$venv/bin/maturin" build --release --quiet --out ../target/wheels)
wheel=$(ls target/wheels/*.whl)
"$venv/bin/pip" install --quiet --force-reinstall --no-deps "$wheel"
"$venv/bin/python" scripts/bench_python.py --wheel "$wheel" \
  --sentences crates/engram-bench/data/sentences.txt
