"""mailgw inbound SMTP against real clients: swaks (plain, STARTTLS, implicit TLS, SNI),
Python smtplib, openssl s_client -starttls smtp; open relay; forced TLS (530); the
STARTTLS injection test; oversize, overlong and garbage input; bare-LF smuggling; ETRN."""
import os
import re
import smtplib
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_mg import *  # noqa: E402,F401,F403

C = certs()
HOLD = Sink("plain")  # never reached: relay targets point here only for ETRN
# example.com's next hop: a socket that accepts (the kernel's backlog) and never greets,
# so mail accepted for example.com stays in the queue while the checks read it. Without
# it delivery ran at once, example.com got NXDOMAIN here and the bounce removed the
# message: the Received: check and the queue count raced the delivery.
SILENT = socket.socket()
SILENT.bind(("127.0.0.1", 0))
SILENT.listen(128)
mg = Mailgw("in", [
    ("smtp", "smtp", ""),
    ("smtps", "smtps", "sni = a.test %s/sni-a.pem %s/sni-a.key" % (C, C)),
    ("sub", "submission", ""),
], mailgw="""relay_domains = example.com .corp.example
relay_clients = 10.9.9.0/24
require_tls_clients = 127.0.0.5
etrn_domains = etrn.example
etrn_clients = 127.0.0.1
max_message_size = 4k
max_errors = 5
""", delivery="smarthost_map = etrn.example 127.0.0.1:%d\nsmarthost_map = example.com 127.0.0.1:%d\n"
   "retry_min = 1h\nqueue_scan_interval = 1h\n" % (HOLD.port, SILENT.getsockname()[1]))
mg.start()
P, PS, PSUB = mg.ports["smtp"], mg.ports["smtps"], mg.ports["sub"]


def swaks(*args):
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--from", "s@sender.example",
                        "--timeout", "10"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return r.returncode, r.stdout.decode(errors="replace")


rc, out = swaks("--port", str(P), "--to", "u@example.com")
check("swaks plain: accepted and queued", rc == 0 and "queued as" in out, out[-300:])
rc, out = swaks("--port", str(P), "--to", "u@example.com", "--tls")
check("swaks STARTTLS: accepted", rc == 0 and "queued as" in out and "TLS started" in out, out[-300:])
rc, out = swaks("--port", str(PS), "--to", "u@a.corp.example", "--tls-on-connect", "--tls-get-peer-cert")
check("swaks implicit TLS (smtps): accepted", rc == 0 and "queued as" in out, out[-300:])
rc, out = swaks("--port", str(PS), "--to", "u@example.com", "--tls-on-connect", "--tls-sni", "a.test")
check("swaks with SNI: accepted", rc == 0 and "queued as" in out, out[-300:])


def peer_subject(port, sni):
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-servername", sni],
                       input=b"QUIT\r\n", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    m = re.search(r"subject=(.*)", r.stdout.decode(errors="replace"))
    return m.group(1) if m else ""


check("SNI a.test selects the per-name certificate", "a.test" in peer_subject(PS, "a.test"), peer_subject(PS, "a.test"))
check("other SNI gets the listener's own certificate", "localhost" in peer_subject(PS, "other.test"),
      peer_subject(PS, "other.test"))

# Per-IP certificates: one listener per local address, each with its own certificate.
mip = Mailgw("perip", [("a", "smtps", "", "127.0.0.2", "sni-a"), ("b", "smtps", "", "127.0.0.3", "sni-b")],
             mailgw="relay_domains = example.com\n")
mip.start()


