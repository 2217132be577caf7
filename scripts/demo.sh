#!/usr/bin/env bash
# The README's first command: shows kuma-tproxy doing its main job on a safe,
# throw-away world. It creates two network namespaces (a "host" with a
# stand-in sidecar and an app, and a "peer"), installs the transparent proxy
# in the host namespace with the real CLI, shows connections and DNS landing
# on the sidecar, runs status, uninstalls, shows traffic going direct again,
# and deletes everything it created (also on failure or Ctrl-C).
# This machine's own network namespace and firewall are never touched.
#   sudo ./scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "demo: needs root to create network namespaces; run: sudo $0" >&2
  exit 1
fi
# Debian packages (iptables, iproute2, python3, ...) and the pinned Deno;
# a no-op when everything is installed, so the demo works on a fresh machine.
./scripts/deps.sh
exec ./scripts/deno run --quiet --frozen --allow-all scripts/demo.ts
