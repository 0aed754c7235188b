# pyve prompt hook for zsh. Install with this line in ~/.zshrc:
#   eval "$(pyve hook zsh)"
# `pyve hook zsh` puts `__pyve_exe=<absolute path of pyve>` above this text.
# shellcheck has no zsh mode; this file is checked with `zsh -n` in the tests.
# Builtins are called as `\builtin` so aliases cannot interfere, and each
# function runs under `emulate -L zsh` so user options cannot either.

\builtin typeset -g __pyve_pwd __pyve_stamp __pyve_diagnosed __pyve_failed __pyve_root
\builtin typeset -g __pyve_ps1_text __pyve_ps1_ins __pyve_ps1_val __pyve_ps1_opts
\builtin typeset -g __pyve_ps1_want __pyve_ps1_var __pyve_ps1_env __pyve_ps1_seen
\builtin typeset -ga __pyve_scripts __pyve_between __pyve_watch
# Whether a watched path is newer than the stamp: each engine run redefines
# it as one `[[ P -nt S || … ]]` over the paths it watches. Never, until the
# engine has run (kept when this script is sourced again). Sourced over an
# older pyve's script, the directory is forgotten, so the next prompt runs
# the engine and the check is made. (`__pyve_watch` is that script's list,
# which the engine still writes for shells that run it.)
if ! \builtin typeset -f __pyve_newer >/dev/null 2>&1; then
  function __pyve_newer { \builtin return 1; }
  __pyve_pwd=''
  __pyve_between=()
fi
# Tells pyve's commands (init, doctor) started from this shell that it
# runs the hook, so they do not advise installing it: this shell's process
# id, which they compare with their parent's (a child shell without the
# hook inherits the variable, not the id).
\builtin export PYVE_HOOK=$$

# precmd and chpwd (through __pyve_chpwd) both call this; after a `cd` the
# chpwd call has already recorded the new directory, so the precmd call
# takes the fast path.
__pyve_hook() {
  # zsh saves $pipestatus around hook functions itself; $? is returned.
  # No `emulate` here: this fast path is all quoted tests on declared
  # globals, which no user option changes, and it runs at every prompt.
  # Its own variables are local: assigned as globals, WARN_NESTED_VAR
  # would warn at every prompt.
  \builtin local __pyve_status=$? __pyve_file
  # A new directory runs the engine, unless it is another directory of the
  # project the engine last found, with no project of its own in between:
  # that changes nothing, and takes the watch check below like a bare Enter.
  if [[ $PWD != "$__pyve_pwd" ]] && ! __pyve_inside; then
    __pyve_run
  elif __pyve_newer; then
    __pyve_run
  else
    for __pyve_file in "${__pyve_between[@]}"; do
      if [[ $__pyve_file -nt $__pyve_stamp ]]; then
        __pyve_run
        break
      fi
    done
  fi
  # Inside a project, one test: the variable that says its environment
  # is active (VIRTUAL_ENV, CONDA_PREFIX) still holds what it held at the
  # last look (after a manual `deactivate` it does not). While a prefix is
  # shown, one more for the common case: a precmd that rebuilds PS1
  # dropped it, or it was made for the prompt options of that moment
  # (`__pyve_ps1_opts`).
  if [[ -n $__pyve_ps1_var && ${(P)__pyve_ps1_var-} != "$__pyve_ps1_seen" ]] ||
    [[ -n $__pyve_ps1_text && ( $PS1 != "$__pyve_ps1_ins"* || -n $__pyve_ps1_opts ) ]]; then
    __pyve_prompt_check
  fi
  # Under ERR_EXIT a non-zero status here would end the shell: then it is
  # not passed on.
  [[ -o errexit ]] && \builtin return 0
  \builtin return $__pyve_status
}

