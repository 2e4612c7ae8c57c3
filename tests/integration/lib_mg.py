"""lib_mg.py - shared helpers for mailgw's Python integration tests: certificates,
free ports, a mailgw daemon with a generated config, downstream sinks, TAP-ish output
("ok - NAME" / "not ok - NAME"). Every process started here is killed at exit."""
import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_test import ok, fail, check, skip, failed, free_port, wait_port, wait_for  # noqa: E402,F401

TOP = os.environ.get("TOP") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SEALBOX = os.environ.get("SEALBOX") or os.path.join(TOP, "sealbox")
PY = "/usr/bin/python3"
_procs = []
TMP = tempfile.mkdtemp(prefix="sealbox-mg.")


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(TMP, ignore_errors=True)


atexit.register(_cleanup)


_daemons = []


def done():
    """Stops every mailgw cleanly and fails on any sanitizer report in its log."""
    for m in _daemons:
        try:
            m.stop()
        except Exception:
            pass
        t = m.logtext()
        if "AddressSanitizer" in t or "LeakSanitizer" in t or "runtime error:" in t:
            i = max(t.find("Sanitizer"), t.find("runtime error:"))
            fail("no sanitizer report in the %s daemon's log" % m.name, t[max(0, i - 200):i + 1500])
    sys.exit(1 if failed() else 0)


def certs():
    subprocess.run(["sh", os.path.join(TOP, "tests/data/mkcerts.sh")], check=True, stdout=subprocess.DEVNULL)
    return os.path.join(TOP, "build/test-certs")


def read_text(path):
    """A log file's text so far ("" when it is not there yet)."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def bg(args, log=None, **kw):
    out = open(log, "ab") if log else subprocess.DEVNULL
    p = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, **kw)
    _procs.append(p)
    return p


class Mailgw:
    """A mailgw daemon on loopback. listeners: list of (name, mode, extra-lines)."""

    def __init__(self, name, listeners, mailgw="", delivery="", certdir=None):
        self.name = name
        _daemons.append(self)
        self.dir = os.path.join(TMP, name)
        os.makedirs(self.dir, exist_ok=True)
        self.spool = os.path.join(self.dir, "spool")
        self.log = os.path.join(self.dir, "mailgw.log")
        self.conf = os.path.join(self.dir, "mailgw.ini")
        self.ports = {}
        c = certdir or certs()
        text = "[mailgw]\nhostname = mx.test\nspool = %s\nlog_level = debug\n%s\n[delivery]\n%s\n" % (
            self.spool, mailgw, delivery)
        for lst in listeners:
            (ln, mode, extra), ip, cert = lst[:3], (lst[3] if len(lst) > 3 else "127.0.0.1"), \
                (lst[4] if len(lst) > 4 else "server")
            port = free_port()
            self.ports[ln] = port
            self.addrs = getattr(self, "addrs", {})
            self.addrs[ln] = ip
            text += "[listener %s]\nlisten = %s:%d\nmode = %s\ncert = %s/%s.pem\nkey = %s/%s.key\n%s\n" % (
                ln, ip, port, mode, c, cert, c, cert, extra)
        with open(self.conf, "w") as f:
            f.write(text)
        self.proc = None

    def start(self):
        self.proc = bg([SEALBOX, "mailgw", "-d", "-c", self.conf], log=self.log)
        for ln, p in self.ports.items():
            if not wait_port(p, host=self.addrs.get(ln, "127.0.0.1")):
                raise RuntimeError("mailgw did not start: " + self.logtext())
        return self

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)

    def logtext(self):
        return read_text(self.log)

    def cli(self, *args):
        r = subprocess.run([SEALBOX, "mailgw", "-c", self.conf] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        return r.returncode, r.stdout.decode(errors="replace")

    def queue_ids(self):
        try:
            return sorted(x for x in os.listdir(os.path.join(self.spool, "env")) if ".tmp." not in x)
        except OSError:
            return []


class Sink:
    """An aiosmtpd downstream server (lib_mgsink.py) in one of its modes."""

    def __init__(self, mode, certdir=None, cert="server"):
        c = certdir or certs()
        self.port = free_port()
        self.out = os.path.join(TMP, "sink-%s-%d" % (mode, self.port))
        self.proc = bg([PY, os.path.join(TOP, "tests/integration/lib_mgsink.py"), str(self.port), mode,
                        self.out, "%s/%s.pem" % (c, cert), "%s/%s.key" % (c, cert)],
                       log=os.path.join(TMP, "sink-%d.log" % self.port))
        if not wait_port(self.port):
            raise RuntimeError("sink did not start")

    def events(self):
        """The lines of the sink's events.log (slow mode: "data", "gone")."""
        try:
            with open(os.path.join(self.out, "events.log")) as f:
                return f.read().split()
        except OSError:
            return []

    def messages(self):
        try:
            names = sorted(n for n in os.listdir(self.out) if n.endswith(".eml"))
        except OSError:
            return []
        out = []
        for n in names:
            with open(os.path.join(self.out, n), "rb") as f:
                out.append(f.read().decode(errors="replace"))
        return out
