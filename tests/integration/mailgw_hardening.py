"""mailgw hardening regressions (issue 11): a DSN never carries body text; NUL in DATA is
refused after the final dot and the session stays usable; a next hop that streams
endless "250-" lines is cut off (temporary failure, daemon fine); one client address
at its connection cap cannot lock out another (max_connections_per_ip)."""
import os
import smtplib
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_mg import *  # noqa: E402,F401,F403

C = certs()
rej_sink = Sink("reject")      # every RCPT 550: the message bounces
bounce_sink = Sink("plain")    # the senders' domain: receives the DSNs


class EndlessHop:
    """The attacker's next hop: greets, then answers EHLO with "250-" lines without end
    (bounded here: at most 30 s or 50 MB, and it stops when mailgw hangs up)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.sent = 0
        self.closed_by_peer = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.one, args=(c,), daemon=True).start()

    def one(self, c):
        try:
            c.sendall(b"220 evil.example ESMTP\r\n")
            c.settimeout(10)
            c.recv(1000)  # EHLO
            line = b"250-" + b"X" * 90 + b"\r\n"
            end = time.time() + 30
            while time.time() < end and self.sent < 50 * 1024 * 1024:
                c.sendall(line * 100)
                self.sent += len(line) * 100
        except OSError:
            self.closed_by_peer.set()
        finally:
            c.close()


evil = EndlessHop()
m = lambda d, s: "smarthost_map = %s 127.0.0.1:%d\n" % (d, s)
mg = Mailgw("hard", [("smtp", "smtp", "")],
            mailgw="relay_domains = rej.example sender.example evil.example\nmax_connections = 25\n",
            delivery=m("rej.example", rej_sink.port) + m("sender.example", bounce_sink.port)
            + m("evil.example", evil.port) + "retry_min = 1h\nqueue_scan_interval = 1h\n")
mg.start()
P = mg.ports["smtp"]

# 1. DSN without a header/body break in the first 64 KiB: nothing of it attached.
nobreak = "".join("line %05d BODYSECRET %s\r\n" % (i, "z" * 60) for i in range(1100))
with smtplib.SMTP("127.0.0.1", P, timeout=10) as s:
    s.sendmail("a@sender.example", ["nobody@rej.example"], nobreak.encode())
    s.sendmail("b@sender.example", ["nobody@rej.example"],
               b"Subject: with-break\r\nFrom: <b@sender.example>\r\n\r\nBODYSECRET2 of the body\r\n")
dsns = wait_for(lambda: (lambda l: l if len(l) >= 2 else None)(
    [x for x in bounce_sink.messages() if "Undelivered Mail" in x]), 15) or []
d1 = [x for x in dsns if "to=<a@sender.example>" in x]
d2 = [x for x in dsns if "to=<b@sender.example>" in x]
check("DSN for a message without a header/body break is sent", bool(d1), "%d DSNs" % len(dsns))
check("that DSN carries no body text (no break within 64 KiB: no headers attached)",
      d1 and "BODYSECRET" not in d1[0] and "text/rfc822-headers" in d1[0],
      d1[0][-600:] if d1 else "")
check("a normal message's DSN has its headers and not its body",
      d2 and "Subject: with-break" in d2[0] and "BODYSECRET2" not in d2[0], d2[0][-600:] if d2 else "")


# 2. NUL in DATA: 554 after the final dot, the transaction fails, the session goes on.
def rd(f):
    lines = []
    while True:
        ln = f.readline()
        if not ln:
            break
        lines.append(ln)
        if len(ln) < 4 or ln[3:4] != b"-":
            break
    return b"".join(lines).decode(errors="replace")


sk = socket.create_connection(("127.0.0.1", P), timeout=10)
f = sk.makefile("rb")
rd(f)
out = {}
for cmd in (b"EHLO t\r\n", b"MAIL FROM:<n@sender.example>\r\n", b"RCPT TO:<x@rej.example>\r\n", b"DATA\r\n"):
    sk.sendall(cmd)
    out[cmd] = rd(f)
sk.sendall(b"Subject: nul\r\n\r\nbefore\x00after\r\n.\r\n")
r_nul = rd(f)
check("NUL in DATA: refused with 554 5.6.0 after the final dot", r_nul.startswith("554 5.6.0") and "NUL" in r_nul,
      r_nul)
sk.sendall(b"NOOP\r\n")
r_noop = rd(f)
sk.sendall(b"MAIL FROM:<n@sender.example>\r\nRCPT TO:<x@sender.example>\r\nDATA\r\n")
r3 = rd(f) + rd(f) + rd(f)
sk.sendall(b"Subject: clean\r\n\r\nclean\r\n.\r\n")
r_ok = rd(f)
sk.sendall(b"QUIT\r\n")
sk.close()
check("after the NUL refusal the connection stays usable (NOOP, next message queued)",
      r_noop.startswith("250") and "354" in r3 and "queued as" in r_ok, r_noop + r3 + r_ok)
check("the NUL refusal is logged once", mg.logtext().count("NUL character") == 1,
      str(mg.logtext().count("NUL character")))

# 3. A next hop that streams "250-" lines without end: cut off, temporary failure.
with smtplib.SMTP("127.0.0.1", P, timeout=10) as s:
    s.sendmail("e@sender.example", ["v@evil.example"], b"Subject: evil\r\n\r\nhi\r\n")
cut = wait_for(lambda: "reply too long" in mg.logtext() or "reply longer than" in mg.logtext(), 20)
check("endless 250- continuation lines: the delivery is cut off with a log line", cut,
      "sent %d bytes; log: %s" % (evil.sent, mg.logtext()[-600:]))
check("the attacker could send only a bounded amount before the hang-up",
      wait_for(lambda: evil.closed_by_peer.is_set(), 10) and evil.sent < 5 * 1024 * 1024, "sent %d" % evil.sent)
rc, q = mg.cli("queue")
check("the message stays queued with a temporary error", "v@evil.example" in q and "pending" in q
      and "reply too long" in q, q[-600:])
with smtplib.SMTP("127.0.0.1", P, timeout=10) as s:
    code, _ = s.noop()
check("the daemon stays fine after the endless reply", code == 250)


# 4. Per-client-address limit: 127.0.0.1 holds its cap (20 by default), 127.0.0.2 still gets in.
def hold(src, n):
    socks, banners = [], []
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", P), timeout=10, source_address=(src, 0))
        socks.append(c)
        banners.append(c.makefile("rb").readline().decode(errors="replace"))
    return socks, banners


held, b1 = hold("127.0.0.1", 20)
check("20 connections from one address are served", all(b.startswith("220") for b in b1), str(b1[-3:]))
extra, b2 = hold("127.0.0.1", 6)
check("the client's extra connections get 421 4.7.0 Too many connections from your address",
      all(b.startswith("421 4.7.0") and "from your address" in b for b in b2), str(b2[:2]))
other, b3 = hold("127.0.0.2", 1)
check("another address still gets in while the first holds its cap", b3[0].startswith("220"), b3[0])
nlog = mg.logtext().count("connections from this client")
check("the refusals are logged rate-limited (one line for six refusals)", nlog == 1, str(nlog))
for c in held + extra + other:
    c.close()
again = wait_for(lambda: (lambda b: b if b[1][0].startswith("220") else None)(hold("127.0.0.1", 1)), 10)
check("after the client hangs up its slots are free again", bool(again))
for c in (again[0] if again else []):
    c.close()
done()
