"""load.py - handshake and idle-connection clients for bench/mailgw/run (Python
stdlib only; the relay load is smtpbench.py).

  load.py handshakes HOST PORT SECS [THREADS]    full TLS handshakes per second
                                                 (implicit TLS), THREADS clients (1)
  load.py sthandshakes HOST PORT SECS [THREADS]  the same after banner, EHLO, STARTTLS
  load.py idle HOST PORT N PIDFILE      opens N TLS connections, holds them, prints RSS"""
import os
import socket
import ssl
import sys
import threading
import time

ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE


def smtp_reply(s):
    """The code of one SMTP reply read straight off the socket. Safe before STARTTLS: the
    server sends nothing after its final reply line until the client speaks again."""
    buf = b""
    while True:
        d = s.recv(4096)
        if not d:
            raise ConnectionError("connection closed")
        buf += d
        if buf.endswith(b"\r\n"):
            last = buf[:-2].rsplit(b"\r\n", 1)[-1]
            if last[3:4] != b"-":
                return int(last[:3])


def one_handshake(host, port, starttls):
    s = socket.create_connection((host, port), timeout=10)
    try:
        if starttls:
            if smtp_reply(s) != 220:
                raise ConnectionError("no banner")
            s.sendall(b"EHLO hs.bench.test\r\n")
            if smtp_reply(s) != 250:
                raise ConnectionError("EHLO refused")
            s.sendall(b"STARTTLS\r\n")
            if smtp_reply(s) != 220:
                raise ConnectionError("STARTTLS refused")
        t = ctx.wrap_socket(s)
        t.close()
    finally:
        s.close()


def handshakes(host, port, secs, threads, starttls):
    """Full handshakes per second from THREADS clients in a loop (the handshake itself runs
    in OpenSSL without the interpreter lock, so the threads do run in parallel)."""
    st = {"n": 0, "err": 0}
    lock = threading.Lock()
    end = time.time() + secs

    def loop():
        while time.time() < end:
            try:
                one_handshake(host, port, starttls)
                k = "n"
            except (OSError, ConnectionError, ValueError):
                k = "err"
            with lock:
                st[k] += 1

    ts = [threading.Thread(target=loop) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("%.1f handshakes/s%s" % (st["n"] / secs, " (%d failed)" % st["err"] if st["err"] else ""))


def idle(host, port, n, pidfile):
    conns = []
    for i in range(n):
        s = socket.create_connection((host, port), timeout=30)
        conns.append(ctx.wrap_socket(s))
    time.sleep(1)
    pid = open(pidfile).read().strip()
    rss = [l for l in open("/proc/%s/status" % pid) if l.startswith("VmRSS")][0].split()[1]
    print("%d idle TLS connections: mailgw RSS %.1f MB" % (len(conns), int(rss) / 1024))
    for c in conns:
        c.close()


if __name__ == "__main__":
    m = sys.argv[1]
    if m in ("handshakes", "sthandshakes"):
        handshakes(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]),
                   int(sys.argv[5]) if len(sys.argv) > 5 else 1, m == "sthandshakes")
    else:
        idle(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
