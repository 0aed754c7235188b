#!/usr/bin/env bash
# pyve against direnv and mise, side by side, in one run, on this machine.
#
#   bash bench/run.sh            # prints the tables; also in target/bench/results.md
#   BENCH_ROUNDS=5 bash bench/run.sh
#   BENCH_BASELINE=/path/to/old/pyve bash bench/run.sh   # and an older pyve beside it
#   BENCH_PYVE=target/x86_64-unknown-linux-musl/release/pyve bash bench/run.sh
#                                # measure that build instead of `cargo build --release`
#
# It installs what it compares against, idempotently (direnv, hyperfine,
# strace and GNU time from Debian's packages when root on Debian; mise
# from the npm package @jdxcode/mise-linux-x64 into target/bench/tools;
# uv, nushell and xonsh as scripts/test.sh fetches them), builds pyve in
# release mode, and
# builds the same fixture for each tool (a project with a venv and two
# subdirectories, an empty directory) in a temporary HOME. Every
# measurement runs under `env -i`, and the tools take turns: each round
# measures pyve, direnv and mise one after another, and the table shows
# the median of the rounds' medians.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
out_dir=$repo/target/bench
tools=$out_dir/tools
rounds=${BENCH_ROUNDS:-3}
mise_version=${BENCH_MISE_VERSION:-2026.9.15}
mkdir -p "$tools"

# --- what is compared against -------------------------------------------
need=()
command -v direnv >/dev/null || need+=(direnv)
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v strace >/dev/null || need+=(strace)
[ -x /usr/bin/time ] || need+=(time)
command -v npm >/dev/null || need+=(npm)
command -v zsh >/dev/null || need+=(zsh)
command -v fish >/dev/null || need+=(fish)
command -v elvish >/dev/null || need+=(elvish)
command -v tcsh >/dev/null || need+=(tcsh)
/usr/bin/python3 -c 'import venv' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "bench: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "bench: missing ${need[*]}; install them (or run as root on Debian)" >&2
    exit 1
  fi
fi
mise_dir=$tools/mise-$mise_version
if [ ! -x "$mise_dir/bin/mise" ]; then
  echo "bench: fetching mise $mise_version from npm" >&2
  rm -rf "$mise_dir.download" && mkdir -p "$mise_dir.download"
  (cd "$mise_dir.download" && npm pack --silent "@jdxcode/mise-linux-x64@$mise_version" >/dev/null)
  tar xzf "$mise_dir.download"/*.tgz -C "$mise_dir.download"
  rm -rf "$mise_dir" && mv "$mise_dir.download/package" "$mise_dir"
  rm -rf "$mise_dir.download"
fi
uv=$(find "$repo/target/tools" -maxdepth 2 -path '*/uv-*/uv' -type f 2>/dev/null | head -n 1)
if [ -z "$uv" ]; then
  echo "bench: no uv in target/tools; run \`bash scripts/test.sh\` once, which fetches it" >&2
  exit 1
fi
if [ -n "${BENCH_PYVE-}" ]; then
  pyve_exe=$(realpath "$BENCH_PYVE")
else
  echo "bench: building pyve (release)" >&2
  cargo build --release --locked --quiet
  pyve_exe=$repo/target/release/pyve
fi
# The floor for any program: `fn main() {}`, static (musl) where that
# target is installed, as the installer's binary is built.
hello=$out_dir/hello-static
musl=$(uname -m)-unknown-linux-musl
if [ ! -x "$hello" ] && rustup target list --installed 2>/dev/null | grep -qx "$musl"; then
  printf 'fn main() {}\n' >"$out_dir/hello.rs"
  rustc -O -C panic=abort -C strip=symbols --target "$musl" -o "$hello" "$out_dir/hello.rs"
fi

# All three tools (and uv, and nothing else of the machine's) on one PATH.
bin=$out_dir/bin
rm -rf "$bin" && mkdir -p "$bin"
ln -s "$pyve_exe" "$bin/pyve"
ln -s "$(command -v direnv)" "$bin/direnv"
ln -s "$mise_dir/bin/mise" "$bin/mise"
ln -s "$uv" "$bin/uv"
# An older pyve measured beside this one (a column "pyve before"), for a
# change that must not cost the prompt anything.
tools=(pyve direnv mise)
if [ -n "${BENCH_BASELINE-}" ]; then
  ln -s "$BENCH_BASELINE" "$bin/pyve-base"
  tools=(pyve base direnv mise)
