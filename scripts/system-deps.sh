#!/usr/bin/env bash
# System packages nbchat needs, by what you run:
#   build  Node.js/npm, to build the front end (every `pip install` of nbchat does).
#   test   also Chromium, driven by Playwright through executable_path=/usr/bin/chromium for
#          the end-to-end tests (no browser is ever downloaded), and HAProxy, the load
#          balancer of tests/cluster (examples/deploy/haproxy.cfg). Serving needs neither.
# As root on Debian/Ubuntu the missing ones are installed with apt-get; otherwise it says what
# to install and fails. Idempotent: installs only what is missing.
set -euo pipefail
what=${1:-test}
case $what in build|test) ;; *) echo "usage: $0 build|test" >&2; exit 2 ;; esac
missing=()
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
[ "$what" = build ] || [ -x /usr/bin/chromium ] || missing+=(chromium)
[ "$what" = build ] || command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "nbchat ($what) needs these packages: ${missing[*]}. On Debian/Ubuntu:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    echo "(elsewhere: Node.js from https://nodejs.org/ or your package manager; Chromium" \
         "at /usr/bin/chromium for the end-to-end tests)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# A Node.js older than js/package.json's engines.node says so here, not deep inside vite.
node "$(dirname "$0")/../js/check-node.mjs"
