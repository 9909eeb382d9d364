#!/usr/bin/env bash
# The Python environment `make test` uses: a venv in .venv with python/requirements-test.txt
# installed. Idempotent: it reinstalls only when the requirements file changed. Prints the
# venv's python. Needs python3 (>= 3.9) with the venv module (Debian: python3-venv).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
req=python/requirements-test.txt
stamp="$venv/.requirements.sha256"
if [ ! -x "$venv/bin/python" ]; then
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        echo "python3 -m venv failed: install python3-venv (apt-get install python3-venv)" >&2
        exit 1
    fi
fi
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
    echo "$want" > "$stamp"
fi
echo "$PWD/$venv/bin/python"
