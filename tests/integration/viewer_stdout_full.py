#!/usr/bin/python3
"""viewer: a command's output reaches a client whose stdout is a non-blocking pipe that
its reader empties late and slowly (write(2) says EAGAIN). The client keeps what the
pipe does not take and writes it when the loop says the pipe is writable; every byte
arrives, in order, and the exit code follows the output."""
import fcntl
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_vwtest import ok, procs, run, start_tunneld  # noqa: E402

SEALBOX = os.environ["SEALBOX"]
tmp = tempfile.mkdtemp(prefix="sealbox-vwout.")
N = 400000  # `seq 1 N`: about 2.7 MB, forty times a pipe's buffer


def main():
    relay = start_tunneld(tmp)
    m = subprocess.Popen([SEALBOX, "viewer-master", "--no-lan", "--server", relay, "--allow-exec",
                          "--auto-approve"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    procs.append(m)
    line = m.stdout.readline()
    ok(line.startswith("session "), "master registered")
    session = line.split()[1]
    r, w = os.pipe()
    fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
    c = subprocess.Popen([SEALBOX, "viewer-client", "--server", relay, session, "exec", "seq", "1",
                          str(N)], stdin=subprocess.DEVNULL, stdout=w, stderr=subprocess.PIPE)
    procs.append(c)
    os.close(w)
    got = []

    def reader():
        time.sleep(1.0)  # the pipe fills first: the client's writes say EAGAIN
        while True:
            d = os.read(r, 4096)
            if not d:
                return
            got.append(d)
            time.sleep(0.0005)

    t = threading.Thread(target=reader)
    t.start()
    try:
        rc = c.wait(120)
    except subprocess.TimeoutExpired:
        rc = None
    t.join(30)
    want = subprocess.run(["seq", "1", str(N)], capture_output=True).stdout
    data = b"".join(got)
    ok(rc == 0, "the client exits 0 after the output (%r)" % rc)
    ok(data == want, "every byte arrives in order through a full non-blocking pipe (%d of %d)"
       % (len(data), len(want)))
    err = c.stderr.read().decode(errors="replace")
    ok("Resource temporarily unavailable" not in err, "no EAGAIN error reported")


run("viewer_stdout_full", main, tmp)
