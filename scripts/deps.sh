#!/usr/bin/env bash
# Installs the Debian packages the demo and the tests need, if any is missing:
# iptables (nft and legacy backends), iproute2, firewalld, dbus, nftables,
# util-linux (setpriv, unshare), python3 (the stand-in sidecar) and systemd
# (systemd-analyze verify and systemctl --root for the boot unit; never started),
# strace (the durability test sees the directory fsync).
# Then the pinned Deno (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
packages=(iptables iproute2 firewalld dbus nftables util-linux python3 systemd strace)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "deps: missing packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  echo "deps: installing ${missing[*]}" >&2
  # firewalld's package must never start the daemon in this machine's own
  # network namespace: it would flush the machine's iptables tables. A
  # policy-rc.d that refuses every start keeps the service down while we install.
  cleanup_policy=false
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    cleanup_policy=true
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if $cleanup_policy; then rm -f /usr/sbin/policy-rc.d; fi
fi
./scripts/setup.sh
