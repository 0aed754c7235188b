# pyve prompt hook for fish. Install with this line in
# ~/.config/fish/config.fish:
#   pyve hook fish | source
# `pyve hook fish` puts `set -g __pyve_exe <absolute path of pyve>` above
# this text. shellcheck has no fish mode; this file is checked with
# `fish --no-execute` in the tests. Redefining a function replaces it and
# its event handlers, so sourcing this twice registers nothing twice.

# Tells pyve's commands (init, doctor) started from this shell that it
# runs the hook, so they do not advise installing it: this shell's process
# id, which they compare with their parent's (a child shell without the
# hook inherits the variable, not the id).
set -gx PYVE_HOOK $fish_pid

# Sourced over an older pyve's script (which kept bare paths in
# __pyve_between and had no __pyve_newer), the directory is forgotten, so
# the next prompt runs the engine and the check is made.
if not set -q __pyve_newer
    set -g __pyve_newer
    set -g __pyve_between
    set -g __pyve_pwd ''
end

# Runs before each prompt and on every directory change. After a `cd`, the
# PWD handler has already recorded the new directory, so the prompt event
# takes the fast path: no process unless a watched file is newer.
function __pyve_hook --on-event fish_prompt --on-variable PWD
    # A new directory runs the engine, unless it is another directory of
    # the project the engine last found, with no project of its own in
    # between: that changes nothing, and takes the watch check below like a
    # bare Enter.
    #
    # The watch check is one `test` over every watched path (`-n ''` is
    # false, each `-o P -nt S` the engine or __pyve_inside added tests one):
    # a loop would cost fish more per path than the two stats.
    if builtin test "$PWD" != "$__pyve_pwd"; and not __pyve_inside
        __pyve_run
    else if builtin test -n '' $__pyve_newer $__pyve_between
        __pyve_run
    end
end

function __pyve_run
    if not builtin test -x "$__pyve_exe"
        __pyve_fail "pyve: hook disabled: $__pyve_exe is missing or not executable; reinstall pyve or remove the hook from config.fish"
        return
    end
    # Handled, until the output says otherwise: when Ctrl-C kills an engine
    # that hangs, this directory takes the fast path instead of starting
    # the engine again, until the next change of directory.
    set -l __pyve_handled $__pyve_pwd
    set -g __pyve_pwd $PWD
    set -g __pyve_newer
    set -g __pyve_between
    set -l __pyve_out (command $__pyve_exe _engine fish $PWD "$__pyve_stamp" "$__pyve_diagnosed" $fish_pid | builtin string collect -N; builtin printf '%s' $pipestatus[1])
    set -l __pyve_code $__pyve_out[-1]
    if builtin test "$__pyve_code" != 0
        # Killed by a signal (Ctrl-C): nothing was applied, and the
        # directory stays handled (above).
        builtin test "$__pyve_code" -gt 128 2>/dev/null; and return
        __pyve_fail "pyve: hook engine failed (exit $__pyve_code); environment left unchanged"
        return
    end
    if not builtin string match -q -- '#pyve-engine'\n'*' "$__pyve_out[1]"
        __pyve_fail "pyve: hook engine failed (its output is not pyve's: $__pyve_exe is not the pyve engine); environment left unchanged"
        return
    end
    # Not handled while the output is applied: its last line marks the
    # directory, so an apply that Ctrl-C cut short (fish cannot ignore it
    # here, as bash and zsh do) runs again at the next prompt.
    set -g __pyve_pwd $__pyve_handled
    builtin printf '%s' $__pyve_out[1..-2] | builtin source
end

# Whether $PWD is under the project root the engine last found
# (`__pyve_root`) with no project of its own between them: a `.pyve/config`
# (any kind of entry, as the engine counts it) makes a nested project, which
# the engine must handle. The walk up from $PWD either meets the root or
# ends at `/` (not under it). The directories walked, and a `.pyve` in one,
# join the watch check (`__pyve_between`), so a project made in one of them
# later is noticed at the next prompt; without a stamp nothing is watched
# (every path is newer than none). No command substitution: each costs fish
# about 40 µs, so the parent comes from a named group of `string match`,
# which sets the variable of that name.
function __pyve_inside
    builtin test -n "$__pyve_root"; or return 1
    set -g __pyve_between
    set -l __pyve_dir $PWD
    while builtin test "$__pyve_dir" != "$__pyve_root"
        builtin test -n "$__pyve_dir" -a "$__pyve_dir" != /; or return 1
        if builtin test -e "$__pyve_dir/.pyve/config" -o -L "$__pyve_dir/.pyve/config"
            return 1
        end
        # A pyproject.toml (its [tool.pyve]) or a .venv (a project pyve
        # finds without settings) may make one too: the engine decides.
        if builtin test -e "$__pyve_dir/pyproject.toml" -o -e "$__pyve_dir/.venv"
            return 1
        end
        if builtin test -n "$__pyve_stamp"
            set -ga __pyve_between -o $__pyve_dir -nt $__pyve_stamp
            if builtin test -e "$__pyve_dir/.pyve" -o -L "$__pyve_dir/.pyve"
                set -ga __pyve_between -o $__pyve_dir/.pyve -nt $__pyve_stamp
            end
        end
        # The walk must move up or give up: fish before 3.4 matches but
        # sets no variable from a named group.
        set -l __pyve_below $__pyve_dir
        builtin string match -rq -- '(?s)^(?<__pyve_dir>.*)/[^/]*$' $__pyve_dir; or return 1
        builtin test "$__pyve_dir" != "$__pyve_below"; or return 1
    end
    set -g __pyve_pwd $PWD
