"""mailgw under kill -9: during DATA (nothing acknowledged, nothing kept), right after
the 250 (kept, delivered once after the restart), in the middle of a delivery
(delivered once after the restart) and right after a delivery (not delivered again);
clients that leave before the 250. MG_COMMIT_SYNC picks commit_sync (syncfs, the
default, or fsync: mailgw_crash_fsync.sh runs this file again with it)."""
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_mg import *  # noqa: E402,F401,F403

slow = Sink("slow")
fast = Sink("plain")
SYNC = os.environ.get("MG_COMMIT_SYNC", "syncfs")
mg = Mailgw("crash", [("smtp", "smtp", "")],
            mailgw="relay_domains = slow.example fast.example\ncommit_sync = %s\n" % SYNC,
            delivery="smarthost_map = slow.example 127.0.0.1:%d\nsmarthost_map = fast.example 127.0.0.1:%d\n"
                     "retry_min = 1s\nqueue_scan_interval = 1s\n" % (slow.port, fast.port))
mg.start()
P = mg.ports["smtp"]


def reply(f):
    while True:
        l = f.readline()
        if not l or len(l) < 4 or l[3:4] != b"-":
            return l


def session(to, body, finish=True):
    s = socket.create_connection(("127.0.0.1", P), timeout=10)
    f = s.makefile("rb")
    reply(f)
    s.sendall(b"EHLO x\r\nMAIL FROM:<a@sender.example>\r\nRCPT TO:<%s>\r\nDATA\r\n" % to.encode())
    for _ in range(4):
        reply(f)
    s.sendall(body)
    if not finish:
        return s, None
    s.sendall(b".\r\n")
    return s, reply(f)


# 1. kill -9 in the middle of DATA
s, _ = session("u@fast.example", b"Subject: half\r\n\r\n" + b"x" * 50000 + b"\r\n", finish=False)
tmpdir = os.path.join(mg.spool, "tmp")
check("kill -9 during DATA: the message is being spooled", wait_for(lambda: os.listdir(tmpdir), 10))
mg.stop(signal.SIGKILL)
s.close()
mg.start()
check("kill -9 during DATA: nothing left in the queue",
      wait_for(lambda: mg.queue_ids() == [] and os.listdir(tmpdir) == [], 5), str(mg.queue_ids()))

# 2. kill -9 right after the 250: the message survives and is delivered once
mg.stop()
mg2 = mg
with open(mg.conf) as f:
    text = f.read()
# no delivery while we kill: point fast.example at a closed port for a moment
closed = free_port()
with open(mg.conf, "w") as f:
    f.write(text.replace("127.0.0.1:%d" % fast.port, "127.0.0.1:%d" % closed))
mg.start()
s, r = session("u@fast.example", b"Subject: acked\r\n\r\nhello\r\n")
check("message acknowledged with 250", r.startswith(b"250"), repr(r))
mg.stop(signal.SIGKILL)
s.close()
check("after kill -9 the acknowledged message is in the queue", len(mg.queue_ids()) == 1, str(mg.queue_ids()))
with open(mg.conf, "w") as f:
    f.write(text)
mg.start()
got = wait_for(lambda: [m for m in fast.messages() if "Subject: acked" in m], 15)
time.sleep(1.5)  # a second copy would come at the next queue scan (1 s): give it the time
got = [m for m in fast.messages() if "Subject: acked" in m]
check("acknowledged message delivered exactly once after the restart", len(got) == 1, str(len(got)))

# 3. kill -9 while the next hop is still working on the message (before its 250)
s, r = session("u@slow.example", b"Subject: midway\r\n\r\nhello\r\n")
s.close()
wait_for(lambda: "data" in slow.events(), 10)   # at the next hop, before its 250
mg.stop(signal.SIGKILL)
wait_for(lambda: "gone" in slow.events(), 10)   # the sink noticed we are gone, stored nothing
check("kill -9 during delivery: the next hop has not stored it", not slow.messages())
mg.start()
got = wait_for(lambda: slow.messages(), 20)
time.sleep(1)  # a second copy would come at the next queue scan (1 s): give it the time
check("kill -9 during delivery: delivered exactly once after the restart", len(slow.messages()) == 1,
      str(len(slow.messages())))
wait_for(lambda: not mg.queue_ids(), 5)
check("queue empty after the delivery", not mg.queue_ids(), str(mg.queue_ids()))

# 4. kill -9 right after a delivery: never sent again
n = len(fast.messages())
s, r = session("u@fast.example", b"Subject: once\r\n\r\nhello\r\n")
s.close()
wait_for(lambda: [m for m in fast.messages() if "Subject: once" in m], 10)
wait_for(lambda: "to=<u@fast.example>" in mg.logtext() and "status=sent (250 2.0.0 sunk %d)" % (n + 1) in mg.logtext(), 5)
mg.stop(signal.SIGKILL)
mg.start()
time.sleep(2.5)  # two queue scans (1 s) in which a second delivery would happen
check("kill -9 after a delivery: not delivered again", len([m for m in fast.messages() if "Subject: once" in m]) == 1)

# 5. clients that leave right after the final dot, before the 250 (the commit may be
#    waiting or already on the worker thread): the daemon keeps serving, such a message
#    is delivered at most once, and no half message stays in the spool
for i in range(30):
    s, _ = session("u@fast.example", b"Subject: gone%d\r\n\r\nhello\r\n.\r\n" % i, finish=False)
    s.close()
s, r = session("u@fast.example", b"Subject: after\r\n\r\nhello\r\n")
s.close()
check("clients leaving before the 250: the daemon still answers 250", bool(r) and r.startswith(b"250"), repr(r))
wait_for(lambda: [m for m in fast.messages() if "Subject: after" in m], 10)
time.sleep(1.5)  # a second copy would come at the next queue scan (1 s): give it the time
dup = [i for i in range(30) if len([m for m in fast.messages() if "Subject: gone%d\r\n" % i in m]) > 1]
check("clients leaving before the 250: none of their messages delivered twice", not dup, str(dup))
sp = lambda d: os.listdir(os.path.join(mg.spool, d))
wait_for(lambda: not mg.queue_ids() and not sp("msg") and not sp("tmp"), 5)
check("clients leaving before the 250: no half message left in the spool", not mg.queue_ids() and not sp("msg") and not sp("tmp"),
      "%s %s %s" % (mg.queue_ids(), sp("msg"), sp("tmp")))
done()
