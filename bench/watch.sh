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
      for p in "${paths[@]}"; do cond+="${cond:+ || }'$p' -nt \$s"; done
      local script="
        zmodload zsh/datetime 2>/dev/null
        w=(${paths[*]}) s=$stamp
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
