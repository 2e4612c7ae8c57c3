#!/usr/bin/python3
"""relay_bench.py - tunneld relay-only figures: RSS with N sessions of one client each, and
bulk throughput of DATA frames through tunneld vs the same bytes through a plain socat
relay. Printed, never asserted. Usage: relay_bench.py SEALBOX [sessions] [megabytes]"""
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "integration"))
from tunnel_client import rss_kb, T, Conn, free_port, wait_port  # noqa: E402
from bulk import Sock, bulk  # noqa: E402

SEALBOX = sys.argv[1]
NSESS = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
MB = int(sys.argv[3]) if len(sys.argv) > 3 else 256
H = "127.0.0.1"


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, n))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


tmp = tempfile.mkdtemp(prefix="sealbox-bench-tun.")
port = free_port()
conf = os.path.join(tmp, "tunneld.ini")
with open(conf, "w") as f:
    f.write("[tunneld]\nlisten = %s:%d\nstate_dir = %s/state\ndigits = 6\nmax_sessions = %d\n"
            "log_level = warn\njoin_rate = 100000\nregister_rate = 100000\nregister_rate_total = 100000\n"
            "max_connections = %d\nmax_connections_per_ip = %d\n" % (H, port, tmp, NSESS + 10, 2 * NSESS + 100, 2 * NSESS + 100))
raise_nofile(4 * NSESS + 100)
p = subprocess.Popen([SEALBOX, "tunneld", "-d", "-c", conf], stderr=open(os.path.join(tmp, "log"), "w"))
try:
    if not wait_port(port):
        raise RuntimeError("nothing on port %d" % port)
    base = rss_kb(p.pid)
    conns = []
    t0 = time.time()
    for i in range(NSESS):
        m = Conn(H, port)
        m.register()
        c = Conn(H, port)
        n, _ = c.join(m.session)
        m.expect("PEER_JOINED")
        m.send(T["DATA"], 2, b"x" * 100)
        c.recv()
        conns += [m, c]
    setup = time.time() - t0
    time.sleep(0.5)
    rss = rss_kb(p.pid)
    print("tunneld RSS idle: %.1f MB" % (base / 1024))
    print("tunneld RSS with %d sessions x 1 client (%d connections): %.1f MB (goal <= 20 MB: %s); setup %.1f s" %
          (NSESS, 2 * NSESS, rss / 1024, "met" if rss <= 20 * 1024 else "NOT met", setup))
    for x in conns:
        x.close()
    conns = []

    # bulk throughput: master -> client DATA frames of 64 KiB - header (bulk.py)
    m = Conn(H, port)
    m.register()
    c = Conn(H, port)
    c.join(m.session)
    m.expect("PEER_JOINED")
    n, dt = bulk(m, c, MB)
    got = [n]
    tun_mbs = got[0] / dt / 1e6
    peak = rss_kb(p.pid)
    print("relay throughput through tunneld (framed, plaintext test payload): %.0f MB/s (%d MB in %.2f s), RSS %.1f MB"
          % (tun_mbs, got[0] // 1000000, dt, peak / 1024))
    m.close()
    c.close()

    # the same bytes through a plain socat relay
    if shutil.which("socat"):
        sport, dport = free_port(), free_port()
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((H, dport))
        ls.listen(1)
        so = subprocess.Popen(["socat", "TCP-LISTEN:%d,bind=%s,reuseaddr" % (sport, H), "TCP:%s:%d" % (H, dport)])
        ls.settimeout(10)
        src = None
        for _ in range(100):  # the first connection that succeeds is the measured one
            try:
                src = socket.create_connection((H, sport))
                break
            except OSError:
                time.sleep(0.05)
        dst, _ = ls.accept()
        n, dt = bulk(Sock(src), Sock(dst), MB)
        got[0] = n
        socat_mbs = got[0] / dt / 1e6
        print("plain socat relay, same bytes: %.0f MB/s; tunneld/socat = %.2fx (goal >= 0.7x with encryption on"
              " is the viewer's end-to-end figure)" % (socat_mbs, tun_mbs / socat_mbs))
        src.close()
        dst.close()
        so.kill()
    else:
        print("socat not installed: no peer figure")
finally:
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
    shutil.rmtree(tmp, ignore_errors=True)
