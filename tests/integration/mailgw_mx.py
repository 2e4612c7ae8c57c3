"""mailgw next hops from MX records (net_resolve_mx) against a small DNS server run
here on loopback: preference order with fallback to the next MX, NXDOMAIN and null MX
(RFC 7505) fail permanently with a DSN, a DNS timeout defers."""
import os
import socket
import struct
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_mg import *  # noqa: E402,F401,F403

sink = Sink("starttls")
bounces = Sink("plain")


def enc(name):
    out = b""
    for label in name.split(".") if name else []:
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


ZONE = {
    # the first MX refuses connections (nothing listens on 127.0.0.2), the second works
    "mx.example": [(20, "localhost"), (10, "127.0.0.2")],
    "nullmx.example": [(0, "")],
}
queries = []


def dns_server(sock):
    while True:
        try:
            q, addr = sock.recvfrom(512)
        except OSError:
            return
        qid = q[:2]
        i = 12
        labels = []
        while q[i]:
            labels.append(q[i + 1:i + 1 + q[i]].decode())
            i += 1 + q[i]
        name = ".".join(labels).lower()
        question = q[12:i + 5]
        queries.append(name)
        if name == "slow.example":
            continue   # never answered: a timeout
        if name not in ZONE:
            sock.sendto(qid + struct.pack(">HHHHH", 0x8183, 1, 0, 0, 0) + question, addr)
            continue
        ans = b""
        for pref, host in ZONE[name]:
            rdata = struct.pack(">H", pref) + enc(host)
            ans += b"\xc0\x0c" + struct.pack(">HHIH", 15, 1, 60, len(rdata)) + rdata
        sock.sendto(qid + struct.pack(">HHHHH", 0x8180, 1, len(ZONE[name]), 0, 0) + question + ans, addr)


ds = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
ds.bind(("127.0.0.1", 0))
dport = ds.getsockname()[1]
threading.Thread(target=dns_server, args=(ds,), daemon=True).start()

mg = Mailgw("mx", [("smtp", "smtp", "")],
            mailgw="relay_domains = mx.example nx.example nullmx.example slow.example\n",
            delivery="dns_server = 127.0.0.1:%d\nsmtp_port = %d\nsmarthost_map = sender.example 127.0.0.1:%d\n"
                     "retry_min = 1h\nqueue_scan_interval = 1h\nconnect_timeout = 2s\n" % (dport, sink.port, bounces.port))
mg.start()
import smtplib  # noqa: E402


def send(to, subject):
    with smtplib.SMTP("127.0.0.1", mg.ports["smtp"], timeout=10) as s:
        s.sendmail("s@sender.example", [to], ("Subject: %s\r\n\r\nx\r\n" % subject).encode())


send("u@mx.example", "m1")
got = wait_for(lambda: [m for m in sink.messages() if "Subject: m1" in m], 15)
check("MX: delivered through the MX records", bool(got))
# the delivery line follows the next hop's 250, which may come after its file appears
wait_for(lambda: "relay=localhost:%d status=sent" % sink.port in mg.logtext(), 10)
t = mg.logtext()
check("MX: lower preference tried first (127.0.0.2), then the next MX",
      t.find("127.0.0.2:%d: connect failed" % sink.port) >= 0 and "trying next hop localhost:%d" % sink.port in t, t[-1500:])
check("MX: TLS with the MX host name logged", "relay=localhost:%d status=sent" % sink.port in t)

send("u@nx.example", "n1")
dsn = wait_for(lambda: [m for m in bounces.messages() if "nx.example" in m], 10)
check("NXDOMAIN: permanent failure and a DSN (5.1.2)", dsn and "Status: 5.1.2" in dsn[0], dsn[0][:800] if dsn else "")
send("u@nullmx.example", "z1")
dsn = wait_for(lambda: [m for m in bounces.messages() if "nullmx.example" in m], 10)
check("null MX: permanent failure and a DSN (5.1.10)", dsn and "Status: 5.1.10" in dsn[0], dsn[0][:800] if dsn else "")
send("u@slow.example", "s1")
wait_for(lambda: "MX lookup for slow.example failed" in mg.logtext(), 10)
rc, out = mg.cli("queue")
check("DNS timeout: deferred with the reason in the queue", "MX lookup for slow.example failed" in out and "pending" in out, out)
done()
