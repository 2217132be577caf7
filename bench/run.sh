#!/usr/bin/env bash
# Runs every benchmark in bench/ (see bench/README.md). Each prints its own
# figures as ratios against a baseline measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
rc=0
for b in bench/*_bench.ts; do
  echo "== $b"
  ./scripts/deno run --quiet --frozen --allow-all "$b" || rc=1
done
exit "$rc"
