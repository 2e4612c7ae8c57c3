"""mailgw outbound: delivery to aiosmtpd downstream servers (STARTTLS, plaintext,
broken TLS, TLS required, rejecting), opportunistic TLS with fallback and memory,
forced TLS deferral with the reason in `mailgw queue`, verify level, DSN bounces,
ETRN release, flush and delete, and the log lines that say what happened."""
import os
import re
import smtplib
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_mg import *  # noqa: E402,F401,F403

C = certs()
tls_sink = Sink("starttls")
wrongname_sink = Sink("starttls", cert="sni-a")   # certificate for a.test only
plain_sink = Sink("plain")
broken_sink = Sink("broken")
req_sink = Sink("require")
rej_sink = Sink("reject")
bounce_sink = Sink("plain")     # the senders' domain: receives DSNs
etrn_sink = Sink("starttls")

m = lambda d, s: "smarthost_map = %s 127.0.0.1:%d\n" % (d, s.port)
mg = Mailgw("relay", [("smtp", "smtp", "")],
            mailgw="relay_domains = tls.example plain.example broken.example forced.example verify.example "
                   "verifyok.example req.example rej.example etrn.example sender.example brokenforced.example\n"
                   "etrn_domains = etrn.example\n",
            delivery=m("tls.example", tls_sink) + m("plain.example", plain_sink) + m("broken.example", broken_sink)
            + m("forced.example", plain_sink) + m("verify.example", wrongname_sink) + m("req.example", req_sink)
            + m("rej.example", rej_sink) + m("sender.example", bounce_sink) + m("brokenforced.example", broken_sink)
            + "tls_policy = brokenforced.example encrypt\n" + m("etrn.example", etrn_sink)
            + "smarthost_map = verifyok.example localhost:%d\n" % tls_sink.port
            + "tls_policy = forced.example encrypt\ntls_policy = verify.example verify\n"
            + "tls_policy = verifyok.example verify\ntls_ca_file = %s/ca.pem\n" % C
            + "retry_min = 1h\nqueue_scan_interval = 1h\ntls_memory_time = 1h\n")
mg.start()
P = mg.ports["smtp"]


def send(to, subject, frm="s@sender.example"):
    with smtplib.SMTP("127.0.0.1", P, timeout=10) as s:
        s.sendmail(frm, [to], ("Subject: %s\r\nFrom: <%s>\r\n\r\nbody of %s\r\n.leading dot\r\n" % (
            subject, frm, subject)).encode())


def sink_has(sink, subject):
    return [x for x in sink.messages() if "Subject: %s" % subject in x]


def log_has(pattern):
    return re.search(pattern, mg.logtext()) is not None


# 1. opportunistic TLS, server offers STARTTLS
send("a@tls.example", "t1")
got = wait_for(lambda: sink_has(tls_sink, "t1"))
check("STARTTLS downstream: delivered over TLS", got and "tls=TLSv1.3" in got[0], got[0][:200] if got else "nothing")
check("dot-stuffing survives the relay", got and "\r\n.leading dot\r\n" in got[0])
# the sink stores the message before its 250; mailgw logs status=sent after reading it
check("delivery log names TLS version, cipher and verify result",
      wait_for(lambda: log_has(r"to=<a@tls\.example> relay=127\.0\.0\.1:\d+ status=sent .* tls=TLSv1\.3 TLS_\S+ verify=not verified"), 5))
wait_for(lambda: not mg.queue_ids(), 5)
check("delivered message leaves the queue", not mg.queue_ids(), str(mg.queue_ids()))

# 2. no STARTTLS offered: plaintext, remembered as not-offered
send("a@plain.example", "p1")
got = wait_for(lambda: sink_has(plain_sink, "p1"))
check("no STARTTLS offered: delivered in plaintext", got and "tls=none" in got[0])
check("no STARTTLS offered: remembered as not-offered", wait_for(lambda: log_has(r"127\.0\.0\.1:%d: remembering 'not-offered'" % plain_sink.port), 3))

