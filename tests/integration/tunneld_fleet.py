#!/usr/bin/python3
"""tunneld_fleet.py - tunneld as a fleet ([cluster], docs/tunneld.md "Fleet"): three relays
and their own redis-server on loopback. Registrations on each relay, joins through the
wrong relay redirected, two relays racing for the numbers of a tiny space, Redis stopped
(and stalled) and restarted, a Redis that answers garbage or nothing, drain, the fleet
restarted with its numbers still burned, and kill -9 of a relay with master and client
resuming through the others."""
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

from lib_tun import H, SEALBOX, TOP, check, check_no_sanitizer, cleanup, sanitizer_logs, test
from tunnel_client import T, Closed, act_join, act_register, act_resume, follow, free_port
from lib_fleet import REDIS, Redis, relay, start_tinyproxy, wait_log, wait_stalled

def fleet_marks():
    return {n: len(fleet[n].logtext()) for n in ("a", "b", "c")}


def wait_fleet(marks):
    """After a Redis restart: until relays a, b, c are back in the fleet (each retries with
    its own backoff)."""
    return all(wait_log(fleet[n], "reachable; relay " + n, since=m) for n, m in marks.items())


def register(r):
    m = r.conn()
    n, kv = act_register(m)
    return m, n, kv


rd = None
fleet = {}


def t_register_and_redirect():
    a, b, c = fleet["a"], fleet["b"], fleet["c"]
    ms = {}
    for r in (a, b, c):
        m, n, kv = register(r)
        check("a master registers on relay %s" % r.kv["listen"], n == "REGISTERED", str(kv))
        ms[r] = m
    nums = {m.session for m in ms.values()}
    check("the three relays handed out three different numbers", len(nums) == 3, str(nums))
    check("each number is burned in Redis",
          all(rd.cli("EXISTS", "fleet:n3:%d" % int(n)) == "1" for n in nums))
    ma = ms[a]
    cl, n, kv, hops = follow(H, b.port, act_join(ma.session))
    check("a join through the wrong relay is redirected once, to the right relay's public address",
          len(hops) == 1 and hops[0].get("relay") == "a" and hops[0].get("tcp") == "%s:%d" % (H, a.port)
          and hops[0].get("reason") == "elsewhere", str(hops))
    check("and following the redirect joins the session", n == "JOINED", "%s %s" % (n, kv))
    check("the master hears of the client", ma.expect("PEER_JOINED")["id"] == kv.get("id"))
    cl.send(T["DATA"], 1, b"through the fleet")
    check("DATA flows after the redirect", ma.recv()[5] == b"through the fleet")
    x = b.conn()
    x.send_ctl(T["JOIN"], src=0, session="%03d" % 999 if "999" not in nums else "998")
    nm, kv = x.recv_ctl()
    check("a join for a number nobody holds is no-such-session", nm == "ERROR" and kv.get("code") == "no-such-session",
          "%s %s" % (nm, kv))
    out = subprocess.run([SEALBOX, "tunneld", "status", "-c", a.conf], capture_output=True, text=True, timeout=10)
    deadline = time.time() + 10
    while time.time() < deadline and not ("fleet b " in out.stdout and "fleet c " in out.stdout
                                          and "session %s" % ma.session in out.stdout):
        time.sleep(0.3)
        out = subprocess.run([SEALBOX, "tunneld", "status", "-c", a.conf], capture_output=True, text=True,
                             timeout=10)
    check("tunneld status lists this relay's sessions and the fleet's relays with their load",
          out.returncode == 0 and "session %s" % ma.session in out.stdout and "fleet b " in out.stdout
          and "sessions=" in out.stdout, out.stdout + out.stderr)
    fleet["kept"] = (ma, cl)


