#!/usr/bin/env bash
# The test command of the README. Runs every test: fast unit tests, then the
# integration tests that use real iptables (nft and legacy), a real firewalld
# on a private D-Bus and real traffic, all inside network namespaces the
# tests create. Needs root; installs missing packages and Deno (scripts/deps.sh).
#   ./scripts/test.sh              everything, with the JSDoc @example blocks of src/ (--doc)
#   ./scripts/test.sh tests/unit   only some paths
#   UPDATE_GOLDEN=1 ./scripts/test.sh tests/unit   rewrite golden files
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "test.sh: the integration tests need root (network namespaces, iptables)" >&2
  exit 1
fi
./scripts/deps.sh || exit 1
paths=("$@")
[ ${#paths[@]} -gt 0 ] || paths=(src tests/unit tests/integration)
log=$(mktemp)
./scripts/deno test --frozen --doc --allow-all "${paths[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# One plain closing line that any CI reader understands.
summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^(ok|FAILED) [|] [0-9]+ passed' | tail -n 1)
passed=$(sed -nE 's/.*[|] ([0-9]+) passed.*/\1/p' <<<"$summary")
failed=$(sed -nE 's/.*[|] ([0-9]+) failed.*/\1/p' <<<"$summary")
rm -f "$log"
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
[ "${passed:-0}" -gt 0 ] || rc=1
exit "$rc"