fi
python=/usr/bin/python3
hyperfine=$(command -v hyperfine)

# --- fixtures -----------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/pyve-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
home=$work/home
mkdir -p "$home" "$work/run" "$work/empty" && chmod 700 "$work/run"
clean_env=(
  HOME="$home" PATH="$bin:/usr/bin:/bin" TERM=dumb LANG=C.UTF-8
  XDG_RUNTIME_DIR="$work/run" XDG_DATA_HOME="$home/.local/share"
  XDG_CONFIG_HOME="$home/.config" XDG_CACHE_HOME="$home/.cache"
  XDG_STATE_HOME="$home/.local/state" TMPDIR="$work"
  MISE_YES=1 MISE_QUIET=1
)
clean() { env -i "${clean_env[@]}" "$@"; }
# The command of the pyve being measured (`base`: the older one).
pyve_named() { if [ "$1" = base ]; then echo pyve-base; else echo pyve; fi; }

# `none`: the same directories with no hook at all, for what the shell's
# own `cd` and prompt loop cost. `vproject` is the same project setting
# variables of its own, two in the tool's config and three from `.env`.
for tool in "${tools[@]}" none; do
  for fixture in project vproject; do
    project=$work/$tool/$fixture
    mkdir -p "$project/a" "$project/b"
    "$python" -m venv --without-pip "$project/.venv"
    vars=
    if [ "$fixture" = vproject ]; then vars=yes; fi
    [ -n "$vars" ] && printf 'DATABASE_URL=postgres://localhost/app\nDEBUG=1\nSECRET_KEY="s3cr3t"\n' >"$project/.env"
    case $tool in
      pyve | base)
        mkdir -p "$project/.pyve"
        if [ -n "$vars" ]; then
          printf 'env:\n  APP_MODE: bench\n  APP_SRC: "$PROJECT_ROOT/src"\ndotenv: true\n' >"$project/.pyve/config"
        else
          : >"$project/.pyve/config"
        fi
        (cd "$project" && clean "$(pyve_named "$tool")" allow 2>/dev/null) ;;
      direnv)
        printf 'export VIRTUAL_ENV="$PWD/.venv"\nPATH_add .venv/bin\n' >"$project/.envrc"
        [ -n "$vars" ] && printf 'export APP_MODE=bench\nexport APP_SRC="$PWD/src"\ndotenv\n' >>"$project/.envrc"
        (cd "$project" && clean direnv allow 2>/dev/null) ;;
      mise)
        printf '[env]\n_.python.venv = { path = ".venv" }\n' >"$project/mise.toml"
        # shellcheck disable=SC2016 # mise's own template syntax
        [ -n "$vars" ] && printf '_.file = ".env"\nAPP_MODE = "bench"\nAPP_SRC = "{{config_root}}/src"\n' >>"$project/mise.toml"
        (cd "$project" && clean mise trust >/dev/null 2>&1) ;;
    esac
  done
done

# The hook line and one prompt's worth of hook calls, per shell and tool.
hook_line() { # shell tool
  case $2 in
    pyve | base)
      local exe
      exe=$(pyve_named "$2")
      case $1 in fish) echo "$exe hook fish | source" ;; *) echo "eval \"\$($exe hook $1)\"" ;; esac ;;
    direnv) case $1 in fish) echo 'direnv hook fish | source' ;; *) echo "eval \"\$(direnv hook $1)\"" ;; esac ;;
    mise) case $1 in fish) echo 'mise activate fish | source' ;; *) echo "eval \"\$(mise activate $1)\"" ;; esac ;;
    none) echo 'true' ;;
  esac
}
prompt_fn() { # shell: a function `p` that does what the shell does before drawing a prompt
  case $1 in
    bash) echo 'p() { local c; for c in "${PROMPT_COMMAND[@]}"; do eval "$c"; done; }' ;;
    zsh) echo 'p() { local f; for f in $precmd_functions; do $f; done; }' ;;
    fish) echo 'function p; emit fish_prompt; end' ;;
  esac
}
# A script that installs the hook, enters the project and runs `$1`
# prompts' worth of SCENARIO: `enter` (a bare Enter), `switch` (between two
# directories of the project), `leave` (out of the project and back).
loop_script() { # shell tool scenario [fixture]
  local sh=$1 tool=$2 scenario=$3 project=$work/$2/${4:-project} step
  case $scenario in
    enter) step='p' ;;
    switch) step="cd $project/a; p; cd $project/b; p" ;;
    leave) step="cd $work/empty; p; cd $project; p" ;;
  esac
  local file=$work/loop-$sh-$tool-$scenario-${4:-project}
  {
    hook_line "$sh" "$tool"
    prompt_fn "$sh"
    echo "cd $project; p"
    case $sh in
      fish) echo "set i 0; while test \$i -lt \$argv[1]; $step; set i (math \$i + 1); end" ;;
      *) echo "i=0; while (( i < \$1 )); do $step; i=\$((i + 1)); done" ;;
    esac
  } >"$file"
  echo "$file"
}
shell_cmd() { # shell
  case $1 in
    bash) echo 'bash --norc --noprofile' ;;
    zsh) echo 'zsh -f' ;;
    fish) echo 'fish --no-config' ;;
  esac
}