def subject_at(ip, port):
    r = subprocess.run(["openssl", "s_client", "-connect", "%s:%d" % (ip, port)], input=b"QUIT\r\n",
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    m = re.search(r"subject=(.*)", r.stdout.decode(errors="replace"))
    return m.group(1) if m else ""


sa, sb = subject_at("127.0.0.2", mip.ports["a"]), subject_at("127.0.0.3", mip.ports["b"])
check("per-IP certificates: 127.0.0.2 and 127.0.0.3 present their own", "a.test" in sa and "b.test" in sb, "%s / %s" % (sa, sb))

# Open relay: a foreign domain from a client not in relay_clients.
rc, out = swaks("--port", str(P), "--to", "victim@elsewhere.example")
check("open relay refused with 550 5.7.1", "550 5.7.1" in out and "queued as" not in out, out[-300:])
rc, out = swaks("--port", str(P), "--to", "victim@example.com.elsewhere.example")
check("relay domain suffix trick refused", "550 5.7.1" in out, out[-300:])
rc, out = swaks("--port", str(P), "--to", "u@[127.0.0.1]")
check("address literal refused for untrusted client", "550 5.7.1" in out, out[-300:])

# Python smtplib with STARTTLS, and the Received: header in the queue file.
ctx = ssl.create_default_context(cafile=C + "/ca.pem")
with smtplib.SMTP("127.0.0.1", P, timeout=10) as s:
    s.ehlo("py.example")
    check("EHLO offers STARTTLS, SIZE, PIPELINING, 8BITMIME, ENHANCEDSTATUSCODES, ETRN",
          all(s.has_extn(x) for x in ("starttls", "size", "pipelining", "8bitmime", "enhancedstatuscodes", "etrn")))
    s._host = "localhost"
    s.starttls(context=ctx)
    s.ehlo("py.example")
    check("after STARTTLS, STARTTLS is no longer offered", not s.has_extn("starttls"))
    s.sendmail("a@sender.example", ["b@example.com"], b"Subject: py\r\n\r\nhello\r\n")
ids = mg.queue_ids()
found = False
for i in ids:
    with open(os.path.join(mg.spool, "msg", i), errors="replace", newline="") as f:
        t = f.read()
    if "Subject: py" in t:
        found = re.search(r"Received: from py\.example \(\[127\.0\.0\.1\]\)\r\n\tby mx\.test \(mailgw\) with ESMTPS id \S+\r\n\t\(using TLSv1\.[23] with cipher \S+\)", t) is not None
check("Received: header records TLS version and cipher", found)

# openssl s_client -starttls smtp
r = subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-connect", "127.0.0.1:%d" % P,
                    "-CAfile", C + "/ca.pem", "-verify_return_error", "-servername", "localhost"],
                   input=b"QUIT\r\n", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
o = r.stdout.decode(errors="replace")
check("openssl s_client -starttls smtp: verified handshake", "Verify return code: 0 (ok)" in o, o[-400:])


