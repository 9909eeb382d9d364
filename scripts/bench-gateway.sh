#!/usr/bin/env bash
# The gateway's request costs (scripts/bench_gateway.py) on the debug build `make test` made:
# a real gateway, anvil and the official x402 client, installed by the test scripts if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(scripts/python-env.sh)
scripts/anvil.sh >/dev/null
[ -x target/debug/engram ] || { echo "build first: make test (or cargo build)" >&2; exit 1; }
cp target/debug/deps/lib_engram.so python/engram/_engram.abi3.so
ENGRAM_BIN="$PWD/target/debug/engram" "$py" scripts/bench_gateway.py
