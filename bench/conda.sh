#!/usr/bin/env bash
# The micromamba backend (issue 19) against micromamba itself, in one run
# on this machine, offline against the test channel (tests/conda):
#   1. `pyve init` against `micromamba create` on the same environment.yml
#      and on the same conda-lock.yml, each building the prefix from nothing
#      with a warm package cache; with micromamba's defaults (it compiles
#      pip's .pyc files) and with MAMBA_COMPILE_PYC=false, where pyve's own
#      share shows more;
#   2. `pyve run true` against `micromamba run -p PREFIX true` in the same
#      environment (two activate.d scripts, an env_vars.d file, variables).
#
#   bash bench/conda.sh              # prints a table; also in target/bench/conda.md
#   BENCH_ROUNDS=7 bash bench/conda.sh
#
# The rows take turns in rounds (hyperfine, a few runs each); each cell is
# the median of the rounds' medians. Syscall counts (strace -f -c) are exact.
# Needs micromamba (PYVE_TEST_MICROMAMBA, else on PATH, else the shared
# build), conda-lock (PYVE_TEST_CONDA_LOCK, else target/tools), pip's wheel
# (target/tools/seed-wheels-2, from scripts/test.sh) and hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
command -v hyperfine >/dev/null || { echo "bench/conda.sh: install hyperfine" >&2; exit 1; }
mm=${PYVE_TEST_MICROMAMBA:-$(command -v micromamba || echo "$root/../shared/tools/micromamba/bin/micromamba")}
conda_lock=${PYVE_TEST_CONDA_LOCK:-$root/target/tools/conda-lock-4.0.3/bin/conda-lock}
seeds=${PYVE_TEST_SEED_WHEELS:-$root/target/tools/seed-wheels-2}
cargo build --release --locked --quiet
pyve=$root/target/release/pyve
work=$(mktemp -d /tmp/pyve-conda-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/home" "$work/run"
chmod 700 "$work/run"
ln -s "$pyve" "$work/bin/pyve"
ln -s "$mm" "$work/bin/micromamba"
python3 tests/conda/channel.py build "$work/channels/conda-forge" --python /usr/bin/python3 \
  --pip-wheel "$(ls "$seeds"/pip-*.whl | head -n1)" >/dev/null
base="env -i HOME=$work/home PATH=$work/bin:/usr/bin:/bin XDG_DATA_HOME=$work/home/data XDG_RUNTIME_DIR=$work/run TMPDIR=$work LANG=C.UTF-8 MAMBA_CHANNEL_ALIAS=file://$work/channels"
# shellcheck disable=SC2034 # read as ${!flavour} below
nopyc="$base MAMBA_COMPILE_PYC=false"
mroot=$work/home/.local/share/mamba
spec='name: bench
channels: [conda-forge]
dependencies: [python=3.11, tool]
variables:
  BENCH_VAR: "1"
'
for dir in yml lock; do
  mkdir -p "$work/$dir"
  printf '%s' "$spec" >"$work/$dir/environment.yml"
done
(cd "$work/lock" && $base "$conda_lock" lock -f environment.yml -p linux-64 --conda "$mm" >/dev/null 2>&1)
mv "$work/lock/environment.yml" "$work/lock/spec.yml"   # the lock alone
for dir in yml lock; do (cd "$work/$dir" && $base pyve init --no-direnv -q --env-name bench); done
$base micromamba create -y -q -r "$mroot" -p "$work/mm-env" -f "$work/yml/environment.yml" --override-channels

median() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"]*1000)' "$1"; }
hf() { # json runs command...
  local out=$1 runs=$2; shift 2
  hyperfine -N --warmup 1 --runs "$runs" --export-json "$out" "$@" >/dev/null 2>&1
  median "$out"
}
mid() { python3 -c 'import statistics,sys; print("%.1f" % statistics.median(map(float, sys.argv[1:])))' "$@"; }
declare -A samples
add() { samples[$1]+=" $2"; }
rounds=${BENCH_ROUNDS:-5}
for ((round = 1; round <= rounds; round++)); do
  for flavour in base nopyc; do
    envs=${!flavour}
    add "init_yml_$flavour" "$(cd "$work/yml" && hf "$work/a.json" 3 --prepare "rm -rf $work/yml/.pyve/envs/bench && sync" "$envs PWD=$work/yml $pyve init --no-direnv -q")"
    add "mm_yml_$flavour" "$(hf "$work/b.json" 3 --prepare "rm -rf $work/mm-yml && sync" "$envs $mm create -y -q -r $mroot -p $work/mm-yml -f $work/yml/environment.yml --override-channels")"
    add "init_lock_$flavour" "$(cd "$work/lock" && hf "$work/c.json" 3 --prepare "rm -rf $work/lock/.pyve/envs/bench && sync" "$envs PWD=$work/lock $pyve init --no-direnv -q")"
    add "mm_lock_$flavour" "$(hf "$work/d.json" 3 --prepare "rm -rf $work/mm-lock && sync" "$envs $mm create -y -q -r $mroot -p $work/mm-lock -f $work/lock/conda-lock.yml")"
  done
  add run_pyve "$(cd "$work/yml" && hf "$work/e.json" 30 "$base PWD=$work/yml $pyve run true")"
  add run_mm "$(hf "$work/f.json" 30 "$base $mm run -r $mroot -p $work/yml/.pyve/envs/bench true")"
done
m() { mid ${samples[$1]}; }
ratio() { python3 -c "print('%.2f' % (float('$1') / float('$2')))"; }
syscalls() { # command...
  strace -f -c -o "$work/strace" "$@" >/dev/null 2>&1 || true
  awk '/^100.00|total/ {print $4; exit}' "$work/strace"
}
if command -v strace >/dev/null; then
  sc_pyve=$(cd "$work/yml" && syscalls $base PWD="$work/yml" "$pyve" run true)
  sc_mm=$(syscalls $base "$mm" run -r "$mroot" -p "$work/yml/.pyve/envs/bench" true)
else
  sc_pyve=- sc_mm=-
fi

out=target/bench/conda.md
mkdir -p target/bench
{
  echo "micromamba $($mm --version), conda-lock $($conda_lock --version | awk '{print $NF}'), $rounds rounds"
  echo
  echo "| measure (ms) | pyve | micromamba | pyve / micromamba |"
  echo "|---|---|---|---|"
  for spec in yml lock; do
    for flavour in base nopyc; do
      name="environment.yml"; [ $spec = lock ] && name="conda-lock.yml"
      what="compiling .pyc"; [ $flavour = nopyc ] && what="MAMBA_COMPILE_PYC=false"
      a=$(m "init_${spec}_$flavour") b=$(m "mm_${spec}_$flavour")
      echo "| \`pyve init\` / \`micromamba create\`, $name, $what | $a | $b | $(ratio "$a" "$b") |"
    done
  done
  echo "| \`pyve run true\` / \`micromamba run -p PREFIX true\` | $(m run_pyve) | $(m run_mm) | $(ratio "$(m run_pyve)" "$(m run_mm)") |"
  echo "| same, syscalls (strace -f -c) | $sc_pyve | $sc_mm | |"
} | tee "$out"
