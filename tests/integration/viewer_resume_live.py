#!/usr/bin/python3
"""viewer: while the master resumes its relay link, and the resume takes seconds, the
clients it reaches over the direct LAN path go on working: a shell keeps printing and a
port forward keeps echoing, with no gap longer than a second.

The master's relay link runs through a killable forwarder (lib_tcpfwd.py) and its
--http-port fallback points at a tarpit (a socket that takes connections and never
answers), so each resume attempt spends seconds on a path that does not work: TCP is
refused at once, the HTTP Upgrade waits out its 5 s timeout. Meanwhile bytes must keep
flowing between the master and its direct clients."""
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_vwtest import free_port, ok, procs, run, wait_port  # noqa: E402

SEALBOX = os.environ["SEALBOX"]
HERE = os.path.dirname(os.path.abspath(__file__))
tmp = tempfile.mkdtemp(prefix="sealbox-vwlive.")
DOWN_S = 7.0      # how long the relay stays unreachable
MAX_GAP_S = 1.5   # the longest pause allowed in either stream meanwhile


def wait_text(path, pat, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with open(path, errors="replace") as f:
                m = re.search(pat, f.read())
            if m:
                return m
        except OSError:
            pass
        time.sleep(0.05)
    return None


def echo_server(ls):
    def serve(c):
        with c:
            while True:
                d = c.recv(4096)
                if not d:
                    return
                c.sendall(d)
    while True:
        try:
            c, _ = ls.accept()
        except OSError:
            return
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def start_fwd(lport, tport):
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "lib_tcpfwd.py"), str(lport), str(tport)])
    procs.append(p)
    wait_port(lport)
    return p


def gaps(stamps, t0, t1):
    """The longest pause between events within [t0, t1] (the edges count)."""
    pts = [t0] + [t for t in stamps if t0 <= t <= t1] + [t1]
    return max(b - a for a, b in zip(pts, pts[1:]))


