#!/usr/bin/env bash
# Installs Akash's own SDL parser (the npm package @akashnetwork/akashjs) for the engram-cloud
# tests and prints the path of a Node script that parses an SDL with it:
#
#   node "$(scripts/akash-sdl.sh)" < deploy.yaml     # JSON {groups, manifest} on stdout
#
# Idempotent: when .akash/ already holds the pinned version it only rewrites the script.
# Installed with --ignore-scripts: akashjs depends on keytar, a native keychain module whose
# install script downloads prebuilt binaries from GitHub (not reachable here); the SDL parser
# never loads it. Progress and errors go to stderr; stdout carries only the script path.
set -euo pipefail

AKASHJS_VERSION=0.11.1

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/.akash}"

die() {
	echo "akash-sdl.sh: $*" >&2
	exit 1
}

command -v node >/dev/null || die "node not found: install Node.js (with npm); scripts/test-tools.sh does"
command -v npm >/dev/null || die "npm not found"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
if command -v flock >/dev/null; then
	exec 9>"$dir/.install.lock"
	flock 9
fi

installed() {
	(cd "$dir" && node -e '
		if (require("@akashnetwork/akashjs/package.json").version !== process.argv[1]) process.exit(1);
		require("@akashnetwork/akashjs/build/sdl/SDL/SDL.js");
	' "$AKASHJS_VERSION") >/dev/null 2>&1
}

if ! installed; then
	cat >"$dir/package.json" <<JSON
{
  "name": "engram-akash-sdl",
  "private": true,
  "description": "Akash's SDL parser for the engram-cloud tests; installed by scripts/akash-sdl.sh",
  "dependencies": { "@akashnetwork/akashjs": "$AKASHJS_VERSION" }
}
JSON
	echo "akash-sdl.sh: installing @akashnetwork/akashjs $AKASHJS_VERSION into $dir..." >&2
	log="$dir/npm-install.log"
	if ! (cd "$dir" && npm install --ignore-scripts --no-audit --no-fund >"$log" 2>&1); then
		tail -n 30 "$log" >&2
		die "npm install failed; full log: $log"
	fi
	installed || die "npm install finished but akashjs $AKASHJS_VERSION does not load; see $log"
fi

script="$dir/parse-sdl.js"
cat >"$script.tmp" <<'JS'
// Parses the SDL on stdin with Akash's own parser (akashjs SDL, network version beta3) and
// prints what a provider would be asked for: {groups, manifest} as JSON. Exit status 1 with
// the parser's message when it refuses the SDL. Written by scripts/akash-sdl.sh.
'use strict';
const path = require('path');
const { SDL } = require(path.join(__dirname, 'node_modules', '@akashnetwork', 'akashjs', 'build', 'sdl', 'SDL', 'SDL.js'));
const yaml = require('fs').readFileSync(0, 'utf8');
let sdl;
try {
  sdl = SDL.fromString(yaml, 'beta3');
} catch (e) {
  console.error(`SDL refused: ${e.message}`);
  process.exit(1);
}
const bytes = (k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString() : v);
console.log(JSON.stringify({ groups: sdl.groups(), manifest: sdl.manifest() }, bytes));
JS
mv "$script.tmp" "$script"
echo "$script"
