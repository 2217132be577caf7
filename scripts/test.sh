#!/usr/bin/env bash
# The test command of the README. Runs every test: fast unit tests, then the
# integration tests that use real iptables (nft and legacy), a real firewalld
# on a private D-Bus and real traffic, all inside network namespaces the
# tests create. Needs root and the packages .ci/run installs.
#   ./scripts/test.sh              everything
#   ./scripts/test.sh tests/unit   only some paths
#   UPDATE_GOLDEN=1 ./scripts/test.sh tests/unit   rewrite golden files
set -uo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh || exit 1
if [ "$(id -u)" != 0 ]; then
  echo "test.sh: the integration tests need root (network namespaces, iptables)" >&2
  exit 1
fi
for tool in ip iptables-nft iptables-legacy ip6tables-nft firewalld dbus-daemon setpriv /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "test.sh: '$tool' is missing; run: bash .ci/run (it installs the packages)" >&2; exit 1; }
done
paths=("$@")
[ ${#paths[@]} -gt 0 ] || paths=(tests/unit tests/integration)
log=$(mktemp)
./scripts/deno test --frozen --allow-all "${paths[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# One plain closing line that any CI reader understands.
summary=$(grep -E '(ok|FAILED) \| [0-9]+ passed' "$log" | tail -n 1 | sed 's/\x1b\[[0-9;]*m//g')
passed=$(sed -nE 's/.*\| ([0-9]+) passed.*/\1/p' <<<"$summary")
failed=$(sed -nE 's/.*\| ([0-9]+) failed.*/\1/p' <<<"$summary")
rm -f "$log"
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
[ "${passed:-0}" -gt 0 ] || rc=1
exit "$rc"
