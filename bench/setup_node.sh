#!/bin/sh
# Installs gramjs (npm `telegram`, layer 198) into bench/.node (git-ignored): the peer the TL and
# session benchmarks measure against in the same run. Idempotent; needs node and npm.
set -e
cd "$(dirname "$0")"
VERSION=2.26.22
if [ -f .node/node_modules/telegram/package.json ] &&
   grep -q "\"version\": \"$VERSION\"" .node/node_modules/telegram/package.json; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "bench/setup_node.sh: npm not found (apt-get install nodejs npm); gramjs figures skipped" >&2
  exit 1
fi
mkdir -p .node
[ -f .node/package.json ] || echo '{"name": "mtproto-bench-peers", "private": true}' > .node/package.json
npm install --prefix .node --no-audit --no-fund --loglevel=error "telegram@$VERSION"