# --- measuring ----------------------------------------------------------
# The median, in seconds, of one hyperfine run (its JSON export).
median_of() { "$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$1"; }
# The median of several numbers.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# Runs a command in DIR under the clean environment, or under exactly the
# variables of the NUL-separated file ENVFILE (a shell's state, captured).
in_env() { # dir envfile command...
  local dir=$1 envfile=$2 vars=() kv
  shift 2
  if [ -n "$envfile" ]; then
    while IFS= read -r -d '' kv; do vars+=("$kv"); done <"$envfile"
  else
    vars=("${clean_env[@]}")
  fi
  (cd "$dir" && env -i "${vars[@]}" "$@")
}
# hyperfine on one command (see in_env): prints the median. Further
# arguments are hyperfine's options.
time_in() { # dir envfile runs command [hyperfine options…]
  local dir=$1 envfile=$2 runs=$3 command=$4 json
  shift 4
  json=$(mktemp "$work/h-XXXXXX")
  if ! in_env "$dir" "$envfile" "$hyperfine" "$@" --style none --warmup 5 \
    --runs "$runs" --export-json "$json" "$command" >"$json.log" 2>&1; then
    echo "bench: failed: $command" >&2
    cat "$json.log" >&2
    exit 1
  fi
  median_of "$json"
}
# Syscalls of one run (strace -f -c).
syscalls_in() { # dir envfile command...
  local log
  log=$(mktemp "$work/s-XXXXXX")
  in_env "$1" "$2" strace -f -c -o "$log" "${@:3}" >/dev/null 2>&1 || true
  awk '$NF == "total" {print $(NF-2) ~ /^[0-9]+$/ ? $(NF-2) : $(NF-1)}' "$log"
}
# Peak resident memory of one run, in KiB.
peak_in() { # dir envfile command...
  local log
  log=$(mktemp "$work/m-XXXXXX")
  in_env "$1" "$2" /usr/bin/time -f '%M' -o "$log" "${@:3}" >/dev/null 2>&1 || true
  tail -n 1 "$log"
}
ms() { awk -v s="$1" 'BEGIN {printf "%.3f ms", s * 1000}'; }
us() { awk -v s="$1" 'BEGIN {printf "%.1f µs", s * 1000000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.3g×", a / b; else print "-"}'; }

# 1. The engine with nothing to do, after a directory change inside the
# project: each tool's state is what its own hook left in a shell that was
# in `b` and moved to `a`. Each pyve gets a runtime directory of its own:
# a new shell's first engine run removes the stamps of shells that have
# exited, and the state kept here is one of those.
for fixture in project vproject; do
  for tool in "${tools[@]}"; do
    project=$work/$tool/$fixture
    file=$(loop_script bash "$tool" enter "$fixture")
    mkdir -p "$work/run-$tool-$fixture" && chmod 700 "$work/run-$tool-$fixture"
    clean env XDG_RUNTIME_DIR="$work/run-$tool-$fixture" bash --norc --noprofile -c "source $file 0; cd $project/b; p; cd $project/a; env -0 >$work/$tool-$fixture.env; printf '%s' \"\${__pyve_stamp-}\" >$work/$tool-$fixture.stamp" 2>/dev/null
  done
