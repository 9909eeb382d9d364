#!/usr/bin/env bash
# Runs each cargo-fuzz target for a bounded time (not part of `make test`):
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# Targets: request_parsing, cid_parsing, signature_verification (fuzz/fuzz_targets/).
# Needs the nightly toolchain (libFuzzer's sanitizer flags) and cargo-fuzz, installed from
# crates.io when missing. Seeds come from the conformance vectors; a crash leaves its input
# under fuzz/artifacts/<target>/ and fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(request_parsing cid_parsing signature_verification)

if ! rustup toolchain list | grep -q '^nightly'; then
    echo "fuzz: the nightly toolchain is required (rustup toolchain install nightly)" >&2
    exit 1
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

# Seeds: real request bodies, CIDs and signed messages from tests/vectors.
python3 - <<'PY'
import json, os, hashlib
v = "crates/engram-core/tests/vectors"
def seed(target, data):
    d = f"fuzz/corpus/{target}"
    os.makedirs(d, exist_ok=True)
    b = data.encode() if isinstance(data, str) else data
    open(f"{d}/{hashlib.sha1(b).hexdigest()}", "wb").write(b)
signed = json.load(open(f"{v}/signed-requests.json"))
for c in signed["cases"]:
    seed("request_parsing", c["request_body_json"])
    seed("signature_verification", f'{c["hotkey"]}\n{c["canonical_message"]}\n{json.loads(c["request_body_json"]).get("signature", "")}')
for c in json.load(open(f"{v}/cid.json"))["cases"]:
    seed("cid_parsing", c["cid"])
seed("cid_parsing", "sha256:" + "ab" * 32)
PY

mkdir -p fuzz/logs
for t in "${targets[@]}"; do
    echo "fuzz: $t for ${seconds}s"
    log="fuzz/logs/$t.log"
    rc=0
    cargo +nightly fuzz run --fuzz-dir fuzz "$t" "fuzz/corpus/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1 || rc=$?
    grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)|^#[0-9]+ +DONE' "$log" || true
    if [ "$rc" -ne 0 ]; then
        tail -40 "$log" >&2
        echo "fuzz: $t failed (exit $rc); input under fuzz/artifacts/$t, log in $log" >&2
        exit 1
    fi
done
echo "fuzz: no failures"
