#!/usr/bin/python3
"""lib_tun.py - what the relay-level tunneld tests share: a Relay (tunneld with a
temporary state_dir and log), ok/not ok checks and the common client steps. The wire
side is tunnel_client.py (an independent Python implementation of the frame format)."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tunnel_client import Conn, free_port, wait_port  # noqa: E402
from lib_test import check, check_no_sanitizer, fail, failed  # noqa: E402,F401

SEALBOX = os.environ["SEALBOX"]
TOP = os.environ.get("TOP", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
TMP = tempfile.mkdtemp(prefix="sealbox-tun.")
H = "127.0.0.1"
procs = []


class Relay:
    def __init__(self, name, port=None, extra="", **kv):
        self.dir = os.path.join(TMP, name)
        os.makedirs(self.dir, exist_ok=True)
        self.state = os.path.join(self.dir, "state")
        self.port = port or free_port()
        self.kv = {"listen": "%s:%d" % (H, self.port), "state_dir": self.state, "digits": 3,
                   "log_level": "debug", "register_rate": 100000,
                   "register_rate_total": 100000}
        self.kv.update(kv)
        self.extra = extra  # further sections, as ini text
        self.conf = os.path.join(self.dir, "tunneld.ini")
        self.write()
        self.start()

    def write(self):
        with open(self.conf, "w") as f:
            f.write("[tunneld]\n" + "".join("%s = %s\n" % kv for kv in self.kv.items()) + self.extra)

    def start(self):
        self.log = open(os.path.join(self.dir, "log"), "ab")
        self.p = subprocess.Popen([SEALBOX, "tunneld", "-d", "-c", self.conf], stdout=self.log, stderr=self.log)
        procs.append(self.p)
        # a relay listening on another loopback address (listen = 127.0.0.3:PORT) is waited
        # for there
        host = self.kv["listen"].rsplit(":", 1)[0]
        if not wait_port(self.port, host=host if re.fullmatch(r"[0-9.]+", host) else H):
            raise RuntimeError("tunneld did not start: " + self.logtext())

    def stop(self, sig=signal.SIGTERM):
        self.p.send_signal(sig)
        try:
            return self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return None

    def conn(self, **kw):
        return Conn(H, self.port, **kw)

    def rss_kb(self):
        with open("/proc/%d/status" % self.p.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return -1

    def logtext(self):
        with open(os.path.join(self.dir, "log"), "rb") as f:
            return f.read().decode(errors="replace")


def test(fn):
    try:
        fn()
    except Exception as e:  # one broken scenario must not hide the others
        fail("%s raised %s" % (fn.__name__, type(e).__name__), str(e))
        traceback.print_exc(file=sys.stdout)


def pair(r, **kw):
    m = r.conn(**kw)
    m.register()
    c = r.conn()
    n, j = c.join(m.session)
    assert n == "JOINED", (n, j)
    pj = m.expect("PEER_JOINED")
    return m, c, pj




def sanitizer_logs():
    """The relays whose log holds a sanitizer report (make SAN=1 test)."""
    bad = []
    for d in sorted(os.listdir(TMP)):
        lp = os.path.join(TMP, d, "log")
        if os.path.exists(lp):
            with open(lp, "rb") as f:
                txt = f.read().decode(errors="replace")
            if "Sanitizer" in txt or "runtime error:" in txt:
                bad.append(d)
    return bad


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    if failed() == 0:
        shutil.rmtree(TMP, ignore_errors=True)
    else:
        print("# logs kept in " + TMP)
