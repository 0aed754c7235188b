#!/usr/bin/env bash
# Smoke-tests a built pyve binary on the machine it is for, in a scratch
# HOME: it runs, builds a venv project with the standard library's venv,
# runs a command in it, and the hook of zsh and of bash (4.4 or newer)
# applies it. The release workflow runs it on each platform it builds for
# (macOS included); scripts/test.sh runs it on the Linux release build.
#
#   bash scripts/smoke.sh target/x86_64-unknown-linux-musl/release/pyve
set -euo pipefail

binary=${1:?usage: scripts/smoke.sh PATH/TO/pyve}
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export HOME="$scratch/home"
unset XDG_DATA_HOME XDG_CONFIG_HOME XDG_STATE_HOME XDG_CACHE_HOME PYVE_STATE PYVE_HOOK VIRTUAL_ENV CI
# Only the system's tools: no uv, so the standard library's venv builds it.
export PATH=/usr/bin:/bin
project="$HOME/project"
mkdir -p "$project/.pyve"
printf 'venv:\n  creator: stdlib\n' >"$project/.pyve/config"

fail() {
  echo "smoke.sh: $1" >&2
  exit 1
}

echo "smoke.sh: $("$binary" --version)"
if ! (cd "$project" && "$binary" init --no-deps --no-direnv 2>"$scratch/init.log"); then
  cat "$scratch/init.log" >&2
  fail "pyve init failed"
fi
prefix=$(cd "$project" && "$binary" run python3 -c 'import sys; print(sys.prefix)')
[ "$prefix" = "$project/.venv" ] || fail "pyve run used $prefix, not $project/.venv"

check_hook() { # shell, its flags
  local shell=$1
  shift
  local got
  got=$("$shell" "$@" -c "eval \"\$('$binary' hook $shell)\"; cd '$project'; __pyve_hook; printf '%s' \"\$VIRTUAL_ENV\"")
  [ "$got" = "$project/.venv" ] || fail "the $shell hook applied '$got', not $project/.venv"
  echo "smoke.sh: the $shell hook applies the environment"
}
if command -v zsh >/dev/null; then
  check_hook zsh -f
fi
if [ "$(bash -c 'echo $((BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1]))')" -ge 404 ]; then
  check_hook bash --norc --noprofile
fi
echo "smoke.sh: ok"
