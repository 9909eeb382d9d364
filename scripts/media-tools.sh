#!/usr/bin/env bash
# What the media tests need from the system, installed when missing (idempotent):
#   tesseract (OCR of images) from Debian's packages, and arlocal (a local Arweave gateway)
#   from the npm registry into .arlocal/ (scripts/arlocal.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v tesseract >/dev/null 2>&1 || ! tesseract --list-langs 2>/dev/null | grep -qx eng; then
    echo "installing tesseract-ocr (Debian) for the OCR tests" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q tesseract-ocr tesseract-ocr-eng >/dev/null
fi
tesseract --version 2>&1 | head -1 >&2

scripts/arlocal.sh >/dev/null
