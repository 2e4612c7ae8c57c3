"""lib_vwtest.py - what the viewer's Python tests (viewer_sas, viewer_shell,
viewer_interop, viewer_attack) share: TAP-style checks, loopback ports, a run() that
turns a crash into a failure and always stops the processes the test started, and a
master whose user (its /dev/tty) the test plays, approving or refusing each join."""
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time

from lib_port import free_port  # noqa: F401  (re-exported: a port no other test of this run is given)

procs = []  # started processes (subprocess.Popen): stopped by run() whatever happens
failed = 0


def ok(cond, name):
    global failed
    print(("ok - " if cond else "not ok - ") + name, flush=True)
    if not cond:
        failed += 1


def wait_port(port, tries=200):
    for _ in range(tries):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def start_tunneld(tmp, extra=""):
    """tunneld on a free loopback port with its state under tmp (stopped by run());
    returns "127.0.0.1:PORT" once it listens (checked)."""
    port = free_port()
    os.mkdir(os.path.join(tmp, "state"))
    ini = os.path.join(tmp, "tunneld.ini")
    with open(ini, "w") as f:
        f.write("[tunneld]\nlisten = 127.0.0.1:%d\nstate_dir = %s/state\n%s" % (port, tmp, extra))
    procs.append(subprocess.Popen([os.environ["SEALBOX"], "tunneld", "-d", "-c", ini],
                                  stderr=subprocess.DEVNULL))
    ok(wait_port(port), "tunneld listens")
    return "127.0.0.1:%d" % port


def run(name, main, tmp):
    """Runs main(), stops procs, removes tmp and exits 1 if any check failed."""
    global failed
    try:
        main()
    except Exception as e:  # a crash must be a failure, with the reason
        print("not ok - %s crashed: %r" % (name, e))
        failed += 1
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(5)
            except Exception:
                p.kill()
        subprocess.run(["rm", "-rf", tmp])
    sys.exit(1 if failed else 0)


class PtyMaster:
    """viewer-master with a pty as its controlling terminal (its /dev/tty), where the
    test types the user's answers. With commands=True its stdin is a pipe instead, so
    that .command("kick 3") reaches it (a terminal stdin is not read for commands)."""

    def __init__(self, relay, *opts, commands=False, lan=False):
        r = w = None
        if commands:
            r, w = os.pipe()
        pid, fd = pty.fork()
        if pid == 0:
            if r is not None:
                os.dup2(r, 0)
            sealbox = os.environ["SEALBOX"]
            os.execv(sealbox, [sealbox, "viewer-master"] + ([] if lan else ["--no-lan"]) +
                     ["--server", relay] + list(opts))
        if r is not None:
            os.close(r)
        self.pid, self.fd, self.buf, self.cmd_fd = pid, fd, "", w
        self.all = ""

    def expect(self, pattern, timeout=15):
        end = time.time() + timeout
        while time.time() < end:
            m = re.search(pattern, self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            r, _, _ = select.select([self.fd], [], [], 0.2)
            if r:
                try:
                    d = os.read(self.fd, 4096).decode(errors="replace")
                except OSError:
                    break
                self.buf += d
                self.all += d
        sys.stderr.write("master output so far: %r\n" % self.buf)
        return None

    def type(self, s):
        os.write(self.fd, s.encode())

    def command(self, s):
        os.write(self.cmd_fd, (s + "\n").encode())

    def approve(self, sas):
        """Answers the next join's question with the SAS the technician read out."""
        return self.expect(r"Type the SAS") is not None and (self.type(sas + "\n") or True)

    def refuse(self):
        return self.expect(r"Type the SAS") is not None and (self.type("n\n") or True)

    def stop(self):
        try:
            os.kill(self.pid, signal.SIGTERM)
            os.waitpid(self.pid, 0)
        except OSError:
            pass


def client_sas(p, timeout=15):
    """Reads a viewer-client's stderr up to its SAS line: (SAS, client id), or (None, None)."""
    end = time.time() + timeout
    seen, cid = "", None
    while time.time() < end:
        line = p.stderr.readline()
        if not line:
            break
        seen += line
        j = re.search(r"as client (\d+)", line)
        if j:
            cid = int(j.group(1))
        m = re.search(r"SAS (\d{8})", line)
        if m:
            return m.group(1), cid
    sys.stderr.write("client stderr so far: %r\n" % seen)
    return None, cid
