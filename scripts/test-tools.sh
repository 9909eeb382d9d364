#!/usr/bin/env bash
# What the tests need from the system, installed when missing (idempotent):
#   tesseract (OCR of images), chromium (the web app's browser tests, driven by the venv's
#   Playwright) and Node.js with npm (arlocal, anvil, and the web app's JavaScript unit tests) from
#   Debian's packages, and arlocal (a local Arweave gateway) from the npm registry into
#   .arlocal/ (scripts/arlocal.sh), Akash's SDL parser (@akashnetwork/akashjs) into .akash/
#   (scripts/akash-sdl.sh), and anvil (a local EVM chain) with Circle's USDC contracts into
#   .anvil/ (scripts/anvil.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
if ! command -v tesseract >/dev/null 2>&1 || ! tesseract --list-langs 2>/dev/null | grep -qx eng; then
    missing+=(tesseract-ocr tesseract-ocr-eng)
fi
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} (Debian) for the tests" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}" >/dev/null
fi
tesseract --version 2>&1 | head -1 >&2
chromium --version >&2

scripts/arlocal.sh >/dev/null
scripts/akash-sdl.sh >/dev/null
scripts/anvil.sh >/dev/null
