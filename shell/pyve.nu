# pyve prompt hook for nushell. nushell cannot evaluate generated code, so
# this file is saved where nushell loads it at startup; this line in
# ~/.config/nushell/config.nu renews it at each start:
#   mkdir ($nu.user-autoload-dirs | first); pyve hook nu | save -f ($nu.user-autoload-dirs | first | path join pyve.nu)
# `pyve hook nu` puts `let __pyve_exe = <absolute path of pyve>` above
# this text. The engine's output is data (one JSON array per line), which
# the commands below apply: nothing it prints is ever run as code.
#
# The hook's own state lives in one record, `$env.__pyve`: a record is not
# passed to other programs (nushell passes strings only), so no child
# process sees it. Sourcing this again keeps that state and replaces the
# one pre_prompt hook, so nothing is registered twice.

# Tells pyve's commands (init, doctor) started from this shell that it runs
# the hook: this shell's process id, which they compare with their parent's.
$env.PYVE_HOOK = ($nu.pid | into string)

$env.__pyve = ({
    __pyve_pwd: ''
    __pyve_root: ''
    __pyve_stamp: ''
    __pyve_diagnosed: ''
    __pyve_newer: []
    __pyve_between: []
    failed: false
    prompt: {text: '' var: '' env: ''}
    orig_prompt: null
} | merge ($env.__pyve? | default {}) | upsert __pyve_exe $__pyve_exe)

# Runs before each prompt. The common case (same directory, no watched
# file newer than the stamp) is decided with builtins and starts no
# process, and changes nothing; after an engine run the last command's
# exit code is put back.
def --env __pyve_hook [] {
    # A new directory runs the engine, unless it is another directory of
    # the project the engine last found, with no project of its own in
    # between: that changes nothing, and takes the watch check below.
    # (No `def --env` command is called inside a condition: nushell then
    # drops a `hide-env` made in the branch it runs.)
    mut run = false
    if $env.PWD != $env.__pyve.__pyve_pwd {
        let between = (__pyve_between)
        if $between == null {
            $run = true
        } else {
            $env.__pyve.__pyve_between = $between
            $env.__pyve.__pyve_pwd = $env.PWD
        }
    }
    if not $run { $run = (__pyve_newer) }
    if $run {
        let code = ($env.LAST_EXIT_CODE? | default 0)
        __pyve_run
        $env.LAST_EXIT_CODE = $code
    }
}

# Whether a watched path is newer than the stamp: then the engine runs.
# One `ls -D` over the stamp and every watched path, each followed through
# a link as `test -nt` does (`path expand`); a path that is gone (or no
# stamp) makes it true, and the engine looks.
def __pyve_newer [] {
    let state = $env.__pyve
    let paths = ($state.__pyve_newer | append $state.__pyve_between)
    if ($paths | is-empty) or $state.__pyve_stamp == '' { return false }
    try {
        let times = (ls -D ...($paths | prepend $state.__pyve_stamp | path expand) | get modified)
        ($times | skip 1 | math max) > ($times | first)
    } catch {
        true
    }
}

# Whether $env.PWD is under the project root the engine last found with no
# project of its own in between: a `.pyve/config`, a `pyproject.toml` or a
# `.venv` there may make one, which the engine decides. null when it is
# not; else the directories walked, and a `.pyve` in one, which join the
# watch check, so a project made in one of them later is noticed at the
# next prompt (none without a stamp: every path is newer than none).
def __pyve_between [] {
    let root = $env.__pyve.__pyve_root
    if $root == '' or not ($'($env.PWD)/' | str starts-with $'($root)/') { return null }
    let watching = $env.__pyve.__pyve_stamp != ''
    mut between = []
    mut dir = $env.PWD
    while $dir != $root {
        if $dir == '' or $dir == '/' { return null }
        if ($dir | path join .pyve config | path exists -n) { return null }
        if ($dir | path join pyproject.toml | path exists) or ($dir | path join .venv | path exists) {
            return null
        }
        if $watching {
            $between = ($between | append $dir)
            let pyve = ($dir | path join .pyve)
            if ($pyve | path exists -n) { $between = ($between | append $pyve) }
        }
        $dir = ($dir | path dirname)
    }
    $between
}

