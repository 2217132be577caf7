#!/usr/bin/env bash
# The README's first command: shows kuma-tproxy doing its main job on a safe,
# throw-away VM, by running the README's Universal VM walkthrough step by step
# (scripts/demo.ts): two network namespaces (a "host" with an app and a
# stand-in for kuma-dp, and a "peer") and a private mount namespace whose /etc
# is an overlay, so the walkthrough's useradd and /etc/kuma-tproxy change only
# that copy. It shows connections and DNS landing on the stand-in, uninstalls,
# shows traffic going direct again, and deletes everything it created (also on
# failure or Ctrl-C). This machine's own network namespace, firewall, /etc and
# D-Bus are never touched.
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
