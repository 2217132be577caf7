#!/usr/bin/env bash
# Runs a command inside one of the Debian roots of scripts/roots.sh, with this
# checkout at the same path, as the test matrix does (docs/testing.md#t7).
# Usage: sudo ./scripts/in-root.sh SUITE [CMD [ARG...]]   (default CMD: bash)
# The command starts in the checkout, with a clean environment (PATH, HOME,
# TERM, and CI, NO_COLOR, UPDATE_GOLDEN when set).
#
# Everything happens in a private mount namespace (unshare(1),
# mount_namespaces(7)) that ends with the command, so nothing is mounted on
# the machine itself:
# - the root is bind-mounted on itself: `ip netns exec` remounts / as a
#   slave (ip-netns(8)), which needs / to be a mount point;
# - its own /proc; /sys and /dev are the machine's (rbind); /run and /tmp
#   are empty tmpfs, so the network namespaces the tests name under
#   /run/netns vanish with the mount namespace;
# - the checkout, and the target of a .tools symlink (a shared Deno), are
#   bind-mounted at their own paths.
# The root's file system is the cached one: the tests write their own temp
# dirs and overlays only, never the root's /etc.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -lt 1 ]; then
  echo "usage: in-root.sh SUITE [CMD [ARG...]]" >&2
  exit 2
fi
suite=$1
shift
[ $# -gt 0 ] || set -- bash
if [ "$(id -u)" != 0 ]; then
  echo "in-root.sh: entering a root needs root (unshare -m, chroot)" >&2
  exit 1
fi
root=$("$here/scripts/roots.sh" "$suite" | tail -n 1)
# While the command runs, a rebuild of this root (another checkout with
# another package list) waits before it swaps the root away (roots.sh).
exec {use}>"$(dirname "$root")/.use-$suite"
flock -s "$use"
tools=
[ -L "$here/.tools" ] && tools=$(readlink -f "$here/.tools")
env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "TERM=${TERM:-dumb}")
for v in CI NO_COLOR UPDATE_GOLDEN; do
  [ -z "${!v+x}" ] || env+=("$v=${!v}")
done
# shellcheck disable=SC2016 # expanded by the inner bash
exec unshare -m --propagation private -- bash -ec '
  root=$1 here=$2 tools=$3
  shift 3
  mount --bind "$root" "$root"
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs -o mode=0755 tmpfs "$root/run"
  mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
  for d in "$here" $tools; do
    mkdir -p "$root$d"
    mount --bind "$d" "$root$d"
  done
  cd "$root$here"
  exec chroot "$root" /usr/bin/env -i "$@"
' in-root "$root" "$here" "$tools" "${env[@]}" sh -c 'cd "$0" && exec "$@"' "$here" "$@"
