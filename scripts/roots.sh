#!/usr/bin/env bash
# Builds, or reuses, the Debian root file systems the test matrix runs in
# (scripts/test.sh, docs/testing.md#t7), one per suite:
#   bullseye (Debian 11)   stands in for RHEL 8   (firewalld 0.9, systemd 247)
#   bookworm (Debian 12)   stands in for RHEL 9   (firewalld 1.3, systemd 252)
#   trixie   (Debian 13)   stands in for RHEL 10  (firewalld 2.3, systemd 257)
# Usage: sudo ./scripts/roots.sh SUITE...     prints one root's path per line
#
# The roots live outside the checkout, in $KTP_ROOTS (default
# /var/cache/kuma-tproxy/roots/<suite>). A root is reused while its stamp
# file, the list of packages below, is unchanged; otherwise it is built
# again with debootstrap from the Debian mirror of this machine's own apt
# sources (about 2-5 minutes each; the suites build in parallel). A build
# happens in a temp dir beside the cache and is renamed into place only
# when complete, so a killed build never leaves a root that looks ready.
# No daemon starts while installing: a policy-rc.d that refuses every start
# (invoke-rc.d(8)) is in place before any package with a service is added.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
cache=${KTP_ROOTS:-/var/cache/kuma-tproxy/roots}

# What the suite executes (grep tests/ and src/ for the commands): iptables
# (nft and legacy), nft, ip and ss, sysctl, setpriv/unshare/nsenter,
# useradd/getent, python3 (helpers), chattr, strace (the durability test),
# lslocks (util-linux), dbus-daemon, firewalld and
# firewall-cmd, systemctl and systemd-analyze (never started).
# debootstrap installs the first list; the second, whose packages carry
# services, goes in with apt once the policy-rc.d is there.
base=(iptables nftables iproute2 procps python3 util-linux passwd e2fsprogs strace)
services=(dbus firewalld systemd)
# The users the tests run as (tests/world/users.ts), so that the tests never
# write the cached root's /etc/passwd.
users="kuma-dp:5678 ktp-app:5679"
stamp_text() {
  printf 'kuma-tproxy test root, recipe 1\nsuite: %s\nbase: %s\nservices: %s\nusers: %s\n' \
    "$1" "${base[*]}" "${services[*]}" "$users"
}

if [ $# -eq 0 ]; then
  echo "usage: roots.sh SUITE... (bullseye, bookworm, trixie)" >&2
  exit 2
fi
for suite in "$@"; do
  case "$suite" in
    bullseye | bookworm | trixie) ;;
    *) echo "roots.sh: unknown suite '$suite' (expected bullseye, bookworm or trixie)" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then
  echo "roots.sh: building a root needs root (debootstrap, chroot)" >&2
  exit 1
fi

# The Debian archive this machine's apt already uses: the first URIs line
# of deb822 sources (sources.list.d/*.sources, sources.list(5)) that is not
# the security archive, else the first `deb` line of a sources.list.
mirror() {
  local uri
  uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
    sed -nE 's/^URIs:[[:space:]]*([^[:space:]]+).*/\1/p' | grep -v -- '-security' | head -n 1 || true)
  if [ -z "$uri" ]; then
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      sed -nE 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p' |
      grep -v -- '-security' | head -n 1 || true)
  fi
  [ -n "$uri" ] || { echo "roots.sh: no Debian mirror found in /etc/apt/sources.list{,.d}" >&2; return 1; }
  echo "$uri"
}

ready() { [ -f "$cache/$1/.ktp-root" ] && [ "$(cat "$cache/$1/.ktp-root")" = "$(stamp_text "$1")" ]; }

# build SUITE: debootstrap into a temp dir, install the service packages with
# every start refused, check the result, then rename it into place.
build() {
  local suite=$1 uri=$2
  local tmp="$cache/.build-$suite.$$"
  rm -rf "$tmp"
  debootstrap --variant=minbase --include="$(IFS=,; echo "${base[*]}")" "$suite" "$tmp" "$uri"
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
  chmod 0755 "$tmp/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$tmp/etc/resolv.conf"
  # trixie's firewalld depends on polkitd, which needs a logind that apt's
  # first pass may not settle; --fix-broken completes it.
  chroot "$tmp" apt-get install -y -q --no-install-recommends "${services[@]}" ||
    chroot "$tmp" apt-get --fix-broken install -y -q --no-install-recommends
  local p missing=()
  for p in "${base[@]}" "${services[@]}"; do
    chroot "$tmp" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "roots.sh: $suite: not installed: ${missing[*]}" >&2
    return 1
  fi
  local u
  for u in $users; do
    chroot "$tmp" useradd -u "${u#*:}" -U -M -s /usr/sbin/nologin "${u%:*}"
  done
  chroot "$tmp" apt-get clean
  rm -rf "$tmp"/var/lib/apt/lists/*
  stamp_text "$suite" >"$tmp/.ktp-root"
  # Swap only once no in-root.sh runs in the old root: each holds a shared
  # lock on .use-SUITE for as long as its command runs.
  local use
  exec {use}>"$cache/.use-$suite"
  flock "$use"
  if [ -e "$cache/$suite" ]; then
    mv "$cache/$suite" "$cache/.old-$suite.$$"
    rm -rf "$cache/.old-$suite.$$"
  fi
  mv "$tmp" "$cache/$suite"
  exec {use}>&-
}

# One build per suite at a time, across processes: a lock file per suite.
# Leftovers of killed builds (.build-*, .old-*) are removed under the lock.
build_locked() {
  local suite=$1 uri=$2 log="$cache/.build-$suite.log"
  exec {lock}>"$cache/.lock-$suite"
  flock "$lock"
  if ready "$suite"; then return 0; fi
  rm -rf "$cache/.build-$suite."* "$cache/.old-$suite."*
  echo "roots.sh: building $suite from $uri (log: $log)" >&2
  if ! build "$suite" "$uri" >"$log" 2>&1; then
    echo "roots.sh: building $suite failed; the end of $log:" >&2
    tail -n 30 "$log" >&2
    rm -rf "$cache/.build-$suite.$$"
    return 1
  fi
  echo "roots.sh: built $suite" >&2
}

mkdir -p "$cache"
todo=()
for suite in "$@"; do ready "$suite" || todo+=("$suite"); done
if [ ${#todo[@]} -gt 0 ]; then
  command -v debootstrap >/dev/null || {
    echo "roots.sh: installing debootstrap" >&2
    apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  }
  uri=$(mirror)
  pids=()
  for suite in "${todo[@]}"; do
    build_locked "$suite" "$uri" &
    pids+=($!)
  done
  rc=0
  for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
  [ $rc = 0 ] || exit 1
fi
for suite in "$@"; do echo "$cache/$suite"; done