__pyve_run() {
  # The prompt options as the user set them, before emulate resets them;
  # __pyve_prompt (called from the engine's output) reads these.
  \builtin local __pyve_subst=0 __pyve_bang=0
  [[ -o promptsubst ]] && __pyve_subst=1
  [[ -o promptbang ]] && __pyve_bang=1
  \builtin emulate -L zsh
  # local_traps: the INT trap set below is undone when this function returns.
  \builtin setopt local_traps
  if [[ ! -x $__pyve_exe ]]; then
    __pyve_fail "pyve: hook disabled: ${__pyve_exe:-pyve} is missing or not executable; reinstall pyve or remove the hook from ~/.zshrc"
    \builtin return
  fi
  \builtin local __pyve_out __pyve_code=0
  # Handled, until the output says otherwise: when Ctrl-C kills an engine
  # that hangs, this directory takes the fast path instead of starting the
  # engine again, until the next change of directory.
  __pyve_pwd=$PWD
  function __pyve_newer { \builtin return 1; }
  __pyve_between=()
  __pyve_out=$("$__pyve_exe" _engine zsh "$PWD" "$__pyve_stamp" "$__pyve_diagnosed" "$$") || __pyve_code=$?
  if (( __pyve_code != 0 )); then
    # Killed by a signal (Ctrl-C): nothing was applied, and the directory
    # stays handled (above).
    (( __pyve_code > 128 )) && \builtin return
    __pyve_fail "pyve: hook engine failed (exit $__pyve_code); environment left unchanged"
    \builtin return
  fi
  if [[ $__pyve_out != "#pyve-engine"$'\n'* ]]; then
    __pyve_fail "pyve: hook engine failed (its output is not pyve's: ${__pyve_exe} is not the pyve engine); environment left unchanged"
    \builtin return
  fi
  # Ctrl-C while applying must leave the old or the new environment.
  \builtin trap '' INT
  __pyve_scripts=()
  \builtin eval "$__pyve_out"
  \builtin trap - INT
  # The environment's activation scripts, after: the user's code, which
  # Ctrl-C must be able to stop.
  \builtin local __pyve_script
  for __pyve_script in "${__pyve_scripts[@]}"; do
    \builtin . "$__pyve_script" || :
  done
  __pyve_scripts=()
}

