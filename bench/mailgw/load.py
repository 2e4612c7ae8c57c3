"""load.py - load generators for bench/mailgw/run (Python stdlib only).

  load.py relay HOST PORT N CONC       N small messages over C parallel STARTTLS sessions
                                       (10 messages per session); prints msgs/s
  load.py handshakes HOST PORT SECS    full TLS handshakes per second (implicit TLS)
  load.py idle HOST PORT N PIDFILE      opens N TLS connections, holds them, prints RSS"""
import os
import smtplib
import socket
import ssl
import sys
import threading
import time

ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE


def relay(host, port, n, conc):
    per = 10
    sessions = (n + per - 1) // per
    lock = threading.Lock()
    state = {"next": 0, "sent": 0, "err": 0}

    def worker():
        while True:
            with lock:
                i = state["next"]
                state["next"] += 1
            if i >= sessions:
                return
            try:
                s = smtplib.SMTP(host, port, timeout=60)
                s.ehlo("bench")
                s.starttls(context=ctx)
                s.ehlo("bench")
                for k in range(per):
                    s.sendmail("bench@sender.example", ["sink@bench.example"],
                               b"Subject: bench %d/%d\r\n\r\nsmall body\r\n" % (i, k))
                    with lock:
                        state["sent"] += 1
                s.quit()
            except Exception:
                with lock:
                    state["err"] += 1

    t0 = time.time()
    ts = [threading.Thread(target=worker) for _ in range(conc)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    dt = time.time() - t0
    print("accepted %d messages in %.2fs (%.1f msg/s in), %d session errors" % (
        state["sent"], dt, state["sent"] / dt, state["err"]))
    return state["sent"], dt


def handshakes(host, port, secs):
    n = 0
    end = time.time() + secs
    while time.time() < end:
        s = socket.create_connection((host, port), timeout=10)
        t = ctx.wrap_socket(s)
        t.close()
        n += 1
    print("%.1f handshakes/s" % (n / secs))


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
    if m == "relay":
        relay(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif m == "handshakes":
        handshakes(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        idle(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