def raw(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    f = s.makefile("rb")
    return s, f


def reply(f):
    lines = []
    while True:
        l = f.readline().decode(errors="replace")
        if not l:
            break
        lines.append(l.rstrip("\r\n"))
        if len(l) < 4 or l[3] != "-":
            break
    return lines


# STARTTLS injection: commands pipelined behind STARTTLS must never run.
s, f = raw(P)
reply(f)
s.sendall(b"EHLO x\r\n")
reply(f)
s.sendall(b"STARTTLS\r\nMAIL FROM:<inj@sender.example>\r\nRCPT TO:<u@example.com>\r\n")
r = reply(f)
check("injection: STARTTLS answered 220", r and r[0].startswith("220"), str(r))
tctx = ssl.create_default_context(cafile=C + "/ca.pem")
ts = tctx.wrap_socket(s, server_hostname="localhost")
ts.settimeout(1.0)
extra = b""
try:
    extra = ts.recv(4096)
except (socket.timeout, ssl.SSLError):
    pass
check("injection: no reply to the injected commands arrives over TLS", extra == b"", repr(extra))
ts.settimeout(5)
tf = ts.makefile("rb")
ts.sendall(b"RCPT TO:<u@example.com>\r\n")
r = reply(tf)
check("injection: injected MAIL was discarded (RCPT gets 503)", r and r[0].startswith("503"), str(r))
ts.sendall(b"MAIL FROM:<a@b.example>\r\n")
r = reply(tf)
check("injection: session state reset after STARTTLS (EHLO required again)", r and r[0].startswith("503"), str(r))
ts.close()

# Forced TLS for listed clients (127.0.0.5) and on the submission listener.
s = socket.create_connection(("127.0.0.1", P), timeout=5, source_address=("127.0.0.5", 0))
f = s.makefile("rb")
reply(f)
s.sendall(b"EHLO x\r\nMAIL FROM:<a@sender.example>\r\n")
reply(f)
r = reply(f)
check("forced TLS client: MAIL before STARTTLS gets 530 5.7.0", r and r[0].startswith("530 5.7.0 Must issue a STARTTLS command first"), str(r))
s.close()
rc, out = swaks("--port", str(PSUB), "--to", "u@example.com")
check("submission listener: 530 without STARTTLS", "530 5.7.0" in out and "queued as" not in out, out[-300:])
rc, out = swaks("--port", str(PSUB), "--to", "u@example.com", "--tls")
check("submission listener: accepted with STARTTLS", rc == 0 and "queued as" in out, out[-300:])

# Oversize: declared SIZE and actual size.
with smtplib.SMTP("127.0.0.1", P, timeout=10) as s:
    s.ehlo()
    code, msg = s.docmd("MAIL FROM:<a@sender.example> SIZE=999999")
    check("SIZE above the limit: 552 5.3.4", code == 552 and b"5.3.4" in msg, "%d %r" % (code, msg))
s, f = raw(P)
reply(f)
s.sendall(b"EHLO x\r\nMAIL FROM:<a@sender.example>\r\nRCPT TO:<u@example.com>\r\nDATA\r\n")
for _ in range(4):
    reply(f)
s.sendall(b"Subject: big\r\n\r\n" + (b"y" * 500 + b"\r\n") * 20 + b".\r\n")
r = reply(f)
check("message above the limit refused (552 5.3.4)", r and r[0].startswith("552 5.3.4"), str(r))
s.close()

# Overlong and garbage lines.
s, f = raw(P)
reply(f)
s.sendall(b"NOOP " + b"A" * 5000 + b"\r\n")
r = reply(f)
check("overlong command line: 500 5.5.2 and close", r and r[0].startswith("500 5.5.2") and f.readline() == b"", str(r))
s, f = raw(P)
reply(f)
s.sendall(b"\x00\xff\xfe garbage\r\n" * 5)
rs = [reply(f) for _ in range(6)]
check("garbage: 500 replies, then 421 after max_errors", rs[0] and rs[0][0].startswith("500") and rs[5] and rs[5][0].startswith("421"), str(rs))
s, f = raw(P)
reply(f)
s.sendall(b"EHLO x\r\nMAIL FROM:<a@sender.example>\r\nRCPT TO:<u@example.com>\r\nDATA\r\n")
for _ in range(4):
    reply(f)
s.sendall(b"Subject: long\r\n\r\n" + b"z" * 1500 + b"\r\n.\r\n")
r = reply(f)
check("DATA line over 998 octets: 554 5.6.0", r and r[0].startswith("554 5.6.0"), str(r))
# SMTP smuggling: a bare-LF "end of data" must not end the message or start another.
n_before = len(mg.queue_ids())
s.sendall(b"MAIL FROM:<a@sender.example>\r\nRCPT TO:<u@example.com>\r\nDATA\r\n")
for _ in range(3):
    reply(f)
s.sendall(b"Subject: smuggle\r\n\r\nx\n.\nMAIL FROM:<evil@sender.example>\r\nRCPT TO:<u@example.com>\r\nDATA\r\nSubject: smuggled\r\n\r\n.\r\n")
r = reply(f)
s.sendall(b"NOOP\r\n")
r2 = reply(f)
check("bare LF smuggling: one reply for the whole message (554), nothing smuggled",
      r and r[0].startswith("554 5.6.0") and r2 and r2[0].startswith("250") and len(mg.queue_ids()) == n_before,
      "%s %s" % (r, r2))
s.close()

# ETRN
s, f = raw(P)
reply(f)
s.sendall(b"EHLO x\r\nETRN other.example\r\n")
reply(f)
r = reply(f)
check("ETRN for a non-ETRN domain: 459", r and r[0].startswith("459"), str(r))
s.sendall(b"ETRN etrn.example\r\n")
r = reply(f)
check("ETRN with nothing held: 251", r and r[0].startswith("251"), str(r))
s.close()
rc, out = swaks("--port", str(P), "--to", "x@etrn.example", "--from", "s@sender.example")
# etrn.example is not a relay domain; the local client is not a relay client either
check("mail for an ETRN domain still needs relay permission", "550 5.7.1" in out, out[-200:])

# tls-check against the SMTP listener (STARTTLS) with our CA
rc, out = mg.cli("tls-check", "127.0.0.1:%d" % P, "--starttls", "smtp", "--ca", C + "/ca.pem", "--sni", "localhost")
check("mailgw tls-check --starttls smtp: EHLO dialogue, STARTTLS, verified",
      rc == 0 and "S: 250-mx.test" in out and "STARTTLS offered: yes" in out and "verification: ok" in out
      and "subject:" in out and "valid:" in out, out[-600:])

# idle timeout between commands
mt = Mailgw("timeout", [("smtp", "smtp", "")], mailgw="smtp_timeout = 1s\nrelay_domains = example.com\nrelay_clients = 10.9.9.0/24\n")
mt.start()
s, f = raw(mt.ports["smtp"])
reply(f)
t0 = time.time()
r = reply(f)
check("idle client: 421 4.4.2 after smtp_timeout, then closed",
      r and r[0].startswith("421 4.4.2") and f.readline() == b"" and time.time() - t0 < 5, str(r))
f.close()   # the makefile holds the descriptor too
s.close()
time.sleep(0.3)   # let the daemon finish its side of the close before it is stopped

# max_connections: the session beyond the limit gets 421 4.3.2
mm = Mailgw("maxconn", [("smtp", "smtp", "")], mailgw="max_connections = 2\nrelay_domains = example.com\n")
mm.start()
# the start-up probe's session must be gone before we count
wait_for(lambda: "the client closed the connection" in mm.logtext(), 5)
held = [raw(mm.ports["smtp"]) for _ in range(2)]
greets = [reply(hf) for hs, hf in held]
check("max_connections: sessions up to the limit are served", all(g and g[0].startswith("220") for g in greets), str(greets))
s3, f3 = raw(mm.ports["smtp"])
r = reply(f3)
check("max_connections: one more session gets 421 4.3.2", r and r[0].startswith("421 4.3.2"), str(r))
ended = mm.logtext().count("the client closed the connection")
for hs, hf in held:
    hf.close()
    hs.close()
f3.close()
s3.close()
wait_for(lambda: mm.logtext().count("the client closed the connection") >= ended + 2, 5)
s4, f4 = raw(mm.ports["smtp"])
r = reply(f4)
check("max_connections: room again once sessions end", r and r[0].startswith("220"), str(r))
f4.close()
s4.close()
time.sleep(0.3)   # let the daemon finish its side of the close before it is stopped

# SIGHUP: a new relay domain takes effect; a broken file is refused and the old one stays
import signal  # noqa: E402
rc, out = swaks("--port", str(mt.ports["smtp"]), "--to", "u@new.example")
check("before reload: new.example is refused", "550 5.7.1" in out, out[-200:])
with open(mt.conf) as f:
    text = f.read()
with open(mt.conf, "w") as f:
    f.write(text.replace("relay_domains = example.com", "relay_domains = example.com new.example"))
mt.proc.send_signal(signal.SIGHUP)
wait_for(lambda: "reload: %s applied" % mt.conf in mt.logtext(), 5)
rc, out = swaks("--port", str(mt.ports["smtp"]), "--to", "u@new.example")
check("SIGHUP reload: new.example accepted", rc == 0 and "queued as" in out, out[-300:])
with open(mt.conf, "w") as f:
    f.write(text.replace("relay_domains = example.com", "relay_domains = example.com new.example\nbogus = 1"))
mt.proc.send_signal(signal.SIGHUP)
wait_for(lambda: "keeping the running configuration" in mt.logtext(), 5)
rc, out = swaks("--port", str(mt.ports["smtp"]), "--to", "u@new.example")
check("SIGHUP with a broken file: refused with file:line, old configuration kept",
      rc == 0 and "queued as" in out and re.search(r"reload: .*mailgw\.ini:\d+: .*bogus", mt.logtext()) is not None,
      mt.logtext()[-400:])
done()