done
engine_cmd() { # tool [fixture]
  local fixture=${2:-project}
  case $1 in
    # The fourth argument is what this shell was told already: anything.
    pyve | base) echo "$(pyve_named "$1") _engine bash $work/$1/$fixture/a $(cat "$work/$1-$fixture.stamp") - $$" ;;
    direnv) echo 'direnv export bash' ;;
    mise) echo 'mise hook-env -s bash' ;;
  esac
}
declare -A result
for _ in $(seq "$rounds"); do
  for fixture in project vproject; do
    for tool in "${tools[@]}"; do
      result[engine-$fixture,$tool]+=" $(time_in "$work/$tool/$fixture/a" "$work/$tool-$fixture.env" 300 "$(engine_cmd "$tool" "$fixture")" -N)"
    done
  done
done
if [ -x "$hello" ]; then
  for _ in $(seq "$rounds"); do
    result[engine,hello]+=" $(time_in "$work" "" 300 "$hello" -N)"
  done
  # shellcheck disable=SC2086
  result[engine,hello]=$(median ${result[engine,hello]})
fi
for tool in "${tools[@]}"; do
  # shellcheck disable=SC2086 # the rounds' medians, word-split on purpose
  result[engine,$tool]=$(median ${result[engine-project,$tool]})
  # shellcheck disable=SC2086
  result[engine-vars,$tool]=$(median ${result[engine-vproject,$tool]})
  read -r -a words <<<"$(engine_cmd "$tool")"
  result[engine-sys,$tool]=$(syscalls_in "$work/$tool/project/a" "$work/$tool-project.env" "${words[@]}")
  result[engine-rss,$tool]=$(peak_in "$work/$tool/project/a" "$work/$tool-project.env" "${words[@]}")
  read -r -a words <<<"$(engine_cmd "$tool" vproject)"
  result[engine-vars-sys,$tool]=$(syscalls_in "$work/$tool/vproject/a" "$work/$tool-vproject.env" "${words[@]}")
done

# 2 and 3. Whole prompts: a loop of N prompts against none, per prompt;
# `venter`: a bare Enter in the project with variables of its own.
loops=${BENCH_PROMPTS:-100}
for sh in bash zsh fish; do
  for scenario in enter switch leave venter; do
    for _ in $(seq "$rounds"); do
      for tool in "${tools[@]}" none; do
        if [ "$scenario" = venter ]; then
          file=$(loop_script "$sh" "$tool" enter vproject)
        else
          file=$(loop_script "$sh" "$tool" "$scenario")
        fi
        prompts=$loops
        [ "$scenario" = enter ] || [ "$scenario" = venter ] || prompts=$((loops * 2))
        base=$(time_in "$work" "" 10 "$(shell_cmd "$sh") $file 0" -N)
        full=$(time_in "$work" "" 3 "$(shell_cmd "$sh") $file $loops" -N)
        per=$(awk -v f="$full" -v b="$base" -v n="$prompts" 'BEGIN {print (f - b) / n}')
        result[$sh-$scenario,$tool]+=" $per"
      done
    done
    for tool in "${tools[@]}" none; do
      # shellcheck disable=SC2086
      result[$sh-$scenario,$tool]=$(median ${result[$sh-$scenario,$tool]})
    done
  done
done

# 4. `run` against the environment's Python directly, and direnv exec; and
# against a copy of /bin/true in the environment, whose start-up is short
# and steady enough to show what `pyve run` adds.
project=$work/pyve/project
cp /bin/true "$project/.venv/bin/noop"
[ -z "${BENCH_BASELINE-}" ] || cp /bin/true "$work/base/project/.venv/bin/noop"
for _ in $(seq "$rounds"); do
  result[noop,direct]+=" $(time_in "$project" "" 1000 "$project/.venv/bin/noop" -N)"
  result[noop,pyve]+=" $(time_in "$project" "" 1000 'pyve run noop' -N)"
  if [ -n "${BENCH_BASELINE-}" ]; then
    result[noop,base]+=" $(time_in "$work/base/project" "" 1000 'pyve-base run noop' -N)"
  fi
  result[run,pyve]+=" $(time_in "$project" "" 200 'pyve run python -c pass' -N)"
  if [ -n "${BENCH_BASELINE-}" ]; then
    result[run,base]+=" $(time_in "$work/base/project" "" 200 'pyve-base run python -c pass' -N)"
  fi
  result[run,direct]+=" $(time_in "$project" "" 200 "$project/.venv/bin/python -c pass" -N)"
  result[run,direnv]+=" $(time_in "$work/direnv/project" "" 100 'direnv exec . python -c pass' -N)"
  result[run,mise]+=" $(time_in "$work/mise/project" "" 100 'mise exec -- python -c pass' -N)"