# 3. broken TLS: fallback to plaintext, remembered; the next delivery skips STARTTLS
send("a@broken.example", "b1")
got = wait_for(lambda: sink_has(broken_sink, "b1"))
check("broken TLS: fell back to plaintext and delivered", got and "tls=none" in got[0])
check("broken TLS: handshake failure logged and remembered",
      log_has(r"TLS handshake failed .* retrying in plaintext") and log_has(r"remembering 'handshake-failed'"))
with open(os.path.join(mg.spool, "tlsmem")) as f:
    mem = f.read()
check("TLS memory file has both kinds", "not-offered" in mem and "handshake-failed" in mem, mem)
# the parked session's idle time (2 s) passes: b2 needs a new connection
check("the parked session is closed after its idle time",
      wait_for(lambda: log_has(r"pool: 127\.0\.0\.1:%d unused for \d+ ms, closing" % broken_sink.port), 10))
send("a@broken.example", "b2")
got = wait_for(lambda: sink_has(broken_sink, "b2"))
check("broken TLS: second delivery skips STARTTLS because of the memory",
      got and log_has(r"skipping STARTTLS, handshake failed recently"))

# 3b. the memory never applies to forced TLS: the same broken next hop, policy encrypt
send("a@brokenforced.example", "bf1")
wait_for(lambda: log_has(r"TLS required \(encrypt\) but the handshake with 127\.0\.0\.1 failed"), 5)
check("forced TLS ignores the memory: handshake tried, failed, deferred, not sent in plaintext",
      log_has(r"TLS required \(encrypt\) but the handshake with 127\.0\.0\.1 failed") and not sink_has(broken_sink, "bf1"))

# 4. forced TLS (encrypt) to a server without STARTTLS: deferred, never plaintext
send("a@forced.example", "f1")
wait_for(lambda: log_has(r"TLS required \(encrypt\) but 127\.0\.0\.1 does not offer STARTTLS"), 5)
time.sleep(0.3)  # an absence: a plaintext delivery, were there one, would follow the refusal at once
check("forced TLS: not delivered in plaintext", not sink_has(plain_sink, "f1"))
rc, out = mg.cli("queue")
check("forced TLS: deferral reason in `mailgw queue`",
      rc == 0 and "a@forced.example" in out and "TLS required (encrypt)" in out and "pending" in out, out)
check("`mailgw queue` shows the TLS memory of the destination",
      re.search(r"via 127\.0\.0\.1:%d  tls-memory not-offered" % plain_sink.port, out) is not None, out)

# 5. verify level: a certificate for another name (a.test) is refused
send("a@verify.example", "v1")
wait_for(lambda: log_has(r"TLS required \(verify\) but the handshake with 127\.0\.0\.1 failed"), 5)
check("verify level: certificate for another name deferred, not delivered",
      not sink_has(wrongname_sink, "v1") and log_has(r"TLS required \(verify\) but the handshake"))
send("a@verifyok.example", "v2")
got = wait_for(lambda: sink_has(tls_sink, "v2"))
# the sink stores the message before its 250; mailgw logs after reading that 250
check("verify level: valid chain and name delivered, verify=ok logged",
      got and wait_for(lambda: log_has(r"to=<a@verifyok\.example> .*status=sent .*verify=ok"), 5))

# 6. TLS required by the server: opportunistic STARTTLS satisfies it
send("a@req.example", "r1")
got = wait_for(lambda: sink_has(req_sink, "r1"))
check("server requiring TLS: delivered over STARTTLS", got and "tls=TLSv1" in got[0])

# 7. permanent failure: DSN to the sender
send("nobody@rej.example", "x1")
dsn = wait_for(lambda: [x for x in bounce_sink.messages() if "Undelivered Mail" in x], 10)
check("5xx: a DSN goes to the sender", bool(dsn))
if dsn:
    d = dsn[0]
    check("DSN is RFC 3464 multipart/report with the failed recipient",
          ("from=<>" in d or "from=<<>>" in d) and "multipart/report; report-type=delivery-status" in d
          and "Final-Recipient: rfc822; nobody@rej.example" in d and "Status: 5.1.1" in d
          and "Action: failed" in d and "Subject: x1" in d, d[:1500])

