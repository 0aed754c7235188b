#!/usr/bin/env python3
"""Seconds per bare Enter in a real interactive shell, under a
pseudo-terminal: the shell is started, the lines of SETUP are typed (each
waits for the next prompt), then Enter is pressed N times, each time
waiting for the prompt to be drawn again, and the mean is printed.

    prompts.py N MARKER SETUP -- program [args...]

MARKER is text the shell's prompt ends with once SETUP's first line ran
(it may set the prompt). The terminal answers a
cursor-position query (nushell's line editor asks one at each prompt).
The environment and the directory are this process's.
"""

import os
import pty
import select
import signal
import sys
import time


def main():
    split = sys.argv.index("--")
    count, marker, setup = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]
    argv = sys.argv[split + 1:]
    with open(setup, "rb") as f:
        lines = [line.rstrip(b"\n") for line in f if line.strip()]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    seen = bytearray()

    def wait_for(prompts):
        deadline = time.monotonic() + 60
        while seen.count(marker) < prompts:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(left, 0))
            if not ready:
                sys.exit(f"prompts.py: no prompt from {argv[0]}: {bytes(seen[-300:])!r}")
            try:
                data = os.read(fd, 65536)
            except OSError:
                sys.exit(f"prompts.py: {argv[0]} exited: {bytes(seen[-300:])!r}")
            if b"\x1b[6n" in data:
                os.write(fd, b"\x1b[1;1R")
            seen.extend(data)

    def settle():
        while select.select([fd], [], [], 0.3)[0]:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the shell has exited
                return
            if b"\x1b[6n" in data:
                os.write(fd, b"\x1b[1;1R")
            seen.extend(data)

    # The shell's first prompt may not be the marker's yet (the first
    # setup line may set it): wait until the shell is quiet.
    settle()
    for line in lines:
        settle()
        before = seen.count(marker)
        os.write(fd, line + b"\r")
        wait_for(before + 1)
    settle()
    start = time.perf_counter()
    for _ in range(count):
        before = seen.count(marker)
        os.write(fd, b"\r")
        wait_for(before + 1)
    elapsed = time.perf_counter() - start
    os.write(fd, b"exit\r")
    settle()
    # A line editor may drop a line typed while it repaints: the shell is
    # ended either way.
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    print(elapsed / count)


if __name__ == "__main__":
    main()
