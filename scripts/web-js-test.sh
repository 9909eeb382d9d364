#!/usr/bin/env bash
# The web app's JavaScript unit tests, run by Node.js (which scripts/test-tools.sh brings
# for arlocal): verify.js against the CID and Merkle conformance vectors, keys.js against
# the sr25519 and encryption vectors and, through the Python venv's bittensor-wallet,
# against an independent schnorrkel. The same modules are exercised in a real browser by
# python/tests/test_web.py.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/python-env.sh >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for m in crates/engram-web/web/*.js; do
    # Syntax of every module the pages load (as .mjs: Node 18 has no default-type flag).
    cp "$m" "$tmp/$(basename "$m" .js).mjs"
    node --check "$tmp/$(basename "$m" .js).mjs"
done
for t in crates/engram-web/web/tests/*.test.mjs; do
    echo "node $t" >&2
    node "$t"
done
