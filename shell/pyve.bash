# shellcheck shell=bash
# pyve prompt hook for bash. Install with this line in ~/.bashrc:
#   eval "$(pyve hook bash)"
# `pyve hook bash` puts `__pyve_exe=<absolute path of pyve>` above this text.
# Builtins are called as `\builtin` so user aliases and functions of the same
# name cannot interfere. Sourcing this twice registers nothing twice.

# Set by the engine's output; defaults keep `set -u` shells quiet.
: "${__pyve_stamp=}" "${__pyve_pwd=}" "${__pyve_root=}"
# Tells pyve's commands (init, doctor) started from this shell that it
# runs the hook, so they do not advise installing it: this shell's process
# id, which they compare with their parent's (a child shell without the
# hook inherits the variable, not the id).
# shellcheck disable=SC2034 # read by pyve's commands, not by this script
\builtin export PYVE_HOOK=$$
# Whether a watched path is newer than the stamp: each engine run redefines
# it as one `[[ P -nt S || … ]]` over the paths it watches. Never, until the
# engine has run (kept when this script is sourced again). Sourced over an
# older pyve's script, the directory is forgotten, so the next prompt runs
# the engine and the check is made.
if ! \builtin declare -F __pyve_newer >/dev/null; then
  function __pyve_newer { \builtin return 1; }
  __pyve_pwd=''
  __pyve_between=()
fi

# Runs at every prompt. The common case (same directory, no watched file
# newer than the stamp) is decided with builtins and starts no process.
# Its variables are globals: `local` here cost a sixth of the hook's time,
# and bash never runs this inside itself (`__pyve_run` keeps its own
# `__pyve_status` all the same).
__pyve_hook() {
  __pyve_status=$?
  # A new directory runs the engine, unless it is another directory of the
  # project the engine last found, with no project of its own in between:
  # that changes nothing, and takes the watch check below like a bare Enter.
  if [[ $PWD != "${__pyve_pwd-}" ]] && ! __pyve_inside; then
    __pyve_run
  elif __pyve_newer; then
    __pyve_run
  else
    for __pyve_file in ${__pyve_between[@]+"${__pyve_between[@]}"}; do
      if [[ $__pyve_file -nt $__pyve_stamp ]]; then
        __pyve_run
        break
      fi
    done
  fi
  # Inside a project, one test: the variable that says its environment
  # is active (VIRTUAL_ENV, CONDA_PREFIX) still holds what it held at the
  # last look; after a manual `deactivate` it does not.
  if [[ -n ${__pyve_ps1_var-} && ${!__pyve_ps1_var-} != "$__pyve_ps1_seen" ]]; then
    __pyve_prompt_follow
  fi
  # While a prefix is shown, one test for the common case: a
  # PROMPT_COMMAND that rebuilds PS1 (git-prompt) dropped it, or it was
  # made for the prompt options of that moment (`__pyve_ps1_opts`).
  if [[ -n ${__pyve_ps1_text-} && ( ${PS1-} != "$__pyve_ps1_ins"* || -n ${__pyve_ps1_opts-} ) ]]; then
    __pyve_prompt_check
  fi
  # Under `set -e` a non-zero status here would end the interactive shell
  # (bash applies errexit to PROMPT_COMMAND): then it is not passed on.
  [[ $- == *e* ]] && \builtin return 0
  \builtin return "$__pyve_status"
}

__pyve_run() {
  if [[ ! -x ${__pyve_exe-} ]]; then
    __pyve_fail "pyve: hook disabled: ${__pyve_exe-pyve} is missing or not executable; reinstall pyve or remove the hook from ~/.bashrc"
    \builtin return
  fi
  \builtin local __pyve_out __pyve_code=0 __pyve_traps __pyve_status
  # Handled, until the output says otherwise: when Ctrl-C kills an engine
  # that hangs, bash abandons PROMPT_COMMAND and runs it again at once;
  # this directory then takes the fast path instead of starting the engine
  # again, until the next change of directory.
  __pyve_pwd=$PWD
  # Nothing watched until the output says what (a failed run watches nothing).
  # shellcheck disable=SC2317 # called by __pyve_hook
  function __pyve_newer { \builtin return 1; }
  __pyve_between=()
  # `trap -p` inside the substitution still lists this shell's traps, and
  # bash execs the engine in place, so this costs one process in all.
  # `|| …`: under `set -e`, a failing assignment would end the shell.
  __pyve_out=$(
    \builtin trap -p INT
    "$__pyve_exe" _engine bash "$PWD" "${__pyve_stamp-}" "${__pyve_diagnosed-}" "$$"
  ) || __pyve_code=$?
  if ((__pyve_code != 0)); then
    # Killed by a signal (Ctrl-C): nothing was applied, and the directory
    # stays handled (above).
    ((__pyve_code > 128)) && \builtin return
    __pyve_fail "pyve: hook engine failed (exit $__pyve_code); environment left unchanged"
    \builtin return
  fi
  if [[ $__pyve_out != *"#pyve-engine"$'\n'* ]]; then
    __pyve_fail "pyve: hook engine failed (its output is not pyve's: ${__pyve_exe} is not the pyve engine); environment left unchanged"
    \builtin return
  fi
  __pyve_traps=${__pyve_out%%"#pyve-engine"$'\n'*}
  # Ctrl-C while applying must leave the old or the new environment, not a
  # mix: ignore INT for the eval, then restore the user's own INT trap.
  \builtin trap -- '' INT
  __pyve_scripts=()
  \builtin eval "${__pyve_out#*"#pyve-engine"$'\n'}"
  if [[ -n $__pyve_traps ]]; then
    \builtin eval "$__pyve_traps"
  else
    \builtin trap - INT
  fi
  # The environment's activation scripts, after: the user's code, which
  # Ctrl-C must be able to stop.
  \builtin local __pyve_script
  for __pyve_script in ${__pyve_scripts[@]+"${__pyve_scripts[@]}"}; do
    # `|| :`: a failing script must not end a `set -e` shell.
    \builtin . "$__pyve_script" || :
  done
  __pyve_scripts=()
}

