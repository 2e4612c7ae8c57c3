#!/usr/bin/python3
"""viewer_fleet.py - viewer-master and viewer-client against a fleet of tunnelds (three
relays and their own redis-server on loopback, docs/tunneld.md "Fleet"):

- a client pointed at the wrong relay follows its REDIRECT, over TCP, over HTTPS through
  tinyproxy (certificate checked against the redirect's host name), and over the plain HTTP
  Upgrade (directly and through tinyproxy);
- `--server dead,B` (master and client): the first relay that answers serves;
- a hostile relay that redirects in a loop, along an endless chain, or to another path
  kind is abandoned with a clear error, quickly;
- kill -9 of the relay holding a session during a 200 MiB get and an exec stream: master
  and client resume through another relay of their list within 5 s (the relays' default
  lease, the viewers' default keepalive), the transfer is byte-exact, the exec output
  complete, and the session keeps its number.

Every wait is for a log line, a file or a socket (no fixed sleeps)."""
import hashlib
import os
import re
import socket
import struct
import subprocess
import threading
import time

from lib_fleet import REDIS, Redis, relay, start_tinyproxy, wait_log
from lib_tun import H, SEALBOX, TMP, TOP, check, check_no_sanitizer, cleanup, procs, sanitizer_logs, test
import lib_test
from tunnel_client import free_port
from lib_test import wait_for

SAN = os.environ.get("SAN", "0") == "1"
BIG_MB = 48 if SAN else 200
EXEC_LINES = 150  # the exec that runs through the kill: a line every 0.1 s
ENV = dict(os.environ, SEALBOX_VIEWER_KEEPALIVE="1", https_proxy="", http_proxy="", HTTPS_PROXY="",
           HTTP_PROXY="", no_proxy="", NO_PROXY="")
rd = None
fleet = {}
san_seen = []  # viewer stderr that held a sanitizer report (make SAN=1 test)


def addr(r):
    return "%s:%d" % (H, r.port)


def wait_file(path, pat, timeout=30):
    """Until the file holds pat (a regex): the match, or None."""
    def look():
        try:
            with open(path, errors="replace") as f:
                return re.search(pat, f.read())
        except OSError:
            return None
    return wait_for(look, timeout, 0.05)