end

function __pyve_fail
    set -g __pyve_pwd $PWD
    if not set -q __pyve_failed
        set -g __pyve_failed 1
        builtin printf '%s\n' $argv[1] >&2
    end
end

# Wraps fish_prompt to print the project's prefix ($argv[1]) first, or
# unwraps it. The wrapper prints it while the variable named $argv[2]
# holds $argv[3]: the environment is still the one active (a manual
# `deactivate` takes the prefix away). Compare and swap: the wrapper is
# removed only while fish_prompt is still pyve's wrapper; a prompt the
# user defined since is left alone.
function __pyve_prompt
    set -g __pyve_ps1_var $argv[2]
    set -g __pyve_ps1_env $argv[3]
    set -l __pyve_text $argv[1]
    if set -q VIRTUAL_ENV_DISABLE_PROMPT; and builtin test -n "$VIRTUAL_ENV_DISABLE_PROMPT"
        set __pyve_text ''
    end
    builtin test "$__pyve_text" = "$__pyve_ps1_text"; and return 0
    if builtin functions -q __pyve_orig_fish_prompt
        set -l __pyve_details (builtin functions --details --verbose fish_prompt)
        if builtin test "$__pyve_details[5]" = 'pyve prompt wrapper'
            builtin functions --erase fish_prompt
            builtin functions --copy __pyve_orig_fish_prompt fish_prompt
        end
        builtin functions --erase __pyve_orig_fish_prompt
    end
    set -g __pyve_ps1_text $__pyve_text
    if builtin test -n "$__pyve_text"; and builtin functions -q fish_prompt
        builtin functions --copy fish_prompt __pyve_orig_fish_prompt
        function fish_prompt --description 'pyve prompt wrapper'
            # The original runs first, so it still sees the last command's
            # $status and $pipestatus.
            set -l __pyve_body (__pyve_orig_fish_prompt | builtin string collect -N)
            # Checked after the original ran: a theme that draws
            # VIRTUAL_ENV itself sets this in its first fish_prompt.
            if set -q VIRTUAL_ENV_DISABLE_PROMPT; and builtin test -n "$VIRTUAL_ENV_DISABLE_PROMPT"
                builtin printf '%s' "$__pyve_body"
                return
            end
            if builtin test -n "$__pyve_ps1_var"; and builtin test "$$__pyve_ps1_var" != "$__pyve_ps1_env"
                builtin printf '%s' "$__pyve_body"
                return
            end
            builtin printf '%s %s' $__pyve_ps1_text "$__pyve_body"
        end
    end
end

# `pyve use NAME` chooses an environment for this shell only, which no
# child process can do: this function runs the binary with `--for-hook`
# (it checks the name and prints what PYVE_USE becomes), sets PYVE_USE,
# and has the next prompt run the engine. Nothing it prints is evaluated.
# Every other command goes to the binary as typed.
function pyve --description 'pyve, with `pyve use` kept in this shell'
    if builtin test "$argv[1]" != use
        command pyve $argv
        return
    end
    set -l __pyve_out (command $__pyve_exe use --for-hook $argv[2..-1] | builtin string collect -N; builtin printf '%s' $pipestatus[1])
    set -l __pyve_code $__pyve_out[-1]
    builtin test "$__pyve_code" = 0; or return $__pyve_code
    set -e __pyve_out[-1]
    set -l __pyve_value "$__pyve_out"
    if not builtin string match -q -- '#pyve-use:*' "$__pyve_value"
        # Help text, not a choice.
        builtin test -z "$__pyve_value"; or builtin printf '%s\n' "$__pyve_value"
        return 0
    end
    set __pyve_value (builtin string replace -- '#pyve-use:' '' "$__pyve_value")
    if builtin test -n "$__pyve_value"
        set -gx PYVE_USE "$__pyve_value"
    else
        set -e PYVE_USE
    end
    set -g __pyve_pwd ''
    set -g __pyve_root ''
end
