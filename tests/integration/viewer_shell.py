#!/usr/bin/python3
"""viewer: `shell` gives an interactive shell on a pseudo-terminal of the master, driven
here through a real pty on the client side: commands run, the window size follows the
client's terminal (also after SIGWINCH), and the shell's exit code is the client's."""
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_vwtest import ok, procs, run, start_tunneld  # noqa: E402

SEALBOX = os.environ["SEALBOX"]
tmp = tempfile.mkdtemp(prefix="sealbox-vwsh.")


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main():
    relay = start_tunneld(tmp)
    m = subprocess.Popen([SEALBOX, "viewer-master", "--no-lan", "--server", relay, "--allow-shell", "--auto-approve"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True, env=dict(os.environ, SHELL="/bin/sh"))
    procs.append(m)
    session = re.match(r"session (\d+)", m.stdout.readline()).group(1)

    pid, fd = pty.fork()
    if pid == 0:
        os.execv(SEALBOX, [SEALBOX, "viewer-client", "--server", relay, session, "shell"])
    set_size(fd, 30, 100)
    buf = [""]

    def expect(pat, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            mm = re.search(pat, buf[0])
            if mm:
                buf[0] = buf[0][mm.end():]
                return mm
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    buf[0] += os.read(fd, 4096).decode(errors="replace")
                except OSError:
                    break
        sys.stderr.write("client pty so far: %r\n" % buf[0])
        return None

    ok(expect(r"approved; path relay-tcp") is not None, "client joins and is approved")
    # (typed before the shell runs, the line waits in the terminals' buffers: no pause)
    os.write(fd, b"echo RESULT=$((6*7))\r")
    ok(expect(r"RESULT=42") is not None, "a command runs in the remote shell")
    os.write(fd, b"stty size\r")
    ok(expect(r"30 100") is not None, "the remote terminal has the client's size (30x100)")
    set_size(fd, 40, 120)
    os.kill(pid, signal.SIGWINCH)
    # the new size travels as RESIZE once the client has handled the signal; a command
    # typed at once may overtake it, so ask again until the size shows (no fixed pause)
    got = None
    for _ in range(40):
        os.write(fd, b"stty size\r")
        got = expect(r"40 120", 0.25)
        if got:
            break
    ok(got is not None, "a window change follows (40x120)")
    os.write(fd, b"tty\r")
    ok(expect(r"/dev/pts/\d+") is not None, "the remote shell runs on a pseudo-terminal")
    os.write(fd, b"exit 3\r")
    end = time.time() + 10
    status = None
    while time.time() < end:
        try:
            os.read(fd, 4096)
        except OSError:
            pass
        p, st = os.waitpid(pid, os.WNOHANG)
        if p == pid:
            status = os.waitstatus_to_exitcode(st)
            break
        time.sleep(0.05)
    ok(status == 3, "the shell's exit code is the client's (%s)" % status)

    # without --allow-shell: 77
    m2 = subprocess.Popen([SEALBOX, "viewer-master", "--no-lan", "--server", relay, "--auto-approve"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    procs.append(m2)
    s2 = re.match(r"session (\d+)", m2.stdout.readline()).group(1)
    r = subprocess.run([SEALBOX, "viewer-client", "--server", relay, s2, "shell"], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=20)
    ok(r.returncode == 77, "shell without --allow-shell gives 77")


run("viewer_shell", main, tmp)
