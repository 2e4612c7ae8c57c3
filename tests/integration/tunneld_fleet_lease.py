#!/usr/bin/python3
"""tunneld_fleet_lease.py - a session's lease is its relay's heartbeat (docs/tunneld.md
"Where a session lives"): with the default lease a kill -9 of a relay lets its master
resume through another relay within 5 s; an idle relay's Redis writes do not grow with its
sessions (no per-session renewal each heartbeat); the sessions of a relay dead for longer
than a resume may take are gone."""
import re
import time

from lib_tun import H, check, check_no_sanitizer, cleanup, sanitizer_logs, test
from tunnel_client import Closed, act_register, act_resume, follow
from lib_fleet import REDIS, Redis, relay, wait_log

rd = None


def cmdstats():
    """{command: calls} from INFO commandstats (commands run by scripts included)."""
    out = {}
    for m in re.finditer(r"cmdstat_([a-z|]+):calls=(\d+)", rd.cli("INFO", "commandstats")):
        out[m.group(1)] = int(m.group(2))
    return out


def t_default_lease_kill9():
    a = relay("a", rd, lease=None)
    b = relay("b", rd, lease=None, join_rate=100000)
    check("the default lease is 3 s", "lease 3s" in a.logtext(), a.logtext()[-400:])
    m = a.conn()
    n, kv = act_register(m)
    assert n == "REGISTERED", kv
    sess, tok = m.session, m.token
    a.p.kill()
    a.p.wait()
    t0 = time.time()
    got = None
    while time.time() - t0 < 30 and not got:
        try:
            nm, n, kv, hops = follow(H, b.port, act_resume(sess, 1, tok))
        except (Closed, OSError):  # redirected to the dead relay: refused
            time.sleep(0.1)
            continue
        if n == "REGISTERED":
            got = nm
        else:
            nm.close()
            time.sleep(0.1)  # a poll: the dead relay's heartbeat has not expired yet
    took = time.time() - t0
    check("kill -9 of its relay (default lease): the master resumed through another in <= 5 s (%.1f s)" % took,
          got is not None and took <= 5, "%s %s" % (n, kv))
    check("with the same number", got is not None and kv.get("session") == sess, str(kv))
    b.stop()


def t_idle_writes():
    """200 sessions on one relay: what it writes to Redis between two heartbeats."""
    r = relay("w", rd, prefix="idle", lease=None)
    ms = []
    for _ in range(200):
        m = r.conn()
        n, kv = act_register(m)
        if n != "REGISTERED":
            break
        ms.append(m)
    check("200 sessions registered", len(ms) == 200, "%d" % len(ms))
    rd.cli("CONFIG", "RESETSTAT")
    # five heartbeats (one EVAL each, 1 s apart at the default lease), polled
    deadline = time.time() + 30
    while time.time() < deadline and cmdstats().get("eval", 0) < 5:
        time.sleep(0.1)
    st = cmdstats()
    per_session = st.get("pexpire", 0) + st.get("expire", 0)
    check("five idle heartbeats at 200 sessions renew no session one by one (PEXPIRE calls: %d)" % per_session,
          st.get("eval", 0) >= 5 and per_session < 200, str(st))
    check("the heartbeat itself is renewed (SET calls: %d)" % st.get("set", 0), st.get("set", 0) >= 5, str(st))
    for m in ms:
        m.close()
    r.stop()


def t_dead_relay_sessions_expire():
    """A relay dead for longer than lease + dead_after + resume_grace: its session is no
    longer resumable anywhere, although its record is still in Redis until its own TTL."""
    e = relay("e", rd, prefix="gone", dead_after="1s", resume_grace="0s")
    f = relay("f", rd, prefix="gone")
    m = e.conn()
    n, kv = act_register(m)
    assert n == "REGISTERED", kv
    e.p.kill()
    e.p.wait()
    deadline = time.time() + 30
    while time.time() < deadline and rd.cli("EXISTS", "gone:g:e") != "0":
        time.sleep(0.1)
    check("the dead relay's resume window closes (gone:g:e expired)", rd.cli("EXISTS", "gone:g:e") == "0")
    nm, n, kv, hops = follow(H, f.port, act_resume(m.session, 1, m.token))
    check("after it, a resume with the right token finds no such session",
          n == "ERROR" and kv.get("code") == "no-such-session", "%s %s" % (n, kv))
    f.stop()


if not REDIS:
    print("skip - tunneld fleet lease: redis-server is not installed (mk/test-packages.txt)")
    raise SystemExit(0)
try:
    rd = Redis("redis-lease")
    for fn in (t_default_lease_kill9, t_idle_writes, t_dead_relay_sessions_expire):
        test(fn)
    bad = sanitizer_logs()
    check_no_sanitizer("no sanitizer report in any tunneld log", bad)
finally:
    cleanup()
