#!/usr/bin/env bash
# The house checks CI runs before the tests: types, lint and format. Each takes
# seconds; any finding fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deno task check
./scripts/deno lint
./scripts/deno fmt --check
