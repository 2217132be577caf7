# Sourced by scripts/kuma-tproxy and scripts/deno, which run on every CLI
# call and so start no program but Deno: everything here is a bash builtin.

# checkout_root SCRIPT: sets `here` to the checkout's root, the path
# `cd "$(dirname SCRIPT)/.." && pwd` prints, without that line's subshell and
# dirname, and `deno_dir` to Deno's repo-local cache (DENO_DIR, scripts/deno).
# SCRIPT's directory is made absolute against $PWD, then `.` and `..` are
# taken out as text, as cd does by default (`help cd`: "`..' is processed by
# removing the immediately previous pathname component back to a slash or
# the beginning of DIR"). Should that text not name the directory above
# SCRIPT's (a symlink followed by `..`), the line itself decides.
checkout_root() {
  local dir=.
  [[ $1 == */* ]] && dir=${1%/*}
  dir=${dir:-/}
  local path=$dir
  [[ $path == /* ]] || path=$PWD/$path
  local -a parts kept=()
  local part
  IFS=/ read -r -a parts <<<"$path/.."
  for part in "${parts[@]}"; do
    if [[ $part == .. ]]; then
      if ((${#kept[@]} > 0)); then unset 'kept[-1]'; fi
    elif [[ -n $part && $part != . ]]; then
      kept+=("$part")
    fi
  done
  local IFS=/
  here="/${kept[*]}"
  [[ $here -ef $dir/.. ]] || here="$(cd "$dir/.." && pwd)"
  deno_dir="$here/.tools/deno_dir"
}

# deno_ready: whether scripts/setup.sh has installed Deno and the npm
# packages; otherwise scripts/deno runs it first.
deno_ready() {
  [[ -x $here/.tools/deno && -d $deno_dir/npm ]]
}
