#!/usr/bin/env bash
# What the bare-Enter watch check costs per prompt as the watch list grows,
# in bash, zsh and fish: the loop the hook used before (one `-nt` test per
# path, each a step of a shell loop) against the one builtin call it makes
# now (bash and zsh: a function holding one `[[ P -nt $S || … ]]`; fish: one
# `test -n '' -o P -nt S …`). Same paths, none newer than the stamp, so
# each check tests them all; the loop of prompts' own cost is subtracted.
#
#   bash bench/watch.sh            # 10, 20 and 40 paths; BENCH_CHECKS prompts each
set -euo pipefail
checks=${BENCH_CHECKS:-5000}
work=$(mktemp -d "${TMPDIR:-/tmp}/pyve-watch-XXXXXX")
trap 'rm -rf "$work"' EXIT
for i in $(seq 40); do mkdir -p "$work/d$i"; done
touch -d '2020-01-01' "$work"/d*
stamp=$work/stamp
touch "$stamp"

# Microseconds per check: a loop of $checks calls of `check`, less a loop
# of as many calls of an empty function, in one shell process.
measure() { # shell paths
  local sh=$1 n=$2 paths=() i
  for i in $(seq "$n"); do paths+=("$work/d$i"); done
  case $sh in
    bash | zsh)
      local cond='' p
      for p in "${paths[@]}"; do cond+="${cond:+ || }'$p' -nt \$watch_stamp"; done
      local script="
        zmodload zsh/datetime 2>/dev/null
        w=(${paths[*]}) watch_stamp=$stamp
        loop() { local f; for f in \"\${w[@]}\"; do [[ \$f -nt $stamp ]] && return 0; done; return 1; }
        function one { [[ $cond ]]; }
        empty() { return 1; }
        # Microseconds from EPOCHREALTIME (bash gives six decimals, zsh more).
        us() { local w=\${1%.*} f=\${1#*.}000000; echo \$(( w * 1000000 + 10#\${f:0:6} )); }
        t() { local s=\$EPOCHREALTIME i; for ((i = 0; i < $checks; i++)); do \$1; done
              local e=\$EPOCHREALTIME; echo \$(( \$(us \$e) - \$(us \$s) )); }
        b=\$(t empty); l=\$(t loop); o=\$(t one)
        echo \"\$(( l - b )) \$(( o - b ))\""
      if [ "$sh" = bash ]; then bash --norc --noprofile -c "$script"; else zsh -f -c "$script"; fi
      ;;
    fish)
      local args=() p
      for p in "${paths[@]}"; do args+=(-o "$p" -nt "$stamp"); done
      fish --no-config -c "
        set -g w ${paths[*]}
        set -g a ${args[*]}
        function loop; for f in \$w; if builtin test \$f -nt $stamp; return 0; end; end; return 1; end
        function one; builtin test -n '' \$a; end
        function empty; return 1; end
        function t; set -l s (date +%s%N); for i in (seq $checks); \$argv[1]; end; set -l e (date +%s%N); math \"(\$e - \$s) / 1000\"; end
        set b (t empty); set l (t loop); set o (t one)
        echo (math \"\$l - \$b\") (math \"\$o - \$b\")"
      ;;
  esac | awk -v n="$checks" '{printf "%.1f %.1f", $1 / n, $2 / n}'
}

echo "| shell | watched paths | a loop of tests (µs per prompt) | one builtin call (µs per prompt) |"
echo "|---|---|---|---|"
for sh in bash zsh fish; do
  for n in 10 20 40; do
    read -r loop one <<<"$(measure "$sh" "$n")"
    echo "| $sh | $n | $loop | $one |"
  done
done

# The whole hook at a bare Enter, as `pyve hook SHELL` installs it, in
# `project/src/deep` of a venv project (9 watched paths), for the pyve at
# BENCH_PYVE and, beside it, BENCH_BASELINE: 5 alternating runs of
# $checks prompts in one shell process each, less as many calls of an
# empty function; the median of the runs. Then BENCH_PYVE alone in
# `vproject`, the same with two variables in `env:` and a three-line
# `.env` (one more watched path).
[ -n "${BENCH_PYVE-}" ] || exit 0
home=$work/home
mkdir -p "$home" "$work/run"
chmod 700 "$work/run"
for project in "$work/project" "$work/vproject"; do
  mkdir -p "$project/.pyve" "$project/src/deep"
  : >"$project/.pyve/config"
  /usr/bin/python3 -m venv --without-pip "$project/.venv"
done
# shellcheck disable=SC2016 # pyve's own reference, written as it is
printf 'env:\n  APP_MODE: bench\n  APP_SRC: "$PROJECT_ROOT/src"\ndotenv: true\n' >"$work/vproject/.pyve/config"
printf 'DATABASE_URL=postgres://localhost/app\nDEBUG=1\nSECRET_KEY="s3cr3t"\n' >"$work/vproject/.env"
project=$work/project
clean=(env -i HOME="$home" PATH=/usr/bin:/bin TERM=dumb LANG=C.UTF-8
  XDG_RUNTIME_DIR="$work/run" XDG_DATA_HOME="$home/.local/share"
  XDG_CONFIG_HOME="$home/.config" XDG_CACHE_HOME="$home/.cache")
prompt_cost() { # shell pyve [project]
  local sh=$1 exe=$2 project=${3:-$work/project}
  case $sh in
    bash | zsh)
      local flag=--norc
      [ "$sh" = zsh ] && flag=-f
      "${clean[@]}" "$sh" "$flag" -c "
        zmodload zsh/datetime 2>/dev/null
        eval \"\$($exe hook $sh)\"
        us() { local w=\${1%.*} f=\${1#*.}000000; echo \$(( w * 1000000 + 10#\${f:0:6} )); }
        cd $project/src/deep; __pyve_hook; sleep 0.05; __pyve_hook
        e() { :; }
        s=\$EPOCHREALTIME; for ((i = 0; i < $checks; i++)); do e; done; m=\$EPOCHREALTIME
        for ((i = 0; i < $checks; i++)); do __pyve_hook; done; t=\$EPOCHREALTIME
        echo \$(( (\$(us \$t) - \$(us \$m)) - (\$(us \$m) - \$(us \$s)) ))"
      ;;
    fish)
      "${clean[@]}" fish --no-config -c "
        $exe hook fish | source
        cd $project/src/deep; emit fish_prompt; sleep 0.05; emit fish_prompt
        function empty_handler --on-event pyve_bench_nothing; end
        set s (date +%s%N); for i in (seq $checks); emit pyve_bench_nothing; end; set m (date +%s%N)
        for i in (seq $checks); emit fish_prompt; end; set t (date +%s%N)
        math \"((\$t - \$m) - (\$m - \$s)) / 1000\""
      ;;
  esac | awk -v n="$checks" '{printf "%.1f", $1 / n}'
}
# Each build approves the project (its own approval format), then the
# builds take turns, run by run.
declare -A runs
builds=(BENCH_PYVE ${BENCH_BASELINE:+BENCH_BASELINE})
for _ in 1 2 3 4 5; do
  for which in "${builds[@]}"; do
    exe=$(realpath "${!which}")
    (cd "$project" && "${clean[@]}" "$exe" allow >/dev/null 2>&1)
    for sh in bash zsh fish; do
      runs[$which,$sh]+=" $(prompt_cost "$sh" "$exe")"
    done
  done
done
echo
echo "| the hook at a bare Enter, µs per prompt (median of 5 runs) | bash | zsh | fish |"
echo "|---|---|---|---|"
for which in "${builds[@]}"; do
  row="| $which ($(basename "$(realpath "${!which}")")) |"
  for sh in bash zsh fish; do
    # shellcheck disable=SC2086 # the runs, split on purpose
    row+=" $(printf '%s\n' ${runs[$which,$sh]} | sort -g | sed -n 3p) |"
  done
  echo "$row"
done
exe=$(realpath "$BENCH_PYVE")
(cd "$work/vproject" && "${clean[@]}" "$exe" allow >/dev/null 2>&1)
declare -A vruns
for _ in 1 2 3 4 5; do
  for sh in bash zsh fish; do
    vruns[$sh]+=" $(prompt_cost "$sh" "$exe" "$work/vproject")"
  done
done
row="| BENCH_PYVE, project with variables and .env |"
for sh in bash zsh fish; do
  # shellcheck disable=SC2086 # the runs, split on purpose
  row+=" $(printf '%s\n' ${vruns[$sh]} | sort -g | sed -n 3p) |"
done
echo "$row"