def t_https_through_proxy():
    """A client on the HTTPS path behind a CONNECT proxy is redirected and follows through the
    same proxy, verifying the new relay's certificate against the redirect's host name."""
    tp = shutil.which("tinyproxy")
    if not tp:
        print("skip - redirect over HTTPS through tinyproxy: tinyproxy is not installed")
        return
    certs = os.path.join(TOP, "build", "test-certs")
    subprocess.run(["sh", os.path.join(TOP, "tests", "data", "mkcerts.sh")], stdout=subprocess.DEVNULL, check=True)
    hs = []
    for name in ("h1", "h2"):
        sp = free_port()
        hs.append((relay(name, rd, prefix="fleet", cluster="public_https = localhost:%d\n" % sp,
                         https_listen="%s:%d" % (H, sp), tls_cert=os.path.join(certs, "server.pem"),
                         tls_key=os.path.join(certs, "server.key")), sp))
    px = start_tinyproxy()
    if not px:
        check("tinyproxy starts", False)
        return
    pport, log = px
    (h1, p1), (h2, p2) = hs
    m, n, kv = register(h1)
    assert n == "REGISTERED", kv
    cl, n, kv, hops = follow("localhost", p2, act_join(m.session), mode="https",
                             cafile=os.path.join(certs, "ca.pem"), proxy=(H, pport))
    check("over HTTPS through a proxy, a join at the wrong relay is redirected (https=localhost:PORT)",
          len(hops) == 1 and hops[0].get("https") == "localhost:%d" % p1, str(hops))
    check("and the client follows through the same proxy, TLS verified, and joins", n == "JOINED", "%s %s" % (n, kv))
    with open(log) as f:
        txt = f.read()
    check("tinyproxy carried both connections", "localhost:%d" % p1 in txt and "localhost:%d" % p2 in txt, txt[-400:])
    m.expect("PEER_JOINED")
    for r, _ in hs:
        r.stop()


