#!/usr/bin/env bash
# The Python package's checks, as `make test` runs them after the workspace's test build:
# that build made the extension (crate engram-py, target/debug/deps/lib_engram.so, with the
# same profile and features as everything else: no second compile), which goes next to the
# Python sources; then ruff, mypy and pytest against real `engram serve` processes (the
# `engram` binary of the same build).
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(scripts/python-env.sh)
ext=target/debug/deps/lib_engram.so
if [ ! -f "$ext" ]; then
    echo "$ext is missing: run the test build first (make test)" >&2
    exit 1
fi
cp "$ext" python/engram/_engram.abi3.so
"$py" -m ruff check python
"$py" -m ruff format --check python
"$py" -m mypy python/engram
cd python
ENGRAM_BIN="$PWD/../target/debug/engram" PYTHONPATH="$PWD" "$py" -m pytest -q -p no:cacheprovider "$@"
