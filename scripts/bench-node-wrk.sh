#!/usr/bin/env bash
# The node under an external load generator: installs Debian's `wrk` when it is missing
# (idempotent; needs root or sudo), then runs `cargo bench --bench node` in its wrk mode.
# `ENGRAM_BENCH_SECS` (per cell, default 10) and `ENGRAM_BENCH_N` (stored vectors) pass through.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get install -y wrk >/dev/null || {
        $sudo apt-get update >/dev/null && $sudo apt-get install -y wrk >/dev/null
    }
fi
ENGRAM_BENCH_WRK=1 ENGRAM_BENCH_SECS="${ENGRAM_BENCH_SECS:-10}" \
    cargo bench --workspace --bench node
