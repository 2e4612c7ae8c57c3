"""mailgw recipient validation from list files (rcpt_source = DOMAIN file:/PATH): unknown
recipients of a relay domain get 550 5.1.1 at RCPT (no backscatter), an unreadable list
451 4.4.3 (or accept), the list is re-read on SIGHUP, and `mailgw rcpt-test` says why."""
import os
import signal
import smtplib
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_mg import *  # noqa: E402,F401,F403

lst = os.path.join(TMP, "local.list")
with open(lst, "w") as f:
    f.write("# users of local.example\nalice\nBob@Local.Example   # mixed case\n\n  dave@local.example\n")
catch = os.path.join(TMP, "catch.list")
with open(catch, "w") as f:
    f.write("@catchall.example\n")
src = ("rcpt_source = local.example file:%s\nrcpt_source = catchall.example file:%s\n"
       "rcpt_source = down.example file:%s/missing.list\n" % (lst, catch, TMP))
mg = Mailgw("rcpt", [("mx", "smtp", "")],
            mailgw="relay_domains = local.example catchall.example down.example open.example\n" + src,
            delivery="retry_min = 1h\nqueue_scan_interval = 1h\nsmarthost = 127.0.0.1:9\n")
mg.start()
P = mg.ports["mx"]


def rcpt(addr, port=P):
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.ehlo("t")
        s.mail("s@sender.example")
        code, msg = s.rcpt(addr)
        return code, msg.decode(errors="replace")


for a in ("alice@local.example", "BOB@local.example", "dave@LOCAL.example"):
    c, m = rcpt(a)
    check("listed recipient %s accepted" % a, c == 250, "%d %s" % (c, m))
c, m = rcpt("nobody@local.example")
check("unknown recipient of a relay domain: 550 5.1.1 User unknown at RCPT", c == 550 and "5.1.1" in m, "%d %s" % (c, m))
c, m = rcpt("carol@local.example")
check("carol is not listed yet: 550", c == 550, "%d %s" % (c, m))
c, m = rcpt("anyone@catchall.example")
check("'@domain' in the list takes every address of the domain", c == 250, "%d %s" % (c, m))
c, m = rcpt("anyone@open.example")
check("a relay domain without a source is not checked", c == 250, "%d %s" % (c, m))
c, m = rcpt("x@down.example")
check("an unreadable list: 451 4.4.3", c == 451 and "4.4.3" in m, "%d %s" % (c, m))
check("the unknown recipient is logged", "unknown recipient <nobody@local.example>" in mg.logtext())

with open(lst, "a") as f:
    f.write("carol\n")
n0 = mg.logtext().count("applied")
mg.proc.send_signal(signal.SIGHUP)
wait_for(lambda: mg.logtext().count("applied") > n0, 10)
c, m = rcpt("carol@local.example")
check("SIGHUP re-reads the list: carol accepted", c == 250, "%d %s" % (c, m))

rc, out = mg.cli("rcpt-test", "carol@local.example")
check("rcpt-test: a listed address is valid (exit 0), the source is named",
      rc == 0 and "result: valid" in out and "file:" + lst in out, out)
rc, out = mg.cli("rcpt-test", "nobody@local.example")
check("rcpt-test: an unknown address (exit 1)", rc == 1 and "unknown (550 5.1.1" in out, out)
rc, out = mg.cli("rcpt-test", "x@down.example")
check("rcpt-test: an unavailable source (exit 69)", rc == 69 and "unavailable" in out and "cannot read" in out, out)
rc, out = mg.cli("rcpt-test", "x@open.example")
check("rcpt-test: no source, not checked (exit 0)", rc == 0 and "not checked" in out, out)

acc = Mailgw("rcptacc", [("mx", "smtp", "")],
             mailgw="relay_domains = down.example\nrcpt_unavailable = accept\n"
                    "rcpt_source = down.example file:%s/missing.list\n" % TMP)
acc.start()
c, m = rcpt("x@down.example", acc.ports["mx"])
check("rcpt_unavailable = accept: an unreadable list lets the recipient in", c == 250, "%d %s" % (c, m))
done()
