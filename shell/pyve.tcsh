# pyve prompt hook for tcsh. Install with this line in ~/.tcshrc:
#   eval "`pyve hook tcsh`"
# `pyve hook tcsh` prints this file as one line (comments and blank lines
# dropped, commands joined by `;`), so one `eval` defines it, with
# `set __pyve_exe = '<absolute path of pyve>'` in front. Every command
# here is therefore one simple command or a one-line `if`: tcsh's aliases
# hold no blocks or loops.
#
# A bare Enter runs only builtins: the directory is compared with the one
# the engine last handled, and `__pyve_newer`, which each engine run
# redefines as one `if` over the `-M` times (seconds) of the paths it
# watches and its stamp, runs the engine when one is as new as the stamp.
# A change of directory runs the engine (tcsh cannot walk up to the
# project's root without a loop). The engine writes its output to a file
# in its private runtime directory and prints that file's name after its
# mark; the hook sources it. (Command substitution splits words, so the
# name is read back as the words after the mark, joined by one space.)
#
# Tells pyve's commands (init, doctor) started from this shell that it
# runs the hook: this shell's process id, which they compare with their
# parent's.
setenv PYVE_HOOK $$
# Forgotten when sourced again, so the next prompt runs the engine.
set __pyve_pwd = ''
if ( ! $?__pyve_stamp ) set __pyve_stamp = ''
if ( ! $?__pyve_diagnosed ) set __pyve_diagnosed = ''
if ( ! $?__pyve_root ) set __pyve_root = ''
alias __pyve_newer :
# One line per session; the directory is marked done so a broken binary is
# not retried at every Enter.
alias __pyve_fail 'set __pyve_pwd = $cwd:q; if ( ! $?__pyve_failed ) echo $__pyve_msg:q > /dev/stderr; set __pyve_failed'
# Runs the engine and sources what it wrote. The directory is handled
# until the output says otherwise, so a failed run is not retried until
# the next change of directory. `__pyve_again`: the output asks for one
# more run (after deactivation scripts).
alias __pyve_go 'unset __pyve_again; set __pyve_pwd = $cwd:q; alias __pyve_newer :; set __pyve_out = ( `$__pyve_exe:q _engine tcsh $cwd:q "$__pyve_stamp" "$__pyve_diagnosed" $$` ); set __pyve_code = $status; set __pyve_msg = "pyve: hook engine failed (exit $__pyve_code); environment left unchanged"; if ( $__pyve_code != 0 ) eval __pyve_fail; set __pyve_msg = "pyve: hook engine failed (its output is not pyve'\''s: $__pyve_exe is not the pyve engine); environment left unchanged"; if ( $__pyve_code == 0 && "$__pyve_out" !~ "#pyve-engine /*" ) eval __pyve_fail; if ( $__pyve_code == 0 && "$__pyve_out" =~ "#pyve-engine /*" ) source "$__pyve_out[2-]"'
alias __pyve_run 'set __pyve_ran; if ( -x $__pyve_exe:q ) eval __pyve_go; set __pyve_msg = "pyve: hook disabled: $__pyve_exe is missing or not executable; reinstall pyve or remove the hook from ~/.tcshrc"; if ( ! -x $__pyve_exe:q ) eval __pyve_fail; if ( $?__pyve_again ) eval __pyve_go'
# Before each prompt; the last command's status is put back after. (An
# alias after `if ( … )` is not expanded: `eval` runs it.)
alias __pyve_hook 'set __pyve_status = $status; unset __pyve_ran; if ( $cwd:q != $__pyve_pwd:q ) eval __pyve_run; if ( ! $?__pyve_ran ) eval __pyve_newer; set status = $__pyve_status'
# The prefix ($__pyve_args[1], already escaped for a prompt; empty: none).
# Compare and swap: the prompt pyve set is given back only while it is
# still the prompt; one the user set since is left alone.
alias __pyve_prompt_swap 'if ( $prompt:q == $__pyve_ps1_set:q ) set prompt = $__pyve_ps1_orig:q'
alias __pyve_prompt_off 'if ( $?prompt ) eval __pyve_prompt_swap; unset __pyve_ps1_set'
alias __pyve_prompt_on 'if ( ! $?prompt ) set prompt = ""; set __pyve_ps1_orig = $prompt:q; set prompt = "$__pyve_args[1] "$prompt:q; set __pyve_ps1_set = $prompt:q'
alias __pyve_prompt 'if ( $?__pyve_ps1_set ) eval __pyve_prompt_off; if ( "$__pyve_args[1]" != "" && ! $?VIRTUAL_ENV_DISABLE_PROMPT ) eval __pyve_prompt_on'
# `pyve use NAME` chooses an environment for this shell only, which no
# child process can do: the binary checks the name and prints what
# PYVE_USE becomes (`--for-hook`); nothing it prints is evaluated. Every
# other command goes to the binary as typed (`\pyve`: not this alias),
# and so does `pyve use --help`, whose text the capture would have joined.
alias __pyve_use_set 'set __pyve_value = "$__pyve_value:s/#pyve-use://"; if ( "$__pyve_value" != "" ) setenv PYVE_USE "$__pyve_value"; if ( "$__pyve_value" == "" ) unsetenv PYVE_USE; set __pyve_pwd = ""; set __pyve_root = ""'
alias __pyve_use 'set __pyve_value = ( `$__pyve_exe:q use --for-hook $__pyve_args[3-]:q` ); if ( $status == 0 && "$__pyve_value" =~ "#pyve-use:*" ) eval __pyve_use_set; if ( "$__pyve_value" !~ "#pyve-use:*" && "$__pyve_value" != "" ) \pyve $__pyve_args[2-]:q'
alias pyve 'set __pyve_args = ( x \!* ); if ( "$__pyve_args[2-]" == use || "$__pyve_args[2-]" =~ "use *" ) eval __pyve_use; if ( "$__pyve_args[2-]" != use && "$__pyve_args[2-]" !~ "use *" ) \pyve \!*'
# Registered once: appended to the user's own precmd alias.
if ( "`alias precmd`" == "" ) alias precmd __pyve_hook
if ( "`alias precmd`" !~ *__pyve_hook* ) alias precmd "`alias precmd`; __pyve_hook"
