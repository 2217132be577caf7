#!/usr/bin/env bash
# The test command of the README. Runs every test: fast unit tests, then the
# integration tests that use real iptables (nft and legacy), real nftables, a
# real firewalld on a private D-Bus, systemd's unit checks and real traffic,
# all inside network namespaces the tests create. Needs root.
#
# By default it runs them in each Debian root of the test matrix
# (scripts/roots.sh builds and caches them, docs/testing.md#t7), so each
# userland our users run is tested: bullseye (RHEL 8: firewalld 0.9),
# bookworm (RHEL 9: firewalld 1.3), trixie (RHEL 10: firewalld 2.3).
#   ./scripts/test.sh                     everything (with the JSDoc @example blocks of src/, --doc), in each root
#   ./scripts/test.sh PATHS               only some paths (or other `deno test` arguments), in each root
#   ./scripts/test.sh --root trixie [PATHS]   in one root (repeat --root for several)
#   ./scripts/test.sh --host [PATHS]      on this machine's own userland (installs packages: scripts/deps.sh)
#   UPDATE_GOLDEN=1 ./scripts/test.sh --host tests/unit   rewrite golden files
# It ends with one plain line, `tests: N passed, N failed` (over all roots).
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "test.sh: the integration tests need root (network namespaces, iptables)" >&2
  exit 1
fi

all_roots=(bullseye bookworm trixie)
roots=()
host=false
while [ $# -gt 0 ]; do
  case "$1" in
    --host) host=true; shift ;;
    --root) [ $# -ge 2 ] || { echo "test.sh: --root needs a suite (${all_roots[*]})" >&2; exit 2; }
      roots+=("$2"); shift 2 ;;
    --root=*) roots+=("${1#--root=}"); shift ;;
    *) break ;;
  esac
done
if $host && [ ${#roots[@]} -gt 0 ]; then
  echo "test.sh: --host and --root exclude each other" >&2
  exit 2
fi

# count LOG: "PASSED FAILED" from the closing line of `deno test` in LOG.
count() {
  local summary passed failed
  summary=$(sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -E '^(ok|FAILED) [|] [0-9]+ passed' | tail -n 1)
  passed=$(sed -nE 's/.*[|] ([0-9]+) passed.*/\1/p' <<<"$summary")
  failed=$(sed -nE 's/.*[|] ([0-9]+) failed.*/\1/p' <<<"$summary")
  echo "${passed:-0} ${failed:-0}"
}

if $host; then
  ./scripts/deps.sh || exit 1
  paths=("$@")
  [ ${#paths[@]} -gt 0 ] || paths=(src tests/unit tests/integration)
  log=$(mktemp)
  ./scripts/deno test --frozen --doc --allow-all "${paths[@]}" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  read -r passed failed < <(count "$log")
  rm -f "$log"
  # One plain closing line that any CI reader understands.
  echo "tests: $passed passed, $failed failed"
  [ "$passed" -gt 0 ] || rc=1
  exit "$rc"
fi

[ ${#roots[@]} -gt 0 ] || roots=("${all_roots[@]}")
# Deno and the npm packages go into .tools on this machine (the roots have
# no npm); each root then runs the same Deno from the bind-mounted checkout.
./scripts/setup.sh || exit 1
./scripts/roots.sh "${roots[@]}" >/dev/null || exit 1

rc=0
total_passed=0
total_failed=0
lines=()
log=$(mktemp)
for suite in "${roots[@]}"; do
  # dpkg's view, which names the release; iptables says which backend its
  # plain command uses.
  versions=$(./scripts/in-root.sh "$suite" sh -c '
    v() { dpkg-query -W -f="\${Version}" "$1"; }
    echo "Debian $(cat /etc/debian_version): firewalld $(v firewalld)," \
      "iptables $(v iptables) ($(iptables --version | sed "s/.*(\(.*\))/\1/") default)," \
      "nftables $(v nftables), systemd $(v systemd)"') || versions="(versions unreadable)"
  echo "=== root $suite: $versions"
  ./scripts/in-root.sh "$suite" ./scripts/test.sh --host "$@" 2>&1 | tee "$log"
  [ "${PIPESTATUS[0]}" = 0 ] || rc=1
  read -r passed failed < <(count "$log")
  [ "$passed" -gt 0 ] || rc=1
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  lines+=("tests in $suite: $passed passed, $failed failed ($versions)")
done
rm -f "$log"
echo
printf '%s\n' "${lines[@]}"
echo "tests: $total_passed passed, $total_failed failed"
exit "$rc"