def --env __pyve_run [] {
    mut again = true
    while $again {
        $again = false
        let exe = $env.__pyve.__pyve_exe
        if ($exe | path expand | path type) != 'file' {
            __pyve_fail $'pyve: hook disabled: ($exe) is missing or not executable; reinstall pyve or remove the hook from config.nu'
            return
        }
        # Handled, until the output says otherwise: a failed run is not
        # retried until the next change of directory.
        let handled = $env.__pyve.__pyve_pwd
        $env.__pyve.__pyve_pwd = $env.PWD
        $env.__pyve.__pyve_newer = []
        $env.__pyve.__pyve_between = []
        let state = $env.__pyve
        let result = try {
            do { ^$exe _engine nu $env.PWD $state.__pyve_stamp $state.__pyve_diagnosed ($nu.pid | into string) } | complete
        } catch {
            {stdout: '' stderr: '' exit_code: 126}
        }
        if $result.stderr != '' { print -e -n $result.stderr }
        if $result.exit_code != 0 {
            # Killed by a signal (Ctrl-C): nothing was applied.
            if $result.exit_code > 128 { return }
            # (Parentheses in an interpolated string run what they hold:
            # the literal ones are escaped.)
            __pyve_fail $"pyve: hook engine failed \(exit ($result.exit_code)\); environment left unchanged"
            return
        }
        if not ($result.stdout | str starts-with "#pyve-engine\n") {
            __pyve_fail $"pyve: hook engine failed \(its output is not pyve's: ($exe) is not the pyve engine\); environment left unchanged"
            return
        }
        $env.__pyve.__pyve_pwd = $handled
        for line in ($result.stdout | lines | skip 1) {
            if $line == '' { continue }
            let op = ($line | from json)
            match $op.0 {
                'export' => {
                    if $op.1 == 'PATH' {
                        $env.PATH = (if $op.2 == '' { [] } else { $op.2 | split row (char esep) })
                    } else {
                        load-env {($op.1): $op.2}
                    }
                }
                'unset' => { hide-env -i $op.1 }
                'set' => { $env.__pyve = ($env.__pyve | upsert $op.1 $op.2) }
                'list' => { $env.__pyve = ($env.__pyve | upsert $op.1 $op.2) }
                'call' => {
                    if $op.1 == '__pyve_prompt' {
                        __pyve_prompt ($op.2 | get -o 0 | default '') ($op.2 | get -o 1 | default '') ($op.2 | get -o 2 | default '')
                    }
                }
                'run' => { $again = true }
                _ => {}
            }
        }
    }
}

# One line per session; the directory is marked done so a broken binary is
# not retried at every Enter.
def --env __pyve_fail [message: string] {
    $env.__pyve.__pyve_pwd = $env.PWD
    if not $env.__pyve.failed {
        $env.__pyve.failed = true
        print -e $message
    }
}

# The prefix for the project ($text, empty: none), shown while the
# variable named $name holds $value (the environment is still the one
# active). PROMPT_COMMAND is wrapped while there is a prefix and unwrapped
# when there is none, compare and swap: only while it is still pyve's
# wrapper; a prompt the user set since is left alone.
def --env __pyve_prompt [text: string, name: string, value: string] {
    $env.__pyve.prompt = {text: $text var: $name env: $value}
    let ours = (__pyve_wrapped)
    if $text == '' {
        if $ours {
            $env.PROMPT_COMMAND = $env.__pyve.orig_prompt
            $env.__pyve.orig_prompt = null
        }
        return
    }
    if $ours { return }
    $env.__pyve.orig_prompt = ($env.PROMPT_COMMAND? | default null)
    $env.PROMPT_COMMAND = {||
        # pyve prompt wrapper
        let state = $env.__pyve
        let original = $state.orig_prompt
        let body = (match ($original | describe) {
            'closure' => { do $original }
            'string' => { $original }
            _ => { $env.PWD }
        })
        let prompt = $state.prompt
        let hidden = ($env.VIRTUAL_ENV_DISABLE_PROMPT? | default '') != ''
        let active = $prompt.var == '' or ($env | get -o $prompt.var) == $prompt.env
        if $prompt.text == '' or $hidden or not $active { $body } else { $'($prompt.text) ($body)' }
    }
}

def __pyve_wrapped [] {
    let current = ($env.PROMPT_COMMAND? | default null)
    ($current | describe) == 'closure' and (view source $current | str contains '# pyve prompt wrapper')
}

# `pyve use NAME` chooses an environment for this shell only, which no
# child process can do: the binary checks the name and prints what
# PYVE_USE becomes (`--for-hook`); nothing it prints is evaluated. Only
# `pyve use` is defined here (nushell finds the two-word command first);
# every other `pyve …` is the binary itself, with its completions.
def --env --wrapped "pyve use" [...args] {
    let result = (do { ^$env.__pyve.__pyve_exe use --for-hook ...$args } | complete)
    if $result.stderr != '' { print -e -n $result.stderr }
    if $result.exit_code != 0 { return }
    let value = ($result.stdout | str trim -r -c "\n")
    if not ($value | str starts-with '#pyve-use:') {
        # Help text, not a choice.
        if $value != '' { print $value }
        return
    }
    let value = ($value | str substring 10..)
    if $value != '' { $env.PYVE_USE = $value } else { hide-env -i PYVE_USE }
    $env.__pyve.__pyve_pwd = ''
    $env.__pyve.__pyve_root = ''
}

$env.config.hooks.pre_prompt = (
    $env.config.hooks.pre_prompt? | default []
    | where {|hook| not (($hook | describe) == 'closure' and (view source $hook | str contains '__pyve_hook'))}
    | append {|| __pyve_hook }
)
