#!/usr/bin/env bash
# Engram's embedder against sentence-transformers on PyTorch and against ONNX Runtime (the
# model exported locally to ONNX from the same weights), CPU only, same sentences, same
# machine, same run. Not part of CI: it installs torch (~6 GB with PyPI's wheel) and
# onnxruntime into a throwaway virtual environment, removed at exit.
#
#   scripts/bench-embed-vs-st.sh            # 2,000 sentences
#   ENGRAM_BENCH_TEXTS=3000 scripts/bench-embed-vs-st.sh
#   ENGRAM_ST_VENV=/tmp/st scripts/bench-embed-vs-st.sh   # keep and reuse the venv
#
# Prints the CPU model, texts/s at batch 1, 8, 32 and 128 for all three, the ratios
# against the targets (vs sentence-transformers: >= 2 at batch 1, >= 1.5 at batch 32) and
# against ONNX Runtime, single-text p50/p99, memory, load time and kernel efficiency, and
# checks fidelity: cosine >= 0.9999 with each reference for every text. Exit 1 if fidelity
# fails.
set -euo pipefail
cd "$(dirname "$0")/.."

N="${ENGRAM_BENCH_TEXTS:-2000}"
work=$(mktemp -d)
venv="${ENGRAM_ST_VENV:-$work/venv}"
trap 'rm -rf "$work"' EXIT

./scripts/fetch-model.sh >/dev/null
MODEL_DIR="${ENGRAM_MODEL_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/engram/model}"

if [ ! -x "$venv/bin/python" ]; then
  echo "reference: creating a virtual environment at $venv"
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import sentence_transformers, onnxruntime, onnx' 2>/dev/null; then
  echo "reference: installing sentence-transformers with CPU torch"
  # The CPU-only wheel index when it is reachable, else PyPI's wheel (it runs on the CPU too).
  "$venv/bin/pip" install --quiet --timeout 10 --retries 0 torch \
      --index-url https://download.pytorch.org/whl/cpu 2>/dev/null \
    || "$venv/bin/pip" install --quiet torch
  "$venv/bin/pip" install --quiet sentence-transformers numpy onnxruntime onnx
fi

echo "reference: sentence-transformers on $N sentences"
CUDA_VISIBLE_DEVICES="" HF_HUB_OFFLINE=1 "$venv/bin/python" scripts/st_reference.py \
  --model "$MODEL_DIR" --sentences crates/engram-bench/data/sentences.txt \
  --n "$N" --out "$work/ref" >/dev/null

echo "reference: ONNX Runtime on $N sentences"
HF_HUB_OFFLINE=1 "$venv/bin/python" scripts/ort_reference.py \
  --model "$MODEL_DIR" --sentences crates/engram-bench/data/sentences.txt \
  --n "$N" --out "$work/ref" >/dev/null

echo "engram: the same $N sentences"
ENGRAM_BENCH_TEXTS="$N" ENGRAM_BENCH_REFERENCE="$work/ref" \
  cargo bench --quiet --workspace --bench embed
