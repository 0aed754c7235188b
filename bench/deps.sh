#!/usr/bin/env bash
# The dependency work (issue 18), side by side in one run on this machine:
#   1. `pyve init` on a locked uv project against `uv sync --frozen` on a
#      copy (warm cache; both build the environment from nothing);
#   2. `pyve run true` when the environment is fresh (a sync record to
#      check) against the same project without dependencies (no record);
#   3. a bare Enter in a project whose declaration files are watched
#      against one with none, per shell.
#
#   bash bench/deps.sh     # prints a table; also in target/bench/deps.md
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
(cd "$work/pyve-app" && clean pyve init --no-direnv -q)
(cd "$work/uv-app" && clean uv sync --frozen -q)
median() { python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["median"]*1000))' "$1"; }
hf() { # json command...
  local out=$1; shift
  hyperfine -N --warmup 3 --runs "${BENCH_RUNS:-20}" --export-json "$out" "$@" >/dev/null 2>&1
  median "$out"
}

# 1. init against uv sync --frozen, each from no environment.
init_ms=$(cd "$work/pyve-app" && hf "$work/i.json" --prepare "rm -rf $work/pyve-app/.venv" \
  "env -i HOME=$work/home PATH=$work/bin:/usr/bin:/bin XDG_DATA_HOME=$work/home/data UV_CACHE_DIR=$work/uv-cache UV_FIND_LINKS=$work/wheels UV_OFFLINE=1 $pyve init --no-direnv -q")
sync_ms=$(cd "$work/uv-app" && hf "$work/s.json" --prepare "rm -rf $work/uv-app/.venv" \
  "env -i HOME=$work/home PATH=$work/bin:/usr/bin:/bin UV_CACHE_DIR=$work/uv-cache UV_FIND_LINKS=$work/wheels UV_OFFLINE=1 $uv sync --frozen -q")
seed_ms=$(hf "$work/v1.json" --prepare "rm -rf $work/v" \
  "env -i HOME=$work/home PATH=$work/bin:/usr/bin:/bin UV_CACHE_DIR=$work/uv-cache UV_FIND_LINKS=$work/wheels UV_OFFLINE=1 $uv venv -q --seed --python /usr/bin/python3 $work/v")
bare_ms=$(hf "$work/v2.json" --prepare "rm -rf $work/v" \
  "env -i HOME=$work/home PATH=$work/bin:/usr/bin:/bin UV_CACHE_DIR=$work/uv-cache $uv venv -q --python /usr/bin/python3 $work/v")

# 2. run when fresh, against a project that declares nothing.
mkdir -p "$work/none"
(cd "$work/none" && clean pyve init --no-direnv --no-deps -q)
runenv="env -i HOME=$work/home PATH=$work/bin:/usr/bin:/bin XDG_DATA_HOME=$work/home/data"
run_fresh=$(cd "$work/pyve-app" && BENCH_RUNS=200 hf "$work/r1.json" "$runenv PWD=$work/pyve-app $pyve run true")
run_none=$(cd "$work/none" && BENCH_RUNS=200 hf "$work/r2.json" "$runenv PWD=$work/none $pyve run true")

# 3. a bare Enter, per shell: 1000 prompts in the project, per prompt.
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
rows=""
for sh in bash zsh fish; do
  command -v "$sh" >/dev/null || continue
  case $sh in bash) flags=(--norc --noprofile) ;; zsh) flags=(-f) ;; fish) flags=(--no-config) ;; esac
  for dir in pyve-app none; do
    for n in 1 1001; do
      enter_script "$sh" "$work/$dir" $n >"$work/$sh-$dir-$n"
    done
  done
  per() { # dir
    local a b
    a=$(BENCH_RUNS=10 hf "$work/e1.json" "$runenv $sh ${flags[*]} $work/$sh-$1-1001")
    b=$(BENCH_RUNS=10 hf "$work/e0.json" "$runenv $sh ${flags[*]} $work/$sh-$1-1")
    python3 -c "print('%.1f' % ((float('$a') - float('$b')) * 1000 / 1000))"
  }
  rows+="| bare Enter, $sh (µs) | $(per pyve-app) | $(per none) |"$'\n'
done

out=target/bench/deps.md
mkdir -p target/bench
{
  echo "| measure | with dependencies | beside it |"
  echo "|---|---|---|"
  echo "| \`pyve init\` / \`uv sync --frozen\` (ms) | $init_ms | $sync_ms |"
  echo "| of which \`uv venv --seed\` / \`uv venv\` (ms) | $seed_ms | $bare_ms |"
  echo "| \`pyve run true\`, fresh record / no dependencies (ms) | $run_fresh | $run_none |"
  printf '%s' "$rows"
} | tee "$out"
