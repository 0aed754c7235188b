# pyve prompt hook for elvish. Install with this line in
# ~/.config/elvish/rc.elv:
#   eval (pyve hook elvish | slurp)
# `pyve hook elvish` puts `var __pyve_exe = "<absolute path of pyve>"`
# above this text. The engine's output is elvish code that calls only
# `set-env`, `unset-env` and the functions in `$__pyve_ns` below; every
# value in it is a double-quoted string with its bytes escaped, and elvish
# strings do not expand anything.
#
# elvish has no builtin that reads a file's modification time, so a bare
# Enter that has paths to watch runs one `test` (the system's, found once)
# over all of them; a change of directory runs the engine. Both are one
# process. elvish has no exit status variable to keep: a failing command
# raises an exception, which the hook never sees.

use path
use str

var __pyve = [
  &__pyve_pwd=''
  &__pyve_root=''
  &__pyve_stamp=''
  &__pyve_diagnosed=''
  &__pyve_newer=[]
  &failed=$false
  &text=''
  &var=''
  &env=''
]
var __pyve_test = (search-external test)

# Tells pyve's commands (init, doctor) started from this shell that it
# runs the hook: this shell's process id, which they compare with their
# parent's.
set-env PYVE_HOOK $pid

# Whether `f` is a closure whose source holds `marker` (a builtin has no
# source to look at).
fn __pyve_has {|f marker|
  try {
    str:contains $f[body] $marker
  } catch {
    put $false
  }
}

fn __pyve_fail {|message|
  set __pyve[__pyve_pwd] = $pwd
  if (not $__pyve[failed]) {
    set __pyve[failed] = $true
    echo $message >&2
  }
}

# The functions the engine's output calls: the namespace it runs in (set
# below, once they are defined).
var __pyve_ns = $nil

fn __pyve_run {
  if (not (path:is-regular &follow-symlink=$true $__pyve_exe)) {
    __pyve_fail 'pyve: hook disabled: '$__pyve_exe' is missing or not executable; reinstall pyve or remove the hook from rc.elv'
    return
  }
  # Handled, until the output says otherwise: a failed run is not retried
  # until the next change of directory.
  var handled = $__pyve[__pyve_pwd]
  set __pyve[__pyve_pwd] = $pwd
  set __pyve[__pyve_newer] = []
  var out = ''
  try {
    set out = ((external $__pyve_exe) _engine elvish $pwd $__pyve[__pyve_stamp] $__pyve[__pyve_diagnosed] $pid | slurp)
  } catch error {
    var reason = (repr $error[reason])
    if (has-key $error[reason] exit-status) {
      set reason = 'exit '$error[reason][exit-status]
    }
    __pyve_fail 'pyve: hook engine failed ('$reason'); environment left unchanged'
    return
  }
  if (not (str:has-prefix $out "#pyve-engine\n")) {
    __pyve_fail 'pyve: hook engine failed (its output is not pyve''s: '$__pyve_exe' is not the pyve engine); environment left unchanged'
    return
  }
  set __pyve[__pyve_pwd] = $handled
  eval $out &ns=$__pyve_ns
}

# The prefix for the project (empty: none), shown while the variable named
# by the second argument holds the third: the environment is still the one
# active. The prompt is wrapped while there is a prefix and unwrapped when
# there is none, compare and swap: only while it is still pyve's wrapper;
# a prompt the user set since is left alone.
fn __pyve_prompt {|text @rest|
  set __pyve[text] = $text
  set __pyve[var] = (if (> (count $rest) 0) { put $rest[0] } else { put '' })
  set __pyve[env] = (if (> (count $rest) 1) { put $rest[1] } else { put '' })
  var ours = (__pyve_has $edit:prompt 'pyve-prompt-wrapper')
  if (eq $text '') {
    if (and $ours (has-key $__pyve orig-prompt)) {
      set edit:prompt = $__pyve[orig-prompt]
    }
    return
  }
  if $ours {
    return
  }
  set __pyve[orig-prompt] = $edit:prompt
  set edit:prompt = {
    # The mark that tells pyve's wrapper from a prompt set since (a
    # comment is not part of a function's body).
    nop pyve-prompt-wrapper
    var shown = (and (not-eq $__pyve[text] '') ^
      (or (not (has-env VIRTUAL_ENV_DISABLE_PROMPT)) (eq (get-env VIRTUAL_ENV_DISABLE_PROMPT) '')) ^
      (or (eq $__pyve[var] '') (and (has-env $__pyve[var]) (eq (get-env $__pyve[var]) $__pyve[env]))))
    if $shown {
      put $__pyve[text]' '
    }
    $__pyve[orig-prompt]
  }
}

# Each name the engine sets is one of `$__pyve`'s keys.
set __pyve_ns = (ns [
  &__pyve_set~={|name value| set __pyve[$name] = $value }
  &__pyve_prompt~=$__pyve_prompt~
  &__pyve_run~=$__pyve_run~
])

# Runs before each prompt (below). The same directory with nothing newer than the
# stamp changes nothing.
fn __pyve_hook {
  if (not-eq $pwd $__pyve[__pyve_pwd]) {
    __pyve_run
    return
  }
  if (or (eq $__pyve[__pyve_stamp] '') (== (count $__pyve[__pyve_newer]) 0)) {
    return
  }
  var args = [(for p $__pyve[__pyve_newer] { put -o $p -nt $__pyve[__pyve_stamp] })]
  if ?((external $__pyve_test) -n '' $@args) {
    __pyve_run
  }
}

# Before each prompt. (elvish draws the prompt's last text first and
# redraws it once the prompt function returns, as it does for any prompt.)
set edit:before-readline = [(
  for hook $edit:before-readline {
    if (not (__pyve_has $hook '__pyve_hook')) {
      put $hook
    }
  }
) { __pyve_hook }]

# `pyve use NAME` chooses an environment for this shell only, which no
# child process can do: the binary checks the name and prints what
# PYVE_USE becomes (`--for-hook`); nothing it prints is evaluated. Every
# other command goes to the binary as typed.
edit:add-var pyve~ {|@args|
  if (or (== (count $args) 0) (not-eq $args[0] use)) {
    e:pyve $@args
    return
  }
  var rest = $args[1..]
  var value = ((external $__pyve_exe) use --for-hook $@rest | slurp)
  set value = (str:trim-suffix $value "\n")
  if (not (str:has-prefix $value '#pyve-use:')) {
    # Help text, not a choice.
    if (not-eq $value '') {
      echo $value
    }
    return
  }
  set value = (str:trim-prefix $value '#pyve-use:')
  if (not-eq $value '') {
    set-env PYVE_USE $value
  } else {
    unset-env PYVE_USE
  }
  set __pyve[__pyve_pwd] = ''
  set __pyve[__pyve_root] = ''
}
