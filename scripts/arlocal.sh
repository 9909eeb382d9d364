#!/usr/bin/env bash
# Installs arlocal (a local Arweave gateway, npm package) for the engram-arweave tests and prints
# the path of a Node wrapper that runs it bound to 127.0.0.1.
#
#   scripts/arlocal.sh [DIR]        DIR defaults to <repo root>/.arlocal
#   node "$(scripts/arlocal.sh)" PORT [--hidelogs] [--dbpath RELATIVE_DIR]
#
# Idempotent: when DIR already holds a working arlocal of the pinned version it only rewrites the
# wrapper and prints its path (well under a second). A fresh install takes about two minutes,
# most of it compiling sqlite3's native module (needs python3, make and a C++ compiler).
# Progress and errors go to stderr; stdout carries only the wrapper path. Exit status 1 on any
# failure, with npm's log tail.
#
# Why the details:
# - avsc is overridden because arlocal's dependency arbundles pins it to a git URL, which needs
#   git and GitHub access at install time; 5.7.7 is the released version of the same code.
# - arlocal has no host option and listens on every interface; the wrapper makes each HTTP server
#   in its process listen on 127.0.0.1 instead.
# - With ARLOCAL_EXIT_WITH_PARENT=1 the wrapper exits when its stdin closes, so a test runner
#   killed without cleanup does not leave arlocal running.
set -euo pipefail

ARLOCAL_VERSION=1.1.66
AVSC_VERSION=5.7.7
MIN_NODE_MAJOR=18

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/.arlocal}"

die() {
	echo "arlocal.sh: $*" >&2
	exit 1
}

command -v node >/dev/null || die "node not found: install Node.js >= $MIN_NODE_MAJOR (with npm)"
command -v npm >/dev/null || die "npm not found: install npm alongside Node.js"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge "$MIN_NODE_MAJOR" ] ||
	die "Node.js $(node --version) is too old: arlocal needs >= $MIN_NODE_MAJOR"

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

# One installer at a time per directory (tests may run this concurrently).
if command -v flock >/dev/null; then
	exec 9>"$dir/.install.lock"
	flock 9
fi

installed() {
	(cd "$dir" && node -e '
		const v = require("arlocal/package.json").version;
		if (v !== process.argv[1]) process.exit(1);
		require("sqlite3");  // the native module is what a broken install lacks
	' "$ARLOCAL_VERSION") >/dev/null 2>&1
}

if ! installed; then
	cat >"$dir/package.json" <<EOF
{
  "name": "engram-arlocal",
  "private": true,
  "description": "arlocal for the engram-arweave tests; installed by scripts/arlocal.sh",
  "dependencies": { "arlocal": "$ARLOCAL_VERSION" },
  "overrides": { "avsc": "$AVSC_VERSION" }
}
EOF
	echo "arlocal.sh: installing arlocal $ARLOCAL_VERSION into $dir (about 2 minutes)..." >&2
	log="$dir/npm-install.log"
	if ! (cd "$dir" && npm install --no-audit --no-fund >"$log" 2>&1); then
		tail -n 30 "$log" >&2
		die "npm install failed; full log: $log"
	fi
	installed || die "npm install finished but arlocal $ARLOCAL_VERSION does not load; see $log"
	echo "arlocal.sh: installed" >&2
fi

wrapper="$dir/run-arlocal.js"
cat >"$wrapper.tmp" <<'EOF'
// Runs the arlocal CLI with every HTTP server of this process bound to 127.0.0.1.
// Written by scripts/arlocal.sh. Arguments are arlocal's: PORT [--hidelogs] [--dbpath DIR].
'use strict';
const http = require('http');
const path = require('path');

const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    if (typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1');
  } else if (args[0] && typeof args[0] === 'object' && args[0].host === undefined) {
    args[0] = Object.assign({}, args[0], { host: '127.0.0.1' });
  }
  return listen.apply(this, args);
};

if (process.env.ARLOCAL_EXIT_WITH_PARENT === '1') {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

require(path.join(__dirname, 'node_modules', 'arlocal', 'bin', 'index.js'));
EOF
mv "$wrapper.tmp" "$wrapper"
echo "$wrapper"