# 8. ETRN: held until released
send("a@etrn.example", "e1")
time.sleep(0.5)  # an absence: a delivery, were the hold broken, would start at once
check("ETRN domain: mail is held", not sink_has(etrn_sink, "e1") and len(mg.queue_ids()) >= 1)
with smtplib.SMTP("127.0.0.1", P, timeout=10) as s:
    s.ehlo()
    code, msg = s.docmd("ETRN etrn.example")
check("ETRN etrn.example: 250 queuing started", code == 250, "%d %r" % (code, msg))
got = wait_for(lambda: sink_has(etrn_sink, "e1"))
check("ETRN: held mail delivered", bool(got))

# 9. delete and flush
ids = mg.queue_ids()
fid = None
rc, out = mg.cli("queue")
for line in out.splitlines():
    if "from <s@sender.example>" in line:
        pass
for i in ids:
    with open(os.path.join(mg.spool, "env", i)) as f:
        if "forced.example" in f.read():
            fid = i
rc, out = mg.cli("delete", fid or "none")
check("mailgw delete ID removes the message", rc == 0 and fid and fid not in mg.queue_ids(), out)
rc, out = mg.cli("delete", "../../etc")
check("mailgw delete refuses a bad id", rc != 0)
send("a@verify.example", "v3")
wait_for(lambda: mg.logtext().count("TLS required (verify) but the handshake") >= 2, 5)
rc, out = mg.cli("flush")
check("mailgw flush: daemon takes the request", rc == 0 and "delivery started" in out, out)
vpat = "TLS required (verify) but the handshake"
check("flush retried the deferred messages (v1 and v3 tried again)", wait_for(lambda: mg.logtext().count(vpat) >= 4, 5),
      str(mg.logtext().count(vpat)))

# 11. per-destination concurrency: with a limit of 1, two messages to a slow next hop
#     are delivered one after the other; a second destination is not held up.
slow = Sink("slow")
fast = Sink("plain")
mc = Mailgw("conc", [("smtp", "smtp", "")], mailgw="relay_domains = slow.example fast.example\n",
            delivery="smarthost_map = slow.example 127.0.0.1:%d\nsmarthost_map = fast.example 127.0.0.1:%d\n"
                     "concurrency_per_destination = 1\nretry_min = 1h\n" % (slow.port, fast.port))
mc.start()
for i in range(2):
    with smtplib.SMTP("127.0.0.1", mc.ports["smtp"], timeout=10) as s:
        s.sendmail("s@sender.example", ["u@slow.example"], b"Subject: c%d\r\n\r\nx\r\n" % i)
t0 = time.time()
with smtplib.SMTP("127.0.0.1", mc.ports["smtp"], timeout=10) as s:
    s.sendmail("s@sender.example", ["u@fast.example"], b"Subject: quick\r\n\r\nx\r\n")
check("a busy destination does not hold up another one", wait_for(lambda: fast.messages(), 2.5) and time.time() - t0 < 2.5)
wait_for(lambda: len(slow.messages()) == 2, 15)
times = sorted(os.path.getmtime(os.path.join(slow.out, n)) for n in os.listdir(slow.out) if n.endswith(".eml"))
check("concurrency_per_destination = 1: deliveries to one next hop in sequence",
      len(times) == 2 and times[1] - times[0] >= 2.5, str(times))

# 12. the memory expires: the next hop is probed again
mr = Mailgw("reprobe", [("smtp", "smtp", "")], mailgw="relay_domains = broken.example\n",
            delivery="smarthost_map = broken.example 127.0.0.1:%d\ntls_memory_time = 2s\nretry_min = 1h\n" % broken_sink.port)
mr.start()
for subj in ("rp1", "rp2"):
    with smtplib.SMTP("127.0.0.1", mr.ports["smtp"], timeout=10) as s:
        s.sendmail("s@sender.example", ["a@broken.example"], ("Subject: %s\r\n\r\nx\r\n" % subj).encode())
    wait_for(lambda: sink_has(broken_sink, subj), 10)
    if subj == "rp1":
        time.sleep(2.5)  # tls_memory_time (2 s) must pass: the expiry is what is tested
