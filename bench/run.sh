#!/usr/bin/env bash
# Runs every benchmark in bench/ (see bench/README.md): each bench/*_bench.ts,
# picked up by glob, so a new benchmark needs no change here. Each prints its
# own figures as ratios against a baseline measured in the same run.
#
#   bench/run.sh                   all benchmarks
#   bench/run.sh install startup   only bench/install_bench.ts and bench/startup_bench.ts
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -gt 0 ]; then
  benches=()
  for name in "$@"; do
    b="bench/${name}_bench.ts"
    [ -f "$b" ] || { echo "no benchmark $b" >&2; exit 2; }
    benches+=("$b")
  done
else
  benches=(bench/*_bench.ts)
fi
rc=0
for b in "${benches[@]}"; do
  echo "== $b"
  ./scripts/deno run --quiet --frozen --allow-all "$b" || rc=1
done
exit "$rc"
