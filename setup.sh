#!/usr/bin/env bash
# One-time setup: fetch and verify the embedding model, build the release binary and put
# `engram` on PATH. Idempotent: a second run verifies and returns quickly.
set -euo pipefail
cd "$(dirname "$0")"

command -v cargo >/dev/null || { echo "setup: cargo (Rust 1.95) is needed" >&2; exit 1; }
scripts/fetch-model.sh

echo "build: cargo build --release -p engram-cli"
cargo build --release --quiet -p engram-cli

BIN_DIR="${ENGRAM_BIN_DIR:-$HOME/.cargo/bin}"
mkdir -p "$BIN_DIR"
if ! cmp -s target/release/engram "$BIN_DIR/engram" 2>/dev/null; then
  install -m 0755 target/release/engram "$BIN_DIR/engram"
fi
echo "installed: $BIN_DIR/engram"
case ":$PATH:" in
  *":$BIN_DIR:"*) ;;
  *) echo "note: add $BIN_DIR to PATH (export PATH=\"$BIN_DIR:\$PATH\")" ;;
esac
