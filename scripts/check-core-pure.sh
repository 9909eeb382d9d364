#!/usr/bin/env bash
# engram-core stays pure: no I/O, async or storage dependencies (docs/architecture.md).
set -euo pipefail
cd "$(dirname "$0")/.."
if cargo tree -p engram-core -e normal --prefix none | grep -E '^(tokio|axum|hyper|qdrant)'; then
  echo "engram-core must stay pure (no I/O or async dependencies)" >&2
  exit 1
fi
echo "engram-core: pure"