check("TLS memory expires: STARTTLS probed again after tls_memory_time",
      mr.logtext().count("TLS handshake failed") == 2 and "skipping STARTTLS" not in mr.logtext(), mr.logtext()[-800:])

# 10. maximum queue lifetime: a next hop that never answers; the sender gets a DSN
exp_bounce = Sink("plain")
me = Mailgw("expire", [("smtp", "smtp", "")], mailgw="relay_domains = dead.example\n",
            delivery="smarthost_map = dead.example 127.0.0.1:%d\nsmarthost_map = sender.example 127.0.0.1:%d\n"
                     "max_queue_lifetime = 2s\nretry_min = 1s\nqueue_scan_interval = 1s\n" % (free_port(), exp_bounce.port))
me.start()
with smtplib.SMTP("127.0.0.1", me.ports["smtp"], timeout=10) as s:
    s.sendmail("s@sender.example", ["u@dead.example"], b"Subject: expiring\r\n\r\nx\r\n")
dsn = wait_for(lambda: [x for x in exp_bounce.messages() if "dead.example" in x], 15)
check("max_queue_lifetime: DSN after expiry (4.4.7) with the last error",
      dsn and "Status: 4.4.7" in dsn[0] and "connect failed" in dsn[0], dsn[0][:1200] if dsn else "")
wait_for(lambda: not me.queue_ids(), 5)
check("expired message leaves the queue once bounced", not me.queue_ids(), str(me.queue_ids()))

# 13. ETRN releases every message held for the domain at that moment, more than the
#     per-destination limit lets start at once; `mailgw flush DOMAIN` the same; mail
#     that arrives afterwards is held again until the next release.
h1, h2 = Sink("plain"), Sink("plain")
mh = Mailgw("etrnall", [("smtp", "smtp", "")],
            mailgw="relay_domains = hold.example hold2.example\netrn_domains = hold.example hold2.example\n",
            delivery="smarthost_map = hold.example 127.0.0.1:%d\nsmarthost_map = hold2.example 127.0.0.1:%d\n"
                     "concurrency_per_destination = 1\nretry_min = 1h\nqueue_scan_interval = 1h\n" % (h1.port, h2.port))
mh.start()
NH = 6
for dom in ("hold.example", "hold2.example"):
    with smtplib.SMTP("127.0.0.1", mh.ports["smtp"], timeout=10) as s:
        for i in range(NH):
            s.sendmail("s@sender.example", ["u@" + dom], ("Subject: %s-%d\r\n\r\nx\r\n" % (dom, i)).encode())
time.sleep(0.5)  # an absence: a delivery, were the hold broken, would start at once
check("ETRN domains: %d messages each held" % NH, not h1.messages() and not h2.messages() and len(mh.queue_ids()) == 2 * NH,
      str(len(mh.queue_ids())))
with smtplib.SMTP("127.0.0.1", mh.ports["smtp"], timeout=10) as s:
    s.ehlo()
    code, msg = s.docmd("ETRN hold.example")
check("one ETRN: 250 for all %d held messages" % NH, code == 250 and b"(%d messages)" % NH in msg, "%d %r" % (code, msg))
got = wait_for(lambda: len(h1.messages()) >= NH, 15)
check("one ETRN with concurrency_per_destination = 1: all %d held messages delivered" % NH,
      got and len(h1.messages()) == NH, str(len(h1.messages())))
check("ETRN for one domain leaves the other held", not h2.messages())
rc, out = mh.cli("flush", "hold2.example")
got = wait_for(lambda: len(h2.messages()) >= NH, 15)
check("one mailgw flush DOMAIN: all %d held messages delivered" % NH, rc == 0 and got and len(h2.messages()) == NH,
      "%s %d" % (out, len(h2.messages())))
with smtplib.SMTP("127.0.0.1", mh.ports["smtp"], timeout=10) as s:
    s.sendmail("s@sender.example", ["u@hold.example"], b"Subject: later\r\n\r\nx\r\n")
time.sleep(1)  # an absence: a delivery, were the hold broken, would start at once
check("mail after the release is held again until the next ETRN",
      len(h1.messages()) == NH and len(mh.queue_ids()) == 1, "%d %s" % (len(h1.messages()), mh.queue_ids()))
done()
