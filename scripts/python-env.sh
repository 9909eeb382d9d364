#!/usr/bin/env bash
# The Python environment `make test` uses: a venv in .venv with python/requirements-test.txt
# installed. Idempotent: it reinstalls only when the requirements file changed. Prints the
# venv's python. Needs python3 >= 3.9; installs Debian's python3-venv when the venv module
# is missing (root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
req=python/requirements-test.txt
stamp="$venv/.requirements.sha256"
if [ ! -x "$venv/bin/python" ]; then
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        rm -rf "$venv"
        echo "installing python3-venv (Debian package)" >&2
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get install -y python3-venv >/dev/null 2>&1 || {
            $sudo apt-get update >/dev/null && $sudo apt-get install -y python3-venv >/dev/null
        }
        python3 -m venv "$venv"
    fi
fi
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
    echo "$want" > "$stamp"
fi
echo "$PWD/$venv/bin/python"