class Master:
    """viewer-master (auto-approving, sharing a directory, exec allowed) on servers."""

    def __init__(self, name, servers, *opts, env=None):
        d = os.path.join(TMP, name)
        os.makedirs(d, exist_ok=True)
        self.out, self.err = os.path.join(d, "out"), os.path.join(d, "err")
        self.share = os.path.join(d, "share")
        os.makedirs(self.share, exist_ok=True)
        self.p = subprocess.Popen([SEALBOX, "viewer-master", "--no-lan", "--server", servers, "--share", self.share,
                                   "--allow-exec", "--auto-approve"] + list(opts),
                                  stdin=subprocess.PIPE, stdout=open(self.out, "w"), stderr=open(self.err, "w"),
                                  env=env or ENV)
        procs.append(self.p)
        m = wait_file(self.out, r"(?m)^session (\d+)$", 30)
        self.session = m.group(1) if m else None

    def errtext(self):
        with open(self.err, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()


def client(servers, session, *cmd, env=None, timeout=60, extra=()):
    """Runs viewer-client to the end: (exit code, stdout bytes, stderr text)."""
    p = subprocess.run([SEALBOX, "viewer-client", "--no-lan", "--server", servers] + list(extra) + [session] + list(cmd),
                       capture_output=True, timeout=timeout, env=env or ENV)
    err = p.stderr.decode(errors="replace")
    if "Sanitizer" in err or "runtime error:" in err:
        san_seen.append(" ".join(cmd))
    return p.returncode, p.stdout, err


def t_redirect_tcp():
    a, b = fleet["a"], fleet["b"]
    m = Master("m-tcp", addr(a))
    check("a master registers on relay a", m.session is not None, m.errtext())
    rc, out, err = client(addr(b), m.session, "exec", "echo", "through the fleet")
    check("a client given relay b joins the session of relay a and runs exec (exit %d)" % rc,
          rc == 0 and out == b"through the fleet\n", err)
    check("the client says where it was redirected",
          "viewer-client: relay %s redirects to relay a (elsewhere): tcp %s" % (addr(b), addr(a)) in err, err)
    check("relay b logged the redirect", wait_log(b, "to relay a (elsewhere)"))
    m.stop()


def t_server_list():
    a, b = fleet["a"], fleet["b"]
    dead = "%s:%d" % (H, free_port())
    m = Master("m-list", "%s,%s" % (dead, addr(b)))
    check("a master given --server dead,b registers on b", m.session is not None and
          wait_log(b, "session %s start" % m.session, 5) or m.session is not None, m.errtext())
    check("and says it tried the next relay", "viewer-master: trying relay %s" % addr(b) in m.errtext(), m.errtext())
    rc, out, err = client("%s , %s" % (dead, addr(a)), m.session, "exec", "echo", "listed")
    check("a client given --server 'dead , a' joins (redirected from a to b) (exit %d)" % rc,
          rc == 0 and out == b"listed\n" and "redirects to relay b" in err, err)
    # the same list in the configuration file
    conf = os.path.join(TMP, "viewer-list.ini")
    with open(conf, "w") as f:
        f.write("[viewer]\nserver = %s,%s\n" % (dead, addr(b)))
    p = subprocess.run([SEALBOX, "viewer-client", "--no-lan", "-c", conf, m.session, "exec", "echo", "conf"],
                       capture_output=True, timeout=60, env=ENV)
    check("server = dead,b in the configuration works the same (exit %d)" % p.returncode,
          p.returncode == 0 and p.stdout == b"conf\n", p.stderr.decode(errors="replace"))
    rc, out, err = client("%s,%s" % (dead, dead), m.session, "exec", "true")
    check("with no relay of the list answering the client fails and names each (exit %d)" % rc,
          rc != 0 and "no relay of the list answered" in err and err.count(dead) >= 2, err)
    m.stop()


class FakeRelay:
    """A hostile relay: answers every first frame with the REDIRECT redirect(self) builds."""
    HDR = struct.Struct(">BBHHIII")

    def __init__(self, redirect):
        self.s = socket.socket()
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind((H, 0))
        self.s.listen(16)
        self.port = self.s.getsockname()[1]
        self.redirect = redirect
        self.hits = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.s.accept()
            except OSError:
                return
            try:
                c.settimeout(5)
                h = b""
                while len(h) < 18:
                    d = c.recv(18 - len(h))
                    if not d:
                        break
                    h += d
                if len(h) == 18:
                    n = self.HDR.unpack(h)[6]
                    while n > 0:
                        n -= len(c.recv(n))
                    self.hits += 1
                    pl = self.redirect(self).encode()
                    c.sendall(self.HDR.pack(1, 0x0E, 0, 0, 1, 0, len(pl)) + pl)
            except OSError:
                pass
            c.close()

    def close(self):
        self.s.close()


def t_hostile():
    x = FakeRelay(lambda me: "relay=evil\ntcp=%s:%d\nreason=elsewhere\n" % (H, y.port))
    y = FakeRelay(lambda me: "relay=evil2\ntcp=%s:%d\nreason=elsewhere\n" % (H, x.port))
    t0 = time.time()
    rc, out, err = client("%s:%d" % (H, x.port), "123", "exec", "true", timeout=30)
    check("a relay pair redirecting to each other is abandoned: redirect loop (exit %d, %.1f s)" % (rc, time.time() - t0),
          rc != 0 and "redirect loop" in err and time.time() - t0 < 10, err)
    check("after two connections, no more", x.hits + y.hits == 2, "%d %d" % (x.hits, y.hits))
    chain = []

    def nxt(me):
        r = FakeRelay(nxt)
        chain.append(r)
        return "relay=hop%d\ntcp=%s:%d\n" % (len(chain), H, r.port)
    z = FakeRelay(nxt)
    t0 = time.time()
    rc, out, err = client("%s:%d" % (H, z.port), "123", "exec", "true", timeout=30)
    check("an endless chain of redirects is abandoned after 3 (exit %d, %.1f s)" % (rc, time.time() - t0),
          rc != 0 and "more than 3 redirects" in err and time.time() - t0 < 10, err)
    check("the client made 4 connections in all", z.hits + sum(r.hits for r in chain) == 4,
          "%d" % (z.hits + sum(r.hits for r in chain)))
    w = FakeRelay(lambda me: "relay=evil\nhttp=%s:%d\n" % (H, me.port))
    rc, out, err = client("%s:%d" % (H, w.port), "123", "exec", "true", timeout=30)
    check("a redirect cannot change the path kind: TCP to an http= only redirect fails (exit %d)" % rc,
          rc != 0 and "names no tcp address" in err and w.hits == 1, err)
    v = FakeRelay(lambda me: "relay=Evil Relay\ntcp=%s:%d\n" % (H, me.port))
    rc, out, err = client("%s:%d" % (H, v.port), "123", "exec", "true", timeout=30)
    check("a malformed REDIRECT is refused (exit %d)" % rc, rc != 0 and "REDIRECT" in err and v.hits == 1, err)
    m = Master("m-hostile", "%s:%d" % (H, x.port))
    check("a master whose relay redirects in a loop gives up with the reason",
          m.session is None and m.p.wait(20) != 0 and "redirect loop" in m.errtext(), m.errtext())
    for r in [x, y, z, w, v] + chain:
        r.close()


def t_https_proxy():
    """The client's only way out is HTTPS through a CONNECT proxy: the redirect is followed
    on HTTPS, through the same proxy, and the new relay's certificate is checked."""
    px = start_tinyproxy()
    if not px:
        print("skip - viewer redirect over HTTPS through tinyproxy: tinyproxy is not installed or did not start")
        return
    pport, log = px
    certs = os.path.join(TOP, "build", "test-certs")
    subprocess.run(["sh", os.path.join(TOP, "tests", "data", "mkcerts.sh")], stdout=subprocess.DEVNULL, check=True)
    hs = []
    for name in ("vh1", "vh2"):
        sp = free_port()
        hs.append((relay(name, rd, cluster="public_https = localhost:%d\n" % sp, https_listen="%s:%d" % (H, sp),
                         tls_cert=os.path.join(certs, "server.pem"), tls_key=os.path.join(certs, "server.key")), sp))
    (h1, p1), (h2, p2) = hs
    m = Master("m-https", addr(h1))
    check("a master registers on the first HTTPS relay", m.session is not None, m.errtext())
    env = dict(ENV, https_proxy="http://127.0.0.1:%d" % pport)
    dead = free_port()  # the TCP path is closed: the client must use HTTPS
    rc, out, err = client("localhost:%d" % dead, m.session, "exec", "echo", "via https", env=env,
                          extra=("--https-port", str(p2), "--http-port", "0", "--relay-ca", os.path.join(certs, "ca.pem")))
    check("over HTTPS through tinyproxy the client is redirected and joins (exit %d)" % rc,
          rc == 0 and out == b"via https\n", err)
    check("it followed on HTTPS, to the redirect's https= address",
          "redirects to relay vh1 (elsewhere): https localhost:%d" % p1 in err, err)
    with open(log) as f:
        txt = f.read()
    check("tinyproxy carried both connections", "localhost:%d" % p1 in txt and "localhost:%d" % p2 in txt, txt[-400:])
    # a relay whose certificate is not for the redirect's host name (a.test, not localhost)
    sp = free_port()
    h3 = relay("vh3", rd, cluster="public_https = localhost:%d\n" % sp, https_listen="%s:%d" % (H, sp),
               tls_cert=os.path.join(certs, "sni-a.pem"), tls_key=os.path.join(certs, "sni-a.key"))
    m3 = Master("m-https3", addr(h3))
    rc, out, err = client("localhost:%d" % dead, m3.session or "1", "exec", "true", env=env,
                          extra=("--https-port", str(p2), "--http-port", "0", "--relay-ca", os.path.join(certs, "ca.pem")))
    check("redirected to a relay whose certificate is not for the redirect's host name, the client fails (exit %d)" % rc,
          m3.session is not None and rc != 0 and "redirects to relay vh3" in err and "TLS" in err, err)
    m3.stop()
    h3.stop()
    m.stop()
    for r, _ in hs:
        r.stop()


def t_http_upgrade():
    """Only the plain HTTP Upgrade path is open (TCP closed, HTTPS off): the redirect is
    followed on HTTP, through tinyproxy when http_proxy names it."""
    hs = []
    for name in ("vp1", "vp2"):
        hp = free_port()
        hs.append((relay(name, rd, cluster="public_http = 127.0.0.1:%d\n" % hp, http_listen="%s:%d" % (H, hp)), hp))
    (h1, p1), (h2, p2) = hs
    m = Master("m-http", addr(h1))
    dead = free_port()
    rc, out, err = client("%s:%d" % (H, dead), m.session or "1", "exec", "echo", "via http",
                          extra=("--https-port", "0", "--http-port", str(p2)))
    check("on the plain HTTP path the client is redirected and joins (exit %d)" % rc,
          m.session is not None and rc == 0 and out == b"via http\n" and
          "redirects to relay vp1 (elsewhere): http 127.0.0.1:%d" % p1 in err, err)
    px = start_tinyproxy()
    if px:
        env = dict(ENV, http_proxy="http://127.0.0.1:%d" % px[0])
        rc, out, err = client("%s:%d" % (H, dead), m.session or "1", "exec", "echo", "via proxy", env=env,
                              extra=("--https-port", "0", "--http-port", str(p2)))
        with open(px[1]) as f:
            txt = f.read()
        check("and through an HTTP proxy, both connections through it (exit %d)" % rc,
              rc == 0 and out == b"via proxy\n" and "127.0.0.1:%d" % p1 in txt and "127.0.0.1:%d" % p2 in txt,
              err + txt[-300:])
    else:
        print("skip - viewer redirect over HTTP through tinyproxy: tinyproxy is not installed or did not start")
    m.stop()
    for r, _ in hs:
        r.stop()


def dir_bytes(d):
    n = 0
    for f in os.listdir(d):
        try:
            n += os.path.getsize(os.path.join(d, f))
        except OSError:
            pass
    return n


def t_kill9():
    a, b, c = fleet["a"], fleet["b"], fleet["c"]
    servers = "%s,%s,%s" % (addr(c), addr(a), addr(b))
    env = {k: v for k, v in ENV.items() if k != "SEALBOX_VIEWER_KEEPALIVE"}  # the default keepalive
    m = Master("m-kill", servers, env=env)
    check("the master registers on relay c, the first of its list", m.session is not None and
          wait_log(c, "session %s start" % m.session, 5), m.errtext())
    if not m.session:
        return
    big = os.path.join(m.share, "big.bin")
    with open(big, "wb") as f:
        for _ in range(BIG_MB):
            f.write(os.urandom(1 << 20))
    local = os.path.join(TMP, "local")
    os.makedirs(local, exist_ok=True)
    gerr, xout, xerr = (os.path.join(TMP, n) for n in ("get.err", "exec.out", "exec.err"))
    # The exec first, then the get: the kill must find both under way. (Waiting for the
    # exec's fifth line after the get had 8 MiB let a sanitizer build's get finish before
    # the kill, and then it had nothing to resume.)
    script = "i=0; while [ $i -lt %d ]; do i=$((i+1)); echo \"line $i\"; sleep 0.1; done; exit 3" % EXEC_LINES
    x = subprocess.Popen([SEALBOX, "viewer-client", "--no-lan", "--server", servers, m.session, "exec", "sh", "-c",
                          script], stdout=open(xout, "w"), stderr=open(xerr, "w"), env=env)
    procs.append(x)
    exec_started = wait_file(xout, "line 3", 30) is not None
    g = subprocess.Popen([SEALBOX, "viewer-client", "--no-lan", "--server", servers, m.session, "get", "big.bin",
                          os.path.join(local, "big.bin")], stderr=open(gerr, "w"), env=env)
    procs.append(g)
    end = time.time() + 60
    while time.time() < end and dir_bytes(local) < 8 << 20 and g.poll() is None:
        time.sleep(0.05)
    got = dir_bytes(local)
    check("the get and the exec are under way on relay c (get %d of %d MiB, exec running)" % (got >> 20, BIG_MB),
          exec_started and x.poll() is None and g.poll() is None and 8 << 20 <= got < BIG_MB << 20)
    c.p.kill()
    c.p.wait()
    t0 = time.time()
    try:
        grc = g.wait(240)
        xrc = x.wait(120)
    except subprocess.TimeoutExpired:
        grc = xrc = None
    with open(gerr, errors="replace") as f:
        ge = f.read()
    check("after kill -9 of relay c the get completes (exit %s, %.1f s after the kill)" % (grc, time.time() - t0),
          grc == 0, ge[-600:])
    with open(big, "rb") as f1:
        h1 = hashlib.sha256(f1.read()).hexdigest()
    try:
        with open(os.path.join(local, "big.bin"), "rb") as f2:
            h2 = hashlib.sha256(f2.read()).hexdigest()
    except OSError:
        h2 = None
    check("the %d MiB file arrived byte-exact (sha256)" % BIG_MB, h1 == h2)
    gm = re.search(r"viewer-client: resumed after ([0-9.]+) s; path relay-tcp 127\.0\.0\.1:(%d|%d)" % (a.port, b.port), ge)
    check("the get resumed through another relay of the list", gm is not None, ge[-600:])
    check("within 5 s of the kill (the default lease and keepalive) (%s s)" % (gm.group(1) if gm else "-"),
          gm is not None and float(gm.group(1)) <= 5, ge[-600:])
    with open(xout) as f:
        xo = f.read()
    with open(xerr, errors="replace") as f:
        xe = f.read()
    check("the exec's output is complete and in order, its exit code passed through (exit %s)" % xrc,
          xrc == 3 and xo == "".join("line %d\n" % i for i in range(1, EXEC_LINES + 1)), xe[-600:])
    me = m.errtext()
    mm = re.search(r"viewer-master: resumed after ([0-9.]+) s; path relay-tcp 127\.0\.0\.1:(%d|%d)" % (a.port, b.port), me)
    check("the master resumed through another relay", mm is not None, me[-800:])
    check("within 5 s of the kill (%s s)" % (mm.group(1) if mm else "-"), mm is not None and float(mm.group(1)) <= 5,
          me[-800:])
    check("a surviving relay took the session over from relay c",
          wait_log(a, "taken over from relay c", 1) or wait_log(b, "taken over from relay c", 1))
    rc, out, err = client("%s,%s" % (addr(b), addr(a)), m.session, "exec", "echo", "same number")
    check("the session keeps its number: a new client joins it through the fleet (exit %d)" % rc,
          rc == 0 and out == b"same number\n", err)
    check("the master printed its number once", open(m.out).read().count("session ") == 1)
    m.stop()


if not REDIS:
    print("skip - viewer fleet: redis-server is not installed (mk/test-packages.txt)")
    raise SystemExit(0)
try:
    rd = Redis()
    for name in ("a", "b", "c"):
        fleet[name] = relay(name, rd, lease=None, join_rate=100000)  # the default lease
    for fn in (t_redirect_tcp, t_server_list, t_hostile, t_https_proxy, t_http_upgrade, t_kill9):
        test(fn)
    bad = sanitizer_logs()
    check_no_sanitizer("no sanitizer report in any tunneld log", bad)
    for dirpath, _, files in os.walk(TMP):  # the masters' and the background clients' stderr
        for f in files:
            if f == "err" or f.endswith(".err"):
                with open(os.path.join(dirpath, f), errors="replace") as fh:
                    t = fh.read()
                if "Sanitizer" in t or "runtime error:" in t:
                    san_seen.append(os.path.join(dirpath, f))
    check_no_sanitizer("no sanitizer report from viewer-master or viewer-client", san_seen)
finally:
    cleanup()
raise SystemExit(1 if lib_test.failed() else 0)