done
for what in pyve direct direnv mise ${BENCH_BASELINE:+base}; do
  # shellcheck disable=SC2086
  result[run,$what]=$(median ${result[run,$what]})
done
for what in pyve direct ${BENCH_BASELINE:+base}; do
  # shellcheck disable=SC2086
  result[noop,$what]=$(median ${result[noop,$what]})
done
result[run-sys,pyve]=$(syscalls_in "$project" "" pyve run true)
result[run-rss,pyve]=$(peak_in "$project" "" pyve run true)

# 5. Creating a venv: pyve init (with uv) against uv venv and python -m venv,
# on the same interpreter, each from nothing. pyve's environment without
# pip (`venv.pip: false`), as `uv venv` makes it; seeding pip is measured
# by bench/deps.sh.
init_dir=$work/init
mkdir -p "$init_dir"
printf 'venv:\n  pip: false\n' >"$work/no-pip.config"
version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
for _ in $(seq "$rounds"); do
  result[init,pyve]+=" $(time_in "$init_dir" "" 20 "pyve init --no-direnv --python-version $version" \
    --prepare "sh -c 'rm -rf $init_dir/.venv $init_dir/.pyve $init_dir/.gitignore && mkdir $init_dir/.pyve && cp $work/no-pip.config $init_dir/.pyve/config'")"
  result[init,uv]+=" $(time_in "$init_dir" "" 20 "uv venv --quiet --no-config --python $python .venv" \
    --prepare "rm -rf $init_dir/.venv")"
  result[init,stdlib]+=" $(time_in "$init_dir" "" 3 "$python -m venv .venv" --prepare "rm -rf $init_dir/.venv")"
done
for what in pyve uv stdlib; do
  # shellcheck disable=SC2086
  result[init,$what]=$(median ${result[init,$what]})
done

# 6. The other shells, interactive under a pseudo-terminal (bench/prompts.py):
# the time from Enter to the next prompt, in the project, per tool, less
# the shell's own (no hook). mise has hooks for nushell, xonsh and elvish,
# direnv for tcsh (its elvish hook, 2.32's, does not compile in elvish
# 0.19, which says `catch` where it says `except`).
other_shells=(nu xonsh elvish tcsh)
nu_bin=${BENCH_NU:-$repo/target/tools/nu-0.115.1/nu}
xonsh_bin=${BENCH_XONSH:-$repo/target/tools/xonsh-0.25.0/bin/xonsh}
if [ ! -x "$nu_bin" ] || [ ! -x "$xonsh_bin" ]; then
  echo "bench: no nushell or xonsh in target/tools; run \`bash scripts/test.sh\` once, which fetches them" >&2
  exit 1
fi
clean pyve hook nu >"$work/hook.nu"
clean mise activate nu >"$work/mise.nu"
# (An older pyve may have no hook for these shells: none is measured.)
supports() { # shell tool
  case $1:$2 in
    *:pyve | *:none | nu:mise | xonsh:mise | elvish:mise | tcsh:direnv) return 0 ;;
    *) return 1 ;;
  esac
}
other_argv() { # shell: sets `argv`, the interactive shell, its prompt `P> `
  case $1 in
    nu) argv=("$nu_bin" -n --no-history -e "\$env.PROMPT_COMMAND = {|| 'P> ' }; \$env.PROMPT_INDICATOR = ''; \$env.PROMPT_COMMAND_RIGHT = ''") ;;
    xonsh) argv=("$xonsh_bin" --no-rc -i --shell-type readline '-DPROMPT=P> ' -DRIGHT_PROMPT=) ;;
    elvish) argv=(elvish -norc) ;;
    tcsh) argv=(tcsh -f -i) ;;
  esac
}
other_setup() { # shell tool: the lines typed before the Enters
  local sh=$1 tool=$2 exe
  exe=$(pyve_named "$tool")
  case $sh in
    elvish) echo "set edit:prompt = { put 'P> ' }; set edit:rprompt = { }" ;;
    tcsh) echo "unset edit; set prompt = 'P> '" ;;
  esac
  case $sh:$tool in
    nu:pyve) echo "source $work/hook.nu" ;;
    nu:mise) echo "use $work/mise.nu" ;;
    xonsh:pyve) echo "execx(\$($exe hook xonsh))" ;;
    xonsh:mise) echo 'execx($(mise activate xonsh))' ;;
    elvish:pyve) echo "eval ($exe hook elvish | slurp)" ;;
    elvish:mise) echo 'var mise: = (ns [&]); eval (mise activate elvish | slurp) &ns=$mise: &on-end={|ns| set mise: = $ns }; mise:activate' ;;
    tcsh:pyve) echo "eval \"\`$exe hook tcsh\`\"" ;;
    tcsh:direnv) echo 'eval `direnv hook tcsh`' ;;
  esac
  echo "cd $work/$tool/project"
}
for _ in $(seq "$rounds"); do
  for sh in "${other_shells[@]}"; do
    for tool in "${tools[@]}" none; do
      supports "$sh" "$tool" || continue
      setup=$work/setup-$sh-$tool
      other_setup "$sh" "$tool" >"$setup"
      other_argv "$sh"
      per=$(cd "$work/$tool/project" && env -i "${clean_env[@]}" "$python" "$repo/bench/prompts.py" "$loops" 'P> ' "$setup" -- "${argv[@]}")
      result[$sh-prompt,$tool]+=" $per"
    done
  done
