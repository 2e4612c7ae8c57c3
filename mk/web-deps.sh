#!/bin/sh
# web-deps.sh - what databox's web app needs to build: node and npm (Debian's nodejs and
# npm when missing), then the npm modules pinned in applets/databox/web/package-lock.json
# (npm ci: exactly the locked versions, checked against the lock's integrity hashes;
# cached modules are used first, so a machine that has them builds without the registry).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
say() { printf 'web-deps: %s\n' "$*" >&2; }
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	if [ "$(id -u)" != 0 ]; then
		say "node and npm are missing: apt-get install nodejs npm (or make DATABOX_WEB=0)"
		exit 69
	fi
	say "installing Debian's nodejs and npm"
	apt-get update -q >/dev/null 2>&1 || say "warning: apt-get update reported errors"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm >/dev/null ||
		{ say "apt-get install nodejs npm failed"; exit 69; }
fi
cd "$top/applets/databox/web"
npm ci --prefer-offline --no-audit --no-fund --loglevel=error >&2 ||
	{ say "npm ci failed (no registry and no cache?); build with DATABOX_WEB=0 to leave the web app out"; exit 69; }
# make's stamp: npm ci rewrites this file; touch it in case it kept the old time
touch node_modules/.package-lock.json