# Whether $PWD, under the project root the engine last found
# (`__pyve_root`), has no project of its own between them: a `.pyve/config`
# (any kind of entry, as the engine counts it) makes a nested project, which
# the engine must handle, and a `pyproject.toml` or `.venv` may. The directories walked, and a `.pyve` in one,
# join the watch list (`__pyve_between`), so a project made in one of them
# later is noticed at the next prompt. Without a stamp nothing is watched
# (every path would be newer than none).
__pyve_inside() {
  [[ -n $__pyve_root && $PWD/ == "$__pyve_root"/* ]] || \builtin return 1
  __pyve_between=()
  __pyve_dir=$PWD
  while [[ $__pyve_dir != "$__pyve_root" ]]; do
    [[ -z $__pyve_dir || $__pyve_dir == / ]] && \builtin return 1
    [[ -e $__pyve_dir/.pyve/config || -L $__pyve_dir/.pyve/config ]] && \builtin return 1
    # A pyproject.toml (its [tool.pyve]) or a .venv (a project pyve finds
    # without settings) may make one too: the engine decides.
    [[ -e $__pyve_dir/pyproject.toml || -e $__pyve_dir/.venv ]] && \builtin return 1
    if [[ -n $__pyve_stamp ]]; then
      __pyve_between+=("$__pyve_dir")
      [[ -e $__pyve_dir/.pyve || -L $__pyve_dir/.pyve ]] && __pyve_between+=("$__pyve_dir/.pyve")
    fi
    __pyve_dir=${__pyve_dir%/*}
  done
  __pyve_pwd=$PWD
}

# One line per session; the directory is marked done so a broken binary is
# not retried at every Enter.
__pyve_fail() {
  __pyve_pwd=$PWD
  if [[ -z ${__pyve_failed-} ]]; then
    __pyve_failed=1
    \builtin printf '%s\n' "$1" >&2
  fi
}

# The engine's prefix for the project ($1, empty: none), shown while the
# variable named $2 holds $3: the environment is still the one active.
__pyve_prompt() {
  __pyve_ps1_want=$1
  __pyve_ps1_var=${2-}
  __pyve_ps1_env=${3-}
  __pyve_prompt_follow
}

# Puts the prefix in front of PS1 while the environment is active, or takes
# it away. Compare and swap: only the text pyve inserted is removed, and
# only while PS1 still holds it. With promptvars on, PS1 gets a reference
# to a variable rather than the text, so nothing in a project's name can
# expand or run.
__pyve_prompt_follow() {
  # Quoted: through `\builtin`, `local` takes plain words, split and globbed.
  \builtin local __pyve_text="$__pyve_ps1_want"
  __pyve_ps1_seen=
  if [[ -n $__pyve_ps1_var ]]; then
    __pyve_ps1_seen=${!__pyve_ps1_var-}
    [[ $__pyve_ps1_seen == "$__pyve_ps1_env" ]] || __pyve_text=
  fi
  if [[ -n ${VIRTUAL_ENV_DISABLE_PROMPT-} ]]; then
    __pyve_text=
  fi
  [[ $__pyve_text == "${__pyve_ps1_text-}" ]] && \builtin return 0
  __pyve_ps1_text=$__pyve_text
  __pyve_prompt_put
}

# Makes the prefix again if PS1 lost it, or if it was made for prompt
# options that have changed since.
__pyve_prompt_check() {
  if [[ ${PS1-} != "$__pyve_ps1_ins"* ]]; then
    __pyve_prompt_put
  elif \builtin shopt -q promptvars || \builtin shopt -qo posix; then
    [[ ${__pyve_ps1_opts-} == 'expand' ]] || __pyve_prompt_put
  else
    [[ ${__pyve_ps1_opts-} == none ]] || __pyve_prompt_put
  fi
}

# Takes out what was inserted, then inserts `__pyve_ps1_text` in front.
# Text without `$`, backquotes, quotes, `\` or `!` reads the same with
# promptvars on or off and in POSIX mode, so it goes in as is and no prompt
# needs to look at the options. Other text goes in as PS1 is expanded now:
# where it is (promptvars, or POSIX mode, which expands PS1 even without
# promptvars), a reference to a variable, so nothing in a project's name
# can expand or run; else the text, its backslashes doubled. Either is
# noted in `__pyve_ps1_opts`, so that each prompt makes it again when
# those options change. What was inserted is taken out wherever it is
# now (another hook may have put text in front), so two hooks that both
# want to be first cannot grow PS1.
__pyve_prompt_put() {
  if [[ -n ${__pyve_ps1_ins-} && ${PS1-} == *"$__pyve_ps1_ins"* ]]; then
    PS1=${PS1/"$__pyve_ps1_ins"/}
  fi
  __pyve_ps1_ins=
  __pyve_ps1_opts=
  if [[ -n ${__pyve_ps1_text-} ]]; then
    if [[ $__pyve_ps1_text != *[\$\`\\\'\"!]* ]]; then
      __pyve_ps1_ins="$__pyve_ps1_text "
    elif \builtin shopt -q promptvars || \builtin shopt -qo posix; then
      __pyve_ps1_val="$__pyve_ps1_text "
      # shellcheck disable=SC2016 # the reference is expanded at prompt time
      __pyve_ps1_ins='${__pyve_ps1_val}'
      __pyve_ps1_opts='expand'
    else
      __pyve_ps1_ins="${__pyve_ps1_text//\\/\\\\} "
      __pyve_ps1_opts=none
    fi
    PS1=$__pyve_ps1_ins${PS1-}
  fi
}

# `pyve use NAME` chooses an environment for this shell only, which no
# child process can do: this function runs the binary with `--for-hook`
# (it checks the name and prints what PYVE_USE becomes), sets PYVE_USE,
# and has the next prompt run the engine. Nothing it prints is evaluated.
# Every other command goes to the binary as typed. `function` form: an
# alias named pyve cannot break the definition.
function pyve {
  if [[ ${1-} != use ]]; then
    \command pyve "$@"
    \builtin return
  fi
  \builtin shift
  \builtin local __pyve_value
  __pyve_value=$("$__pyve_exe" use --for-hook "$@") || \builtin return
  if [[ $__pyve_value != '#pyve-use:'* ]]; then
    # Help text, not a choice.
    [[ -z $__pyve_value ]] || \builtin printf '%s\n' "$__pyve_value"
    \builtin return 0
  fi
  __pyve_value=${__pyve_value#'#pyve-use:'}
  if [[ -n $__pyve_value ]]; then
    # shellcheck disable=SC2034 # read by the engine, a child process
    \builtin export PYVE_USE="$__pyve_value"
  else
    \builtin unset -v PYVE_USE
  fi
  __pyve_pwd=''
  __pyve_root=''
}

__pyve_register() {
  \builtin local __pyve_entry
  # With bash-preexec, hooks belong in precmd_functions; it owns PROMPT_COMMAND.
  if [[ -n ${bash_preexec_imported-}${__bp_imported-} ]]; then
    for __pyve_entry in ${precmd_functions[@]+"${precmd_functions[@]}"}; do
      [[ $__pyve_entry == __pyve_hook ]] && \builtin return 0
    done
    precmd_functions+=(__pyve_hook)
    \builtin return 0
  fi
  # `-v` first: under `set -u`, an unset PROMPT_COMMAND cannot be expanded.
  if [[ -v PROMPT_COMMAND && ${PROMPT_COMMAND@a} == *a* ]]; then
    for __pyve_entry in "${PROMPT_COMMAND[@]}"; do
      [[ $__pyve_entry == __pyve_hook ]] && \builtin return 0
    done
    PROMPT_COMMAND+=(__pyve_hook)
  else
    # A word of its own, between newlines, `;` or blanks
    # (`history -a; __pyve_hook`), counts as registered.
    __pyve_entry=$'\n'${PROMPT_COMMAND-}$'\n'
    if [[ ${__pyve_entry//[[:blank:]]/$'\n'} != *[$'\n;']__pyve_hook[$'\n;']* ]]; then
      # Appended last, so hooks before it (starship, history) see the real $?.
      # shellcheck disable=SC2178,SC2128 # the string form of PROMPT_COMMAND
      PROMPT_COMMAND=${PROMPT_COMMAND:+${PROMPT_COMMAND}$'\n'}__pyve_hook
    fi
  fi
}
__pyve_register