def t_race():
    """Two relays hand out a space of 90 numbers concurrently: every number once."""
    ra = relay("race-a", rd, prefix="race", digits=2)
    rb = relay("race-b", rd, prefix="race", digits=2)
    got = {ra: [], rb: []}
    full = {ra: 0, rb: 0}

    def worker(r):
        while True:
            try:
                m, n, kv = register(r)
            except (Closed, OSError):
                continue
            if n == "REGISTERED":
                got[r].append(m.session)
                m.close()
            elif n == "ERROR" and kv.get("code") == "full":
                full[r] += 1
                m.close()
                return
            else:
                m.close()
    ts = [threading.Thread(target=worker, args=(r,)) for r in (ra, rb) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    allnums = got[ra] + got[rb]
    check("two relays racing for 90 numbers hand out each exactly once",
          len(allnums) == 90 and len(set(allnums)) == 90, "%d handed out, %d distinct" % (len(allnums), len(set(allnums))))
    check("both relays took part in the race", got[ra] and got[rb], "%d/%d" % (len(got[ra]), len(got[rb])))
    check("then both refuse with full", full[ra] and full[rb])
    check("the fleet's count in Redis is 90", rd.cli("GET", "race:c2") == "90", rd.cli("GET", "race:c2"))
    check("the fleet's exhaustion was warned about", "fleet session numbers running low: 0 of 90" in
          ra.logtext() + rb.logtext())
    fleet["race"] = (ra, rb)


def t_redis_down_and_back():
    a = fleet["a"]
    ma, cl = fleet["kept"]
    mark, marks = len(a.logtext()), fleet_marks()
    rd.stop()
    check("a relay notices Redis is gone", wait_log(a, "unreachable", since=mark))
    m, n, kv = register(a)
    check("REGISTER while Redis is down is refused with a clear reason",
          n == "ERROR" and kv.get("code") == "unavailable" and "session store" in kv.get("msg", ""), str(kv))
    check("and the log says why", "the fleet's Redis is unreachable" in a.logtext()[mark:])
    cl.send(T["DATA"], 1, b"still here")
    check("a live session keeps running without Redis", ma.recv()[5] == b"still here")
    ma.send(T["PING"], 0)
    check("the relay answers at once", ma.expect("PONG") == {})
    c2 = a.conn()
    n, kv = c2.join(ma.session)
    check("a join to a session of this relay works without Redis", n == "JOINED", "%s %s" % (n, kv))
    ma.expect("PEER_JOINED")
    rd.start()
    check("the relay reconnects by itself", wait_log(a, "reachable; relay a", since=mark))
    key, field = "fleet:s3:%d" % int(ma.session), "h%d" % c2.id
    deadline = time.time() + 10
    while time.time() < deadline and rd.cli("HEXISTS", key, field) != "1":
        time.sleep(0.1)
    check("back with Redis, the relay writes its sessions' records again (the join made meanwhile)",
          rd.cli("HEXISTS", key, field) == "1" and rd.cli("HGET", key, "owner") == "a")
    m, n, kv = register(a)
    check("REGISTER works again", n == "REGISTERED", str(kv))
    check("burned numbers survived the Redis restart (append-only file)",
          rd.cli("GET", "race:c2") == "90", rd.cli("GET", "race:c2"))
    # a Redis that stalls (DEBUG SLEEP) must not stall the relay
    mark = len(a.logtext())
    sleeper = subprocess.Popen(["redis-cli", "-p", str(rd.port), "DEBUG", "SLEEP", "6"], stdout=subprocess.DEVNULL)
    check("(Redis stalls)", wait_stalled(rd))
    t0 = time.time()
    m, n, kv = register(a)
    took = time.time() - t0
    ma.send(T["PING"], 0)
    pong = ma.expect("PONG", timeout=1.0) == {}
    check("a REGISTER while Redis stalls fails within redis_timeout", n == "ERROR" and took < 2.5,
          "%s %s %.1fs" % (n, kv, took))
    check("and the loop keeps answering meanwhile", pong)
    check("the log says Redis did not answer in time", wait_log(a, "no answer within", since=mark))
    sleeper.wait(10)
    check("and it recovers", wait_log(a, "reachable; relay a", since=mark))
    wait_fleet(marks)


def t_local_range():
    """local_range: numbers reserved in Redis for one relay, issued only while Redis is away."""
    # numbers earlier tests' random registrations burned in 900-909 are not the range's
    free = [n for n in range(900, 910) if rd.cli("EXISTS", "fleet:n3:%d" % n) != "1"]
    r = relay("res", rd, cluster="local_range = 900-909\n")
    check("a relay reserves its local_range in Redis",
          wait_log(r, "local_range reserved: %d numbers (%d unused)" % (len(free), len(free))), r.logtext()[-300:])
    check("as burned numbers no other relay can issue", free and rd.cli("GET", "fleet:n3:%d" % free[0]) == "res+r")
    m0, n, kv = register(r)
    check("while Redis is up, REGISTER does not use the range", n == "REGISTERED" and not 900 <= int(kv["session"]) <= 909,
          str(kv))
    mark, marks = len(r.logtext()), fleet_marks()
    rd.stop()
    wait_log(r, "unreachable", since=mark)
    m, n, kv = register(r)
    check("while Redis is down, REGISTER is served from local_range", n == "REGISTERED" and 900 <= int(kv["session"]) <= 909,
          "%s %s" % (n, kv))
    ma, na, kva = register(fleet["a"])
    check("(a relay without one refuses)", na == "ERROR" and kva.get("code") == "unavailable", str(kva))
    rd.start()
    wait_log(r, "reachable; relay res", since=mark)
    wait_fleet(marks)
    num = int(kv.get("session", 0))
    deadline = time.time() + 10
    while time.time() < deadline and rd.cli("GET", "fleet:n3:%d" % num) != "res":
        time.sleep(0.1)
    check("back with Redis, the number is marked used and its session recorded",
          rd.cli("GET", "fleet:n3:%d" % num) == "res" and rd.cli("HGET", "fleet:s3:%d" % num, "owner") == "res")
    while time.time() < deadline and rd.cli("EXISTS", "fleet:r:res") != "1":
        time.sleep(0.1)  # its heartbeat, which names its addresses
    cl, n, kv, hops = follow(H, fleet["b"].port, act_join(m.session))
    check("and a join through another relay is redirected to it", n == "JOINED" and len(hops) == 1
          and hops[0].get("relay") == "res", "%s %s %s" % (n, kv, hops))
    r.stop()


def fake_server(mode):
    """A TCP server that answers every connection with garbage, or with nothing."""
    ls = socket.socket()
    ls.bind((H, 0))
    ls.listen(8)
    conns = []

    def run():
        while True:
            try:
                s, _ = ls.accept()
            except OSError:
                return
            conns.append(s)
            if mode == "garbage":
                try:
                    s.sendall(b"HTTP/1.1 200 OK\r\n\r\n" + os.urandom(2000))
                except OSError:
                    pass
    threading.Thread(target=run, daemon=True).start()
    return ls, conns


def t_bad_redis():
    for mode, why in (("garbage", "malformed"), ("silent", "no answer within")):
        ls, conns = fake_server(mode)

        class Fake:
            port = ls.getsockname()[1]
        r = relay("bad-" + mode, Fake, prefix="bad", wait=False)
        check("a Redis that answers %s is dropped with a reason" % mode, wait_log(r, why, timeout=10),
              r.logtext()[-500:])
        m, n, kv = register(r)
        check("REGISTER is refused (unavailable), not hung (%s)" % mode, n == "ERROR" and kv.get("code") == "unavailable",
              str(kv))
        p = r.conn()
        p.send(T["PING"], 0)
        check("the relay's loop stays responsive (%s)" % mode, p.expect("PONG", timeout=1.0) == {})
        deadline = time.time() + 10
        while time.time() < deadline and len(conns) < 3:
            time.sleep(0.1)
        check("it keeps retrying, with a backoff (%s)" % mode, len(conns) >= 3, "%d connections" % len(conns))
        r.stop()
        ls.close()


def t_drain():
    b = fleet["b"]
    mb, n, kv = register(b)
    mark = len(b.logtext())
    b.p.send_signal(signal.SIGUSR1)
    check("SIGUSR1 drains the relay", wait_log(b, "draining", since=mark))
    m, n, kv, hops = follow(H, b.port, act_register)
    check("a REGISTER on a draining relay is redirected to another relay",
          len(hops) == 1 and hops[0].get("reason") == "draining" and hops[0].get("relay") in ("a", "c")
          and n == "REGISTERED", "%s %s %s" % (hops, n, kv))
    cl, n, kv, hops = follow(H, b.port, act_join(mb.session))
    check("its live session still takes joins", n == "JOINED" and not hops, "%s %s" % (n, hops))
    deadline = time.time() + 10
    out = ""
    while time.time() < deadline and "fleet b " not in out or "draining=1" not in out.split("fleet b ")[-1].split("\n")[0]:
        out = subprocess.run([SEALBOX, "tunneld", "status", "-c", fleet["a"].conf], capture_output=True,
                             text=True, timeout=10).stdout
        time.sleep(0.3)
        if time.time() > deadline:
            break
    check("the fleet sees b draining", "draining=1" in out.split("fleet b ")[-1].split("\n")[0], out)
    # SIGTERM of the drained relay hands its session over: master and client resume elsewhere
    mb.expect("PEER_JOINED")
    sess, mtok, ctok, cid = mb.session, mb.token, cl.token, cl.id
    b.stop()
    check("a drained relay exits leaving its sessions to the fleet", "left to the fleet" in b.logtext())
    check("its participants hear no END (the links just close)", mb.closed(3) and cl.closed(3))
    nm, n, kv, hops = follow(H, fleet["a"].port, act_resume(sess, 1, mtok))
    check("the master of a drained relay's session resumes through another relay, at once",
          n == "REGISTERED" and kv.get("resumed") == "1" and kv.get("session") == sess, "%s %s" % (n, kv))
    nc, n, kv, hops = follow(H, fleet["c"].port, act_resume(sess, cid, ctok))
    check("and its client too (redirected to the relay that took it over)",
          n == "JOINED" and kv.get("resumed") == "1" and len(hops) == 1 and hops[0].get("relay") == "a",
          "%s %s %s" % (n, kv, hops))
    nc.send(T["DATA"], 1, b"moved")
    check("the moved session relays DATA", nm.expect("PEER_JOINED") and nm.recv()[5] == b"moved")
    mark = len(b.logtext())
    b.start()
    wait_log(b, "reachable; relay b", since=mark)


def t_fleet_restart():
    """Relays restarted with empty state directories, Redis restarted: still full."""
    ra, rb = fleet["race"]
    ra.stop()
    rb.stop()
    marks = fleet_marks()
    rd.stop()
    rd.start()
    shutil.rmtree(ra.state, ignore_errors=True)
    shutil.rmtree(rb.state, ignore_errors=True)
    la, lb = len(ra.logtext()), len(rb.logtext())
    ra.start()
    rb.start()
    ok = wait_log(ra, "reachable; relay race-a", since=la) and wait_log(rb, "reachable; relay race-b", since=lb)
    m, n, kv = register(ra)
    m2, n2, kv2 = register(rb)
    check("the fleet's relays reconnect by themselves", wait_fleet(marks))
    check("after restarting Redis and the relays (state dirs wiped) every number is still burned",
          ok and n == "ERROR" and kv.get("code") == "full" and n2 == "ERROR" and kv2.get("code") == "full",
          "%s %s / %s %s" % (n, kv, n2, kv2))


def t_kill9_resume():
    a, b, c = fleet["a"], fleet["b"], fleet["c"]
    m, n, kv = register(c)
    assert n == "REGISTERED", kv
    cl, n, kv, hops = follow(H, c.port, act_join(m.session))
    assert n == "JOINED", kv
    m.expect("PEER_JOINED")
    sess, mtok, ctok, cid = m.session, m.token, cl.token, cl.id
    c.p.kill()
    c.p.wait()
    t0 = time.time()
    got = None
    while time.time() - t0 < 20:
        try:
            nm, n, kv, hops = follow(H, a.port, act_resume(sess, 1, mtok))
        except (Closed, OSError):
            time.sleep(0.3)
            continue
        if n == "REGISTERED":
            got = nm
            break
        nm.close()
        time.sleep(0.3)
    check("after kill -9 of its relay the master resumes through another relay", got is not None,
          "%s %s" % (n, kv))
    if not got:
        return
    check("with the same number, resumed=1", kv.get("session") == sess and kv.get("resumed") == "1", str(kv))
    check("the relay says it took the session over", wait_log(a, "session %d taken over from relay c" % int(sess)))
    nc, n, kv, hops = follow(H, b.port, act_resume(sess, cid, ctok))
    check("the client resumes through a third relay, redirected to the new owner",
          n == "JOINED" and kv.get("resumed") == "1" and len(hops) == 1 and hops[0].get("relay") == "a",
          "%s %s %s" % (n, kv, hops))
    pj = got.expect("PEER_JOINED")
    check("the master hears the client is back", pj.get("id") == str(cid) and pj.get("resumed") == "1", str(pj))
    nc.send(T["DATA"], 1, b"after the crash")
    check("DATA flows through the new relay", got.recv()[5] == b"after the crash")
    bad, n, kv, hops = follow(H, b.port, act_resume(sess, cid, "00" * 16))
    check("a resume with a wrong token is refused", n == "ERROR" and kv.get("code") == "refused", str(kv))


def t_takeover_race():
    """The master and its client RESUME at the same moment through the same relay after
    theirs died: one RESUME takes the session over, the other (whose takeover finds it
    already done, here) is resumed locally, not told no-such-session (which ends a viewer)."""
    a = fleet["a"]
    d = relay("d", rd)
    m, n, kv = register(d)
    assert n == "REGISTERED", kv
    cl, n, kv, hops = follow(H, d.port, act_join(m.session))
    assert n == "JOINED", kv
    m.expect("PEER_JOINED")
    d.p.kill()
    d.p.wait()
    deadline = time.time() + 20
    while time.time() < deadline and rd.cli("EXISTS", "fleet:r:d") != "0":
        time.sleep(0.1)
    x, y = a.conn(), a.conn()
    x.send_ctl(T["RESUME"], src=0, session=m.session, id=1, token=m.token)
    y.send_ctl(T["RESUME"], src=0, session=m.session, id=cl.id, token=cl.token)
    nx, kx = x.recv_ctl()
    ny, ky = y.recv_ctl()
    check("two RESUMEs at once through one relay after theirs died: both resumed there",
          nx == "REGISTERED" and kx.get("resumed") == "1" and ny == "JOINED" and ky.get("resumed") == "1",
          "%s %s / %s %s" % (nx, kx, ny, ky))


if not REDIS:
    print("skip - tunneld fleet: redis-server is not installed (mk/test-packages.txt)")
    raise SystemExit(0)
try:
    rd = Redis()
    for name in ("a", "b", "c"):
        fleet[name] = relay(name, rd)
    for f in (t_register_and_redirect, t_https_through_proxy, t_race, t_redis_down_and_back, t_local_range, t_bad_redis, t_drain, t_fleet_restart,
              t_kill9_resume, t_takeover_race):
        test(f)
    bad = sanitizer_logs()
    check_no_sanitizer("no sanitizer report in any tunneld log", bad)
finally:
    cleanup()
