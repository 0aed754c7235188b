# pyve prompt hook for xonsh. Install with this line in ~/.xonshrc:
#   execx($(pyve hook xonsh))
# `pyve hook xonsh` puts `__pyve_exe = b'<absolute path of pyve>'` above
# this text. The engine's output is data (one JSON array per line) that
# the functions below apply: nothing it prints is run as code. Strings keep
# every byte: a byte that is not UTF-8 arrives as the surrogate Python's
# file names use for it (surrogateescape), so values and paths round-trip.
# All of it is plain Python, in one function, so nothing but the hook
# itself is left in your namespace; sourcing this again replaces the hook
# and keeps its state.


def __pyve_install(exe):
    import json
    import os
    import subprocess

    from xonsh.built_ins import XSH
    from xonsh.events import events
    from xonsh.tools import unthreadable

    env = XSH.env
    state = {
        '__pyve_pwd': '',
        '__pyve_root': '',
        '__pyve_stamp': '',
        '__pyve_diagnosed': '',
        '__pyve_newer': [],
        '__pyve_between': [],
        'failed': False,
        'prompt': ('', '', ''),
        'orig_field': None,
    }
    for old in [h for h in events.on_pre_prompt_format if getattr(h, '__name__', '') == '__pyve_hook']:
        state.update(getattr(old, 'state', {}))
        events.on_pre_prompt_format.discard(old)
    state['__pyve_exe'] = os.fsdecode(exe)

    # Tells pyve's commands (init, doctor) started from this shell that it
    # runs the hook: this shell's process id, which they compare with
    # their parent's.
    env['PYVE_HOOK'] = str(os.getpid())

    def mtime(path):
        """The modification time, following a link as `test -nt` does."""
        try:
            return os.stat(path).st_mtime_ns
        except (OSError, ValueError):
            return None

    def newer():
        """Whether a watched path is newer than the stamp."""
        paths = state['__pyve_newer'] + state['__pyve_between']
        if not paths or not state['__pyve_stamp']:
            return False
        stamp = mtime(state['__pyve_stamp'])
        for path in paths:
            modified = mtime(path)
            if modified is not None and (stamp is None or modified > stamp):
                return True
        return False

    def between(pwd):
        """None unless `pwd` is under the project root the engine last
        found with no project of its own in between (a `.pyve/config`, a
        `pyproject.toml` or a `.venv` may make one: the engine decides);
        else the directories walked, and a `.pyve` in one, which join the
        watch check, so a project made there later is noticed."""
        root = state['__pyve_root']
        if not root or not (pwd + '/').startswith(root + '/'):
            return None
        walked = []
        directory = pwd
        while directory != root:
            if directory in ('', '/'):
                return None
            if os.path.lexists(directory + '/.pyve/config'):
                return None
            if os.path.exists(directory + '/pyproject.toml') or os.path.exists(directory + '/.venv'):
                return None
            if state['__pyve_stamp']:
                walked.append(directory)
                if os.path.lexists(directory + '/.pyve'):
                    walked.append(directory + '/.pyve')
            directory = directory.rsplit('/', 1)[0]
        return walked

    def fail(message):
        """One line per session; the directory is marked done so a broken
        binary is not retried at every Enter."""
        state['__pyve_pwd'] = env.get('PWD', '')
        if not state['failed']:
            state['failed'] = True
            print(message, file=__import__('sys').stderr)

    def env_name():
        """The `{env_name}` prompt field while pyve's prefix is shown: the
        prefix while the variable it names still holds the environment
        (a manual `deactivate` takes it away), else the field it replaced."""
        text, name, value = state['prompt']
        hidden = bool(env.get('VIRTUAL_ENV_DISABLE_PROMPT'))
        if text and not hidden and (not name or env.get(name) == value):
            # xonsh reads `{…}` in the formatted prompt as colours and
            # fields: the prefix's braces are doubled, as its own fields do.
            return text.replace('{', '{{').replace('}', '}}') + ' '
        original = state['orig_field']
        if callable(original):
            return original()
        return original or ''

    env_name.__pyve__ = True

    def prompt(text='', name='', value=''):
        """Shows the prefix through the `{env_name}` field, which xonsh's
        prompts and themes draw, or takes it away. Compare and swap: the
        field is given back only while it is still pyve's."""
        state['prompt'] = (text, name, value)
        fields = env['PROMPT_FIELDS']
        current = fields.get('env_name')
        ours = getattr(current, '__pyve__', False)
        if not text:
            if ours:
                fields['env_name'] = state['orig_field']
                state['orig_field'] = None
            return
        if not ours:
            state['orig_field'] = current
            fields['env_name'] = env_name

    def apply(lines):
        """Applies the engine's operations; returns whether to run it again."""
        again = False
        scripts = []
        for line in lines:
            if not line:
                continue
            op = json.loads(line)
            kind = op[0]
            if kind == 'export':
                if op[1] == 'PATH' and op[2] == '':
                    env['PATH'] = []
                else:
                    env[op[1]] = op[2]
            elif kind == 'unset':
                if op[1] in env:
                    del env[op[1]]
            elif kind in ('set', 'list'):
                state[op[1]] = op[2]
            elif kind == 'call' and op[1] == '__pyve_prompt':
                prompt(*op[2])
            elif kind == 'source':
                scripts.append(op[1])
            elif kind == 'run':
                again = True
        # The environment's activation scripts (conda's *.xsh), last, on the
        # environment already in place.
        for script in scripts:
            try:
                XSH.aliases['source']([script])
            except Exception as error:
                print(f'pyve: {script}: {error}', file=__import__('sys').stderr)
        return again

    def run():
        again = True
        while again:
            pwd = env.get('PWD', '')
            exe = state['__pyve_exe']
            if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
                fail(f'pyve: hook disabled: {exe} is missing or not executable; '
                     'reinstall pyve or remove the hook from ~/.xonshrc')
                return
            # Handled, until the output says otherwise: a run Ctrl-C cut
            # short is not retried until the next change of directory.
            handled = state['__pyve_pwd']
            state['__pyve_pwd'] = pwd
            state['__pyve_newer'] = []
            state['__pyve_between'] = []
            command = [exe, '_engine', 'xonsh', pwd, state['__pyve_stamp'],
                       state['__pyve_diagnosed'], str(os.getpid())]
            try:
                result = subprocess.run(command, stdout=subprocess.PIPE, env=env.detype())
            except KeyboardInterrupt:
                return
            except OSError as error:
                fail(f'pyve: hook engine failed ({error}); environment left unchanged')
                return
            if result.returncode < 0:
                # Killed by a signal (Ctrl-C): nothing was applied.
                return
            if result.returncode != 0:
                fail(f'pyve: hook engine failed (exit {result.returncode}); environment left unchanged')
                return
            out = result.stdout.decode('utf-8', 'surrogateescape')
            if not out.startswith('#pyve-engine\n'):
                fail(f"pyve: hook engine failed (its output is not pyve's: {exe} is not "
                     'the pyve engine); environment left unchanged')
                return
            state['__pyve_pwd'] = handled
            # '\n' only: JSON escapes every other line break.
            again = apply(out.split('\n')[1:])

    def __pyve_hook(**_):
        """Runs before each prompt. The common case (same directory, no
        watched file newer than the stamp) is decided in Python with two
        `stat`s per watched path and starts no process; the last command's
        status is untouched (it lives in xonsh's history)."""
        pwd = env.get('PWD', '')
        must_run = False
        if pwd != state['__pyve_pwd']:
            walked = between(pwd)
            if walked is None:
                must_run = True
            else:
                state['__pyve_between'] = walked
                state['__pyve_pwd'] = pwd
        if must_run or newer():
            run()

    __pyve_hook.state = state
    # Before the prompt is formatted, so it shows the new prefix (the
    # on_pre_prompt event fires after).
    events.on_pre_prompt_format(__pyve_hook)

    # In the foreground, with the terminal: `pyve init` and `pyve purge`
    # may ask a question.
    @unthreadable
    def pyve(args, stdin=None, stdout=None, stderr=None):
        """`pyve use NAME` chooses an environment for this shell only,
        which no child process can do: the binary checks the name and
        prints what PYVE_USE becomes (`--for-hook`); nothing it prints is
        evaluated. Every other command goes to the binary as typed."""
        if not args or args[0] != 'use':
            return subprocess.run(['pyve', *args], stdin=stdin, stdout=stdout,
                                  stderr=stderr, env=env.detype()).returncode
        result = subprocess.run([state['__pyve_exe'], 'use', '--for-hook', *args[1:]],
                                stdout=subprocess.PIPE, env=env.detype())
        if result.returncode != 0:
            return result.returncode
        value = result.stdout.decode('utf-8', 'surrogateescape').rstrip('\n')
        if not value.startswith('#pyve-use:'):
            # Help text, not a choice.
            if value:
                print(value, file=stdout)
            return 0
        value = value[len('#pyve-use:'):]
        if value:
            env['PYVE_USE'] = value
        elif 'PYVE_USE' in env:
            del env['PYVE_USE']
        state['__pyve_pwd'] = ''
        state['__pyve_root'] = ''
        return 0

    XSH.aliases['pyve'] = pyve


__pyve_install(__pyve_exe)
del __pyve_install, __pyve_exe
