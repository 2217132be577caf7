#!/usr/bin/env bash
# Installs the pinned Deno from the npm registry into .tools/ (nothing global),
# then fetches the project's npm dependencies into Deno's repo-local cache
# (.tools/deno_dir, see scripts/deno), readable by every user.
# Only the npm registry and Debian's packages are reachable from our machines,
# so the usual curl installer is not an option.
set -euo pipefail
cd "$(dirname "$0")/.."
DENO_VERSION=2.9.6
case "$(uname -m)" in
  x86_64) pkg=linux-x64-glibc ;;
  aarch64|arm64) pkg=linux-arm64-glibc ;;
  *) echo "setup: unsupported machine '$(uname -m)': Deno ships linux x86_64 and aarch64 builds" >&2; exit 1 ;;
esac
bin=.tools/node_modules/@deno/$pkg/deno
if [ ! -x "$bin" ] || ! "$bin" --version 2>/dev/null | grep -q "^deno $DENO_VERSION "; then
  mkdir -p .tools
  echo "setup: installing deno $DENO_VERSION from the npm registry into .tools/" >&2
  # The platform binary is an optional dependency of the `deno` package; the
  # package's postinstall step only rewires the bin entry, which we do not use.
  npm install --prefix .tools --no-save --no-audit --no-fund --ignore-scripts \
    "deno@$DENO_VERSION" "@deno/$pkg@$DENO_VERSION" >&2
fi
ln -sf "node_modules/@deno/$pkg/deno" .tools/deno
# The same DENO_DIR as scripts/deno. Created with the usual umask 022, so any
# user can read it.
DENO_DIR="$PWD/.tools/deno_dir" .tools/deno install --frozen >&2