def main():
    rport, mport, eport = free_port(), free_port(), free_port()
    os.mkdir(os.path.join(tmp, "state"))
    ini = os.path.join(tmp, "tunneld.ini")
    with open(ini, "w") as f:
        f.write("[tunneld]\nlisten = 127.0.0.1:%d\nstate_dir = %s/state\njoin_rate = 1000\n" % (rport, tmp))
    procs.append(subprocess.Popen([SEALBOX, "tunneld", "-d", "-c", ini], stderr=open(os.path.join(tmp, "relay.log"), "w")))
    ok(wait_port(rport), "tunneld listens")
    # the tarpit: connections complete in its backlog, nothing ever answers
    tarpit = socket.socket()
    tarpit.bind(("127.0.0.1", 0))
    tarpit.listen(128)
    hport = tarpit.getsockname()[1]
    es = socket.socket()
    es.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    es.bind(("127.0.0.1", eport))
    es.listen(16)
    threading.Thread(target=echo_server, args=(es,), daemon=True).start()
    fwd = start_fwd(mport, rport)

    env = dict(os.environ, SEALBOX_VIEWER_KEEPALIVE="1", SEALBOX_VIEWER_GRACE="60", SHELL="/bin/sh")
    cenv = dict(os.environ, SHELL="/bin/sh")  # the clients keep the default keepalive
    merr = os.path.join(tmp, "m.err")
    m = subprocess.Popen([SEALBOX, "viewer-master", "--server", "127.0.0.1:%d" % mport,
                          "--http-port", str(hport), "--lan-listen", "127.0.0.1:0",
                          "--allow-shell", "--expose", "echo=127.0.0.1:%d" % eport, "--auto-approve"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=open(merr, "w"),
                         text=True, env=env)
    procs.append(m)
    session = re.match(r"session (\d+)", m.stdout.readline()).group(1)
    relay = "127.0.0.1:%d" % rport

    # a port forward over the direct path
    lport = free_port()
    ferr = os.path.join(tmp, "f.err")
    procs.append(subprocess.Popen([SEALBOX, "viewer-client", "--server", relay, session, "forward",
                                   "%d:echo" % lport], stdin=subprocess.DEVNULL, stderr=open(ferr, "w"), env=cenv))
    ok(wait_text(ferr, r"approved; path direct ") is not None, "the forward's client goes direct")
    ok(wait_port(lport), "the forward listens")

    # a shell over the direct path, on a real pty
    pid, pfd = pty.fork()
    if pid == 0:
        os.execve(SEALBOX, [SEALBOX, "viewer-client", "--server", relay, session, "shell"], cenv)
    buf = [b""]

    def read_pty(timeout):
        r, _, _ = select.select([pfd], [], [], timeout)
        if r:
            try:
                d = os.read(pfd, 4096)
            except OSError:
                d = b""
            buf[0] += d
            return d
        return None

    end = time.time() + 20
    while time.time() < end and b"approved; path direct" not in buf[0]:
        read_pty(0.2)
    ok(b"approved; path direct" in buf[0], "the shell's client goes direct")
    os.write(pfd, b"i=0; while [ $i -lt 100000 ]; do i=$((i+1)); echo tick$i; sleep 0.1; done\n")
    end = time.time() + 10
    while time.time() < end and not re.search(rb"tick\d+", buf[0]):
        read_pty(0.2)
    ok(re.search(rb"tick\d+", buf[0]) is not None, "the shell prints")

    # the forward: one small request every 50 ms, its echo timed
    echoes, stop = [], threading.Event()
    fs = socket.create_connection(("127.0.0.1", lport))
    fs.settimeout(30)

    def pinger():
        n = 0
        while not stop.is_set():
            n += 1
            msg = b"ping%06d\n" % n
            try:
                fs.sendall(msg)
                got = b""
                while len(got) < len(msg):
                    d = fs.recv(len(msg) - len(got))
                    if not d:
                        return
                    got += d
            except OSError:
                return
            if got == msg:
                echoes.append(time.time())
            time.sleep(0.05)
    pt = threading.Thread(target=pinger, daemon=True)
    pt.start()
    end = time.time() + 10
    while time.time() < end and len(echoes) < 5:
        time.sleep(0.05)
    ok(len(echoes) >= 5, "the forward echoes")

    # the shell's ticks, timed as they arrive
    ticks = []

    def shell_reader():
        while not stop.is_set():
            d = read_pty(0.1)
            if d is None:
                continue
            if not d:
                return
            for _ in re.finditer(rb"tick\d+", d):
                ticks.append(time.time())
    st = threading.Thread(target=shell_reader, daemon=True)
    st.start()
    time.sleep(1)  # on purpose: a second of echoes and ticks before the drop, the baseline

    # the relay goes away: the master's link drops and it resumes, slowly
    lost_before = open(merr, errors="replace").read().count("relay link lost")
    t0 = time.time()
    fwd.kill()
    fwd.wait()
    ok(wait_text(merr, r"(?s)" + "relay link lost.*" * (lost_before + 1), 10) is not None,
       "the master notices its relay link is gone")
    time.sleep(DOWN_S)  # on purpose: the relay stays away this long (what is measured)
    t1 = time.time()
    fwd = start_fwd(mport, rport)
    resumed = wait_text(merr, r"viewer-master: resumed after", 40) is not None
    time.sleep(1)  # on purpose: a second of traffic after the resume is part of the measure
    stop.set()
    pt.join(5)
    st.join(5)
    ge, gt = gaps(echoes, t0, t1), gaps(ticks, t0, t1)
    print("# relay down %.1f s; forward: %d echoes, longest gap %.2f s; shell: %d ticks, longest gap %.2f s"
          % (t1 - t0, len([t for t in echoes if t0 <= t <= t1]), ge,
             len([t for t in ticks if t0 <= t <= t1]), gt))
    ok(ge < MAX_GAP_S, "the forward keeps echoing while the master resumes (longest gap %.2f s)" % ge)
    ok(gt < MAX_GAP_S, "the shell keeps printing while the master resumes (longest gap %.2f s)" % gt)
    ok(resumed, "the master resumed once the relay was back")
    with open(merr, errors="replace") as f:
        text = f.read()
    ok("direct link lost" not in text, "the direct links were not given up meanwhile")
    os.write(pfd, b"\x03exit 0\n")
    fs.close()
    tarpit.close()
    es.close()
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass


if __name__ == "__main__":
    run("viewer resume live", main, tmp)
