#!/usr/bin/env bash
# The dependency work (issue 18), side by side in one run on this machine:
#   1. `pyve init` on a locked uv project against `uv sync --frozen` on a
#      copy (warm cache; both build the environment from nothing), with
#      pip seeded (the default) and without (`venv.pip: false`);
#   2. `pyve run true` when the environment is fresh (a sync record to
#      check) against the same project without dependencies (no record);
#   3. a bare Enter in a project whose declaration files are watched
#      against one with none, per shell.
#
#   bash bench/deps.sh              # prints a table; also in target/bench/deps.md
#   BENCH_ROUNDS=7 bash bench/deps.sh
#
# The rows take turns: each round measures every row once (hyperfine, a
# few runs), and the table shows the median of the rounds' medians, so a
# machine that slows down part-way slows every row alike. Syscall counts
# (strace -f -c) are exact and say what the timings only estimate.
#
# It builds pyve in release mode and uses uv as scripts/test.sh fetches it,
# the test wheels (tests/deps) and hyperfine (Debian's package).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
command -v hyperfine >/dev/null || { echo "bench/deps.sh: install hyperfine" >&2; exit 1; }
uv=${PYVE_TEST_UV:-$(ls "$root"/target/tools/uv-*/uv | head -n1)}
cargo build --release --locked --quiet
pyve=$root/target/release/pyve
work=$(mktemp -d /tmp/pyve-deps-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/home" "$work/wheels"
ln -s "$pyve" "$work/bin/pyve"
ln -s "$uv" "$work/bin/uv"
/usr/bin/python3 tests/deps/wheels.py "$work/wheels" >/dev/null
seeds=${PYVE_TEST_SEED_WHEELS:-$root/target/tools/seed-wheels-2}
cp "$seeds"/*.whl "$work/wheels/" 2>/dev/null || true
clean() {
  env -i HOME="$work/home" PATH="$work/bin:/usr/bin:/bin" XDG_DATA_HOME="$work/home/data" \
    XDG_RUNTIME_DIR="$work/run" TMPDIR="$work" UV_CACHE_DIR="$work/uv-cache" \
    UV_FIND_LINKS="$work/wheels" UV_OFFLINE=1 LANG=C.UTF-8 "$@"
}
mkdir -p "$work/run" && chmod 700 "$work/run"
project() { # dir: a uv project with beta, gamma and a dev group, locked
  mkdir -p "$1"
  printf '[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.8"\ndependencies = ["beta", "gamma"]\n[dependency-groups]\ndev = ["delta"]\n' >"$1/pyproject.toml"
  (cd "$1" && clean uv lock -q)
}
project "$work/pyve-app"
cp -a "$work/pyve-app" "$work/uv-app"
cp -a "$work/pyve-app" "$work/lean-app"
mkdir -p "$work/lean-app/.pyve" && printf 'venv:\n  pip: false\n' >"$work/lean-app/.pyve/config"
(cd "$work/lean-app" && clean pyve init --no-direnv -q)
(cd "$work/pyve-app" && clean pyve init --no-direnv -q)
(cd "$work/uv-app" && clean uv sync --frozen -q)
median() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"]*1000)' "$1"; }
hf() { # json runs command...
  local out=$1 runs=$2; shift 2
  hyperfine -N --warmup 2 --runs "$runs" --export-json "$out" "$@" >/dev/null 2>&1
  median "$out"
}
mid() { python3 -c 'import statistics,sys; print("%.2f" % statistics.median(map(float, sys.argv[1:])))' "$@"; }
uvenv="env -i HOME=$work/home PATH=$work/bin:/usr/bin:/bin XDG_DATA_HOME=$work/home/data UV_CACHE_DIR=$work/uv-cache UV_FIND_LINKS=$work/wheels UV_OFFLINE=1"
runenv="env -i HOME=$work/home PATH=$work/bin:/usr/bin:/bin XDG_DATA_HOME=$work/home/data"
mkdir -p "$work/none"
(cd "$work/none" && clean pyve init --no-direnv --no-deps -q)

# 3's scripts: a bare Enter, per shell: 1000 prompts in the project.
prompt_fn() {
  case $1 in
    bash) echo 'p() { local c; for c in "${PROMPT_COMMAND[@]}"; do eval "$c"; done; }' ;;
    zsh) echo 'p() { local f; for f in $precmd_functions; do $f; done; }' ;;
    fish) echo 'function p; emit fish_prompt; end' ;;
  esac
}
enter_script() { # shell dir prompts
  local hook loop
  case $1 in
    fish) hook='pyve hook fish | source'; loop="for i in (seq $3); p; end" ;;
    *) hook="eval \"\$(pyve hook $1)\""; loop="for ((i = 0; i < $3; i++)); do p; done" ;;
  esac
  printf '%s\n%s\ncd %s\np\n%s\n' "$hook" "$(prompt_fn "$1")" "$2" "$loop"
}
shells=()
for sh in bash zsh fish; do
  command -v "$sh" >/dev/null || continue
  shells+=("$sh")
  for dir in pyve-app none; do
    for n in 1 1001; do enter_script "$sh" "$work/$dir" $n >"$work/$sh-$dir-$n"; done
  done
done
flags() { case $1 in bash) echo "--norc --noprofile" ;; zsh) echo "-f" ;; fish) echo "--no-config" ;; esac; }
per_prompt() { # shell dir: µs per prompt, from 1001 prompts against 1
  local a b
  a=$(hf "$work/e1.json" 5 "$runenv $1 $(flags "$1") $work/$1-$2-1001")
  b=$(hf "$work/e0.json" 5 "$runenv $1 $(flags "$1") $work/$1-$2-1")
  python3 -c "print((float('$a') - float('$b')) * 1000 / 1000)"
}

declare -A samples
add() { samples[$1]+=" $2"; }
rounds=${BENCH_ROUNDS:-5}
for ((round = 1; round <= rounds; round++)); do
  # 1. init against uv sync --frozen, each from no environment.
  add init "$(cd "$work/pyve-app" && hf "$work/i.json" 5 --prepare "rm -rf $work/pyve-app/.venv && sync" "$uvenv $pyve init --no-direnv -q")"
  add lean "$(cd "$work/lean-app" && hf "$work/l.json" 5 --prepare "rm -rf $work/lean-app/.venv && sync" "$uvenv $pyve init --no-direnv -q")"
  add sync "$(cd "$work/uv-app" && hf "$work/s.json" 5 --prepare "rm -rf $work/uv-app/.venv && sync" "$uvenv $uv sync --frozen -q")"
  add seed "$(hf "$work/v1.json" 5 --prepare "rm -rf $work/v && sync" "$uvenv $uv venv -q --seed --python /usr/bin/python3 $work/v")"
  add bare "$(hf "$work/v2.json" 5 --prepare "rm -rf $work/v && sync" "$uvenv $uv venv -q --python /usr/bin/python3 $work/v")"
  # 2. run when fresh, against a project that declares nothing.
  add run_fresh "$(cd "$work/pyve-app" && hf "$work/r1.json" 50 "$runenv PWD=$work/pyve-app $pyve run true")"
  add run_none "$(cd "$work/none" && hf "$work/r2.json" 50 "$runenv PWD=$work/none $pyve run true")"
  # 3. a bare Enter.
  for sh in "${shells[@]}"; do
    add "enter_$sh" "$(per_prompt "$sh" pyve-app)"
    add "none_$sh" "$(per_prompt "$sh" none)"
  done
done
m() { mid ${samples[$1]}; }
syscalls() { # dir
  (cd "$1" && strace -f -c -o "$work/strace" $runenv PWD="$1" "$pyve" run true >/dev/null 2>&1)
  awk '/^100.00|total/ {print $4; exit}' "$work/strace"
}
sc_fresh=$(command -v strace >/dev/null && syscalls "$work/pyve-app" || echo "-")
sc_none=$(command -v strace >/dev/null && syscalls "$work/none" || echo "-")

out=target/bench/deps.md
mkdir -p target/bench
{
  echo "| measure | with dependencies | beside it |"
  echo "|---|---|---|"
  echo "| \`pyve init\` / \`uv sync --frozen\` (ms) | $(m init) | $(m sync) |"
  echo "| \`pyve init\` with \`venv.pip: false\` / \`uv sync --frozen\` (ms) | $(m lean) | $(m sync) |"
  echo "| \`uv venv --seed\` / \`uv venv\` (ms) | $(m seed) | $(m bare) |"
  echo "| \`pyve run true\`, fresh record / no dependencies (ms) | $(m run_fresh) | $(m run_none) |"
  echo "| \`pyve run true\`, syscalls (strace -f -c) | $sc_fresh | $sc_none |"
  for sh in "${shells[@]}"; do
    echo "| bare Enter, $sh (µs), synced project / no dependencies | $(m "enter_$sh") | $(m "none_$sh") |"
  done
} | tee "$out"
