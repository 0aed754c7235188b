#!/usr/bin/env bash
# The single test command (see README.md). On a fresh Debian machine, as
# root, it installs what the tests drive (zsh, fish, shellcheck, strace,
# Python's venv), then checks formatting and lints and runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v zsh >/dev/null || need+=(zsh)
command -v fish >/dev/null || need+=(fish)
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v strace >/dev/null || need+=(strace)
if [ -x /usr/bin/python3 ] && ! /usr/bin/python3 -c 'import venv' 2>/dev/null; then
  need+=(python3-venv)
fi
[ -x /usr/bin/python3 ] || need+=(python3 python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "test.sh: missing ${need[*]}; install them (or run as root on Debian)" >&2
    exit 1
  fi
fi

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
