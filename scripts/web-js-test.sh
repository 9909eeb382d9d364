#!/usr/bin/env bash
# The web app's JavaScript unit tests, run by Node.js (which scripts/test-tools.sh brings
# for arlocal): verify.js against the CID and Merkle conformance vectors, keys.js against
# the sr25519 and encryption vectors and, through the Python venv's bittensor-wallet,
# against an independent schnorrkel. The same modules are exercised in a real browser by
# python/tests/test_web.py.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/python-env.sh >/dev/null
for m in crates/engram-node/web/*.js; do
    node --experimental-default-type=module --check "$m"
done
for t in crates/engram-node/web/tests/*.test.mjs; do
    echo "node $t" >&2
    node "$t"
done