done
for sh in "${other_shells[@]}"; do
  for tool in "${tools[@]}" none; do
    supports "$sh" "$tool" || continue
    # shellcheck disable=SC2086
    result[$sh-prompt,$tool]=$(median ${result[$sh-prompt,$tool]})
  done
done
# The hook's share of a prompt: the tool's time less the shell's own.
hook_share() { # shell tool
  if supports "$1" "$2"; then
    us "$(awk -v a="${result[$1-prompt,$2]}" -v b="${result[$1-prompt,none]}" 'BEGIN {print a - b}')"
  else
    echo "(no hook)"
  fi
}

# --- the table ----------------------------------------------------------
size() { stat -L -c %s "$1" | awk '{printf "%.1f MB", $1 / 1000000}'; }
{
  echo "pyve $("$bin/pyve" --version | awk '{print $2}'), direnv $(clean direnv version), mise $mise_version, $(uname -m), $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), Linux $(uname -r); medians of $rounds alternating rounds."
  echo
  # With a baseline: its column after pyve's, and pyve / before last.
  before() { [ -n "${BENCH_BASELINE-}" ] && printf ' %s |' "$1"; }
  echo "| measurement | pyve |$(before 'pyve before') direnv | mise | pyve / direnv | pyve / mise |$(before 'pyve / before') no hook |"
  echo "|---|---|$(before '---')---|---|---|---|$(before '---')---|"
  echo "| engine call, nothing to do (after a directory change) | $(ms "${result[engine,pyve]}") |$(before "$(ms "${result[engine,base]-0}")") $(ms "${result[engine,direnv]}") | $(ms "${result[engine,mise]}") | $(ratio "${result[engine,pyve]}" "${result[engine,direnv]}") | $(ratio "${result[engine,pyve]}" "${result[engine,mise]}") |$(before "$(ratio "${result[engine,pyve]}" "${result[engine,base]-0}")") |"
  echo "| its syscalls (strace -f -c) | ${result[engine-sys,pyve]} |$(before "${result[engine-sys,base]-}") ${result[engine-sys,direnv]} | ${result[engine-sys,mise]} | | |$(before '') |"
  echo "| its peak memory | ${result[engine-rss,pyve]} KiB |$(before "${result[engine-rss,base]-} KiB") ${result[engine-rss,direnv]} KiB | ${result[engine-rss,mise]} KiB | | |$(before '') |"
  echo "| engine call, nothing to do, project with 2 variables and a 3-line .env | $(ms "${result[engine-vars,pyve]}") |$(before "$(ms "${result[engine-vars,base]-0}")") $(ms "${result[engine-vars,direnv]}") | $(ms "${result[engine-vars,mise]}") | $(ratio "${result[engine-vars,pyve]}" "${result[engine-vars,direnv]}") | $(ratio "${result[engine-vars,pyve]}" "${result[engine-vars,mise]}") |$(before "$(ratio "${result[engine-vars,pyve]}" "${result[engine-vars,base]-0}")") |"
  echo "| its syscalls | ${result[engine-vars-sys,pyve]} |$(before "${result[engine-vars-sys,base]-}") ${result[engine-vars-sys,direnv]} | ${result[engine-vars-sys,mise]} | | |$(before '') |"
  for sh in bash zsh fish; do
    for scenario in enter switch leave venter; do
      case $scenario in
        enter) label="$sh prompt, bare Enter in the project" ;;
        venter) label="$sh prompt, bare Enter, project with variables and .env" ;;
        switch) label="$sh prompt, between two directories of the project" ;;
        leave) label="$sh prompt, leaving and entering the project" ;;
      esac
      echo "| $label | $(us "${result[$sh-$scenario,pyve]}") |$(before "$(us "${result[$sh-$scenario,base]-0}")") $(us "${result[$sh-$scenario,direnv]}") | $(us "${result[$sh-$scenario,mise]}") | $(ratio "${result[$sh-$scenario,pyve]}" "${result[$sh-$scenario,direnv]}") | $(ratio "${result[$sh-$scenario,pyve]}" "${result[$sh-$scenario,mise]}") |$(before "$(ratio "${result[$sh-$scenario,pyve]}" "${result[$sh-$scenario,base]-0}")") $(us "${result[$sh-$scenario,none]}") |"
    done
  done
  echo "| binary size | $(size "$bin/pyve") |$(before "$(size "$bin/pyve-base" 2>/dev/null)") $(size "$bin/direnv") | $(size "$bin/mise") | | |$(before '') |"
  echo
  echo "| command | median | against |"
  echo "|---|---|---|"
  if [ -n "${result[engine,hello]-}" ]; then
    echo "| \`fn main() {}\`, static (musl): the floor for any program | $(ms "${result[engine,hello]}") | pyve's engine call, nothing to do / it: $(ratio "${result[engine,pyve]}" "${result[engine,hello]}") |"
  fi
  echo "| \`.venv/bin/python -c pass\` | $(ms "${result[run,direct]}") | |"
  echo "| \`pyve run python -c pass\` | $(ms "${result[run,pyve]}") | overhead $(ms "$(awk -v a="${result[run,pyve]}" -v b="${result[run,direct]}" 'BEGIN {print a - b}')"); ${result[run-sys,pyve]} syscalls and ${result[run-rss,pyve]} KiB peak for \`pyve run true\` |"
  if [ -n "${BENCH_BASELINE-}" ]; then
    echo "| \`pyve run python -c pass\`, pyve before | $(ms "${result[run,base]}") | overhead $(ms "$(awk -v a="${result[run,base]}" -v b="${result[run,direct]}" 'BEGIN {print a - b}')") |"
  fi
  echo "| \`.venv/bin/noop\` (a copy of /bin/true) | $(ms "${result[noop,direct]}") | |"
  echo "| \`pyve run noop\` | $(ms "${result[noop,pyve]}") | overhead $(ms "$(awk -v a="${result[noop,pyve]}" -v b="${result[noop,direct]}" 'BEGIN {print a - b}')") |"
  if [ -n "${BENCH_BASELINE-}" ]; then
    echo "| \`pyve run noop\`, pyve before | $(ms "${result[noop,base]}") | overhead $(ms "$(awk -v a="${result[noop,base]}" -v b="${result[noop,direct]}" 'BEGIN {print a - b}')") |"
  fi
  echo "| \`direnv exec . python -c pass\` | $(ms "${result[run,direnv]}") | pyve run / direnv exec $(ratio "${result[run,pyve]}" "${result[run,direnv]}") |"
  echo "| \`mise exec -- python -c pass\` | $(ms "${result[run,mise]}") | pyve run / mise exec $(ratio "${result[run,pyve]}" "${result[run,mise]}") |"
  echo "| \`python -m venv .venv\` | $(ms "${result[init,stdlib]}") | |"
  echo "| \`uv venv .venv\` | $(ms "${result[init,uv]}") | |"
  echo "| \`pyve init\` (uv, \`venv.pip: false\`, config, .gitignore, approval) | $(ms "${result[init,pyve]}") | pyve init / uv venv $(ratio "${result[init,pyve]}" "${result[init,uv]}") |"
  echo
  echo "Interactive, under a pseudo-terminal (bench/prompts.py): a bare Enter in the project, the hook's share of a prompt (the time from Enter to the next prompt, less the same shell's with no hook)."
  echo
  echo "| shell | pyve | direnv | mise | the shell's own prompt |"
  echo "|---|---|---|---|---|"
  for sh in "${other_shells[@]}"; do
    echo "| $sh | $(hook_share "$sh" pyve) | $(hook_share "$sh" direnv) | $(hook_share "$sh" mise) | $(us "${result[$sh-prompt,none]}") |"
  done
} | tee "$out_dir/results.md"
