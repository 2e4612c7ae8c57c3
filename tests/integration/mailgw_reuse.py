"""mailgw outbound connection reuse: several queued messages to one destination go
over one SMTP session (one TCP connection, one STARTTLS handshake: RSET + the next
MAIL FROM), counted by the downstream server's view of the client's source port;
an unused parked session is closed after its idle time and the next message opens a
new one; a message for another domain never rides a session admitted for the first."""
import os
import re
import smtplib
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_mg import *  # noqa: E402,F401,F403

sink = Sink("starttls")
other = Sink("starttls")
mg = Mailgw("reuse", [("smtp", "smtp", "")],
            mailgw="relay_domains = one.example two.example\n",
            delivery="smarthost_map = one.example 127.0.0.1:%d\n" % sink.port
            + "smarthost_map = two.example 127.0.0.1:%d\n" % other.port
            + "concurrency_per_destination = 1\nretry_min = 1h\nqueue_scan_interval = 1h\n")
mg.start()
P = mg.ports["smtp"]


def send(to, subject):
    with smtplib.SMTP("127.0.0.1", P, timeout=10) as s:
        s.sendmail("s@sender.example", [to], ("Subject: %s\r\n\r\nbody %s\r\n" % (subject, subject)).encode())


def conns(msgs):
    return [re.search(r"^X-Sink: .* conn=(\S+)", m).group(1) for m in msgs]


# five messages in one inbound session: with one connection per destination allowed,
# they queue up behind each other and each delivery continues the previous session
with smtplib.SMTP("127.0.0.1", P, timeout=10) as s:
    for i in range(5):
        s.sendmail("s@sender.example", ["u%d@one.example" % i], ("Subject: r%d\r\n\r\nbody\r\n" % i).encode())
got = wait_for(lambda: len(sink.messages()) == 5 and sink.messages(), 15)
if not got:
    print(mg.logtext()[-3000:])
check("all five delivered", got and len(got) == 5, str(len(sink.messages())))
c = conns(got or [])
check("five messages to one destination over one connection", len(c) == 5 and len(set(c)) == 1, str(c))
check("the reused session stays on TLS", got and all("tls=TLSv1.3" in m for m in got), "")
check("the log says the session was reused", mg.logtext().count("reusing the session") == 4,
      str(mg.logtext().count("reusing the session")))
check("no message lost or doubled", sorted(re.search(r"Subject: (\S+)", m).group(1) for m in got or []) ==
      ["r%d" % i for i in range(5)], "")
check("queue empty afterwards", wait_for(lambda: not mg.queue_ids(), 5), str(mg.queue_ids()))

# another domain (own next hop): never over the session parked for one.example
send("x@two.example", "t1")
g2 = wait_for(lambda: other.messages(), 10)
check("other domain delivered on its own connection", g2 and conns(g2)[0] not in c, str(conns(g2 or [])))

# idle parked session: closed after ~2 s, the next message opens a new connection
check("the parked session is closed after its idle time",
      wait_for(lambda: "pool: 127.0.0.1:%d unused for" % sink.port in mg.logtext(), 10))
send("late@one.example", "late")
g3 = wait_for(lambda: len(sink.messages()) == 6 and sink.messages(), 10)
c3 = conns(g3 or [])
check("after the idle time a new connection", len(c3) == 6 and c3[5] != c3[0], str(c3))
done()