# Whether $PWD, under the project root the engine last found
# (`__pyve_root`), has no project of its own between them: a `.pyve/config`
# (any kind of entry, as the engine counts it) makes a nested project, which
# the engine must handle. The directories walked, and a `.pyve` in one,
# join the watch list (`__pyve_between`), so a project made in one of them
# later is noticed at the next prompt. Without a stamp nothing is watched
# (a path is never newer than no stamp in zsh, but that is zsh's reading).
__pyve_inside() {
  [[ -n $__pyve_root && $PWD/ == "$__pyve_root"/* ]] || \builtin return 1
  # The user's options off (WARN_NESTED_VAR would warn at these globals);
  # this runs at a directory change only.
  \builtin emulate -L zsh
  \builtin local __pyve_dir=$PWD
  __pyve_between=()
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

__pyve_fail() {
  __pyve_pwd=$PWD
  if [[ -z $__pyve_failed ]]; then
    __pyve_failed=1
    \builtin print -r -- "$1" >&2
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
# it away, compare and swap: only what pyve inserted, only while PS1 still
# holds it. `%` (and `!` under PROMPT_BANG) are doubled; under
# PROMPT_SUBST, PS1 gets a reference to a variable, so nothing in a
# project's name can expand or run.
__pyve_prompt_follow() {
  \builtin local __pyve_text="$__pyve_ps1_want"
  __pyve_ps1_seen=
  if [[ -n $__pyve_ps1_var ]]; then
    __pyve_ps1_seen=${(P)__pyve_ps1_var-}
    [[ $__pyve_ps1_seen == "$__pyve_ps1_env" ]] || __pyve_text=
  fi
  [[ -n ${VIRTUAL_ENV_DISABLE_PROMPT-} ]] && __pyve_text=
  [[ $__pyve_text == "$__pyve_ps1_text" ]] && \builtin return 0
  __pyve_ps1_text=$__pyve_text
  __pyve_prompt_put
}

# Shows or hides the prefix if the environment's variable changed; makes
# it again if PS1 lost it, or if it was made for PROMPT_SUBST / PROMPT_BANG
# settings that have changed since (or is still to be made: `pending`).
__pyve_prompt_check() {
  \builtin local __pyve_subst=0 __pyve_bang=0
  [[ -o promptsubst ]] && __pyve_subst=1
  [[ -o promptbang ]] && __pyve_bang=1
  if [[ -n $__pyve_ps1_var && ${(P)__pyve_ps1_var-} != "$__pyve_ps1_seen" ]]; then
    \builtin emulate -L zsh
    __pyve_prompt_follow
  fi
  if [[ -n $__pyve_ps1_text ]] &&
    [[ $PS1 != "$__pyve_ps1_ins"* || -n $__pyve_ps1_opts && $__pyve_subst$__pyve_bang != "$__pyve_ps1_opts" ]]; then
    \builtin emulate -L zsh
    __pyve_prompt_put
  fi
}

# Takes out what was inserted, then inserts `__pyve_ps1_text` in front, its
# `%` doubled. Text without `$`, backquotes, quotes, `\` or `!` then reads
# the same under any PROMPT_SUBST and PROMPT_BANG, so it goes in as is and
# no prompt needs to look at the options. Other text goes in for the options
# the caller read as the user set them (`__pyve_subst`, `__pyve_bang`): `!`
# doubled under PROMPT_BANG; under PROMPT_SUBST a reference to a variable,
# so nothing in a project's name can expand or run. The options it was made
# for are noted in `__pyve_ps1_opts`, so that each prompt makes it again
# when they change. Text that PROMPT_SUBST would expand is never inserted
# from a chpwd call, whose options may be a function's own (`emulate -LR
# zsh` in a widget that runs `cd`) while a redraw before the next prompt
# uses the user's: it is left `pending` for the next precmd. What was
# inserted is taken out wherever it is now (another hook may have put text
# in front), so two hooks that both want to be first cannot grow PS1.
__pyve_prompt_put() {
  if [[ -n $__pyve_ps1_ins && $PS1 == *"$__pyve_ps1_ins"* ]]; then
    PS1=${PS1/"$__pyve_ps1_ins"/}
  fi
  __pyve_ps1_ins=
  __pyve_ps1_opts=
  if [[ -n $__pyve_ps1_text ]]; then
    \builtin local __pyve_escaped="${__pyve_ps1_text//\%/%%}"
    if [[ $__pyve_escaped != *[\$\`\\\'\"!]* ]]; then
      __pyve_ps1_ins="$__pyve_escaped "
    elif (( ! ${__pyve_subst:-0} )) && [[ -n ${__pyve_in_chpwd-} ]]; then
      __pyve_ps1_opts=pending
      \builtin return 0
    else
      __pyve_ps1_opts=${__pyve_subst:-0}${__pyve_bang:-0}
      (( ${__pyve_bang:-0} )) && __pyve_escaped=${__pyve_escaped//\!/!!}
      if (( ${__pyve_subst:-0} )); then
        __pyve_ps1_val="$__pyve_escaped "
        __pyve_ps1_ins='${__pyve_ps1_val}'
      else
        __pyve_ps1_ins="$__pyve_escaped "
      fi
    fi
    PS1=$__pyve_ps1_ins$PS1
  fi
}

# A directory change seen from chpwd: in the options of whatever ran `cd`.
__pyve_chpwd() {
  \builtin local __pyve_in_chpwd=1
  __pyve_hook
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
  \builtin emulate -L zsh
  \builtin shift
  \builtin local __pyve_value
  __pyve_value=$("$__pyve_exe" use --for-hook "$@") || \builtin return
  if [[ $__pyve_value != '#pyve-use:'* ]]; then
    # Help text, not a choice.
    [[ -z $__pyve_value ]] || \builtin print -r -- "$__pyve_value"
    \builtin return 0
  fi
  __pyve_value=${__pyve_value#'#pyve-use:'}
  if [[ -n $__pyve_value ]]; then
    \builtin export PYVE_USE="$__pyve_value"
  else
    \builtin unset PYVE_USE
  fi
  __pyve_pwd=''
  __pyve_root=''
}

\builtin autoload -Uz add-zsh-hook
# add-zsh-hook does not add a function twice.
add-zsh-hook precmd __pyve_hook
add-zsh-hook -d chpwd __pyve_hook
add-zsh-hook chpwd __pyve_chpwd
