#!/usr/bin/python3
"""Relay-level integration tests for tunneld on loopback, driven by tunnel_client.py
(an independent Python implementation of the frame format)."""
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tunnel_client import T, ALL, Conn, Closed, encode, ctl, drop_payload, parse_drop  # noqa: E402
from lib_test import wait_for  # noqa: E402
from lib_tun import check_no_sanitizer, TOP, TMP, H, SEALBOX, Relay, check, test, pair, free_port, wait_port, sanitizer_logs, cleanup  # noqa: E402


# ---------------------------------------------------------------------------

def t_register_join_relay():
    r = R
    m = r.conn()
    reg = m.register()
    check("register: 3-digit session number, id 1, 32-hex token",
          len(reg["session"]) == 3 and reg["session"].isdigit() and reg["id"] == "1" and len(reg["token"]) == 32)
    c = r.conn()
    n, j = c.join(m.session)
    check("join: JOINED id=2 with a token", n == "JOINED" and j["id"] == "2" and len(j["token"]) == 32, str(j))
    pj = m.expect("PEER_JOINED")
    check("master told of the join with address and path", pj["id"] == "2" and pj["path"] == "tcp" and
          pj["addr"].startswith("127.0.0.1:"), str(pj))
    blob = os.urandom(40000)
    c.send(T["DATA"], 1, blob)
    t, src, dst, seq, ack, p = m.recv()
    check("client -> master DATA relayed unchanged", t == T["DATA"] and src == 2 and dst == 1 and p == blob and seq == c.seq)
    m.send(T["DATA"], 2, b"hello client", ack=5)
    t, src, dst, seq, ack, p = c.recv()
    check("master -> client DATA relayed unchanged (ack too)", p == b"hello client" and src == 1 and ack == 5)
    c2 = r.conn()
    c2.join(m.session)
    m.expect("PEER_JOINED")
    m.send(T["DATA"], ALL, b"to everyone")
    check("broadcast reaches every client", c.recv()[5] == b"to everyone" and c2.recv()[5] == b"to everyone")
    c2.send(T["DATA"], 2, b"c2c")
    check("client -> client (conference) relayed", c.recv()[5] == b"c2c")
    c.send(T["DATA"], ALL, b"x")
    n, e = c.recv_ctl()
    check("broadcast from a client refused, connection kept", n == "ERROR" and e["code"] == "not-allowed")
    c.send(T["PING"], 0)
    check("PING to the relay answered with PONG", c.recv()[0] == T["PONG"])
    # spoofing: the client claims to be the master
    c2.send(T["DATA"], 2, b"spoof", src=1)
    n, e = c2.recv_ctl()
    check("spoofed source: ERROR protocol, connection closed", n == "ERROR" and e["code"] == "protocol" and c2.closed())
    try:
        m.recv(0.5)
        quiet = False
    except (socket.timeout, TimeoutError):
        quiet = True
    check("a dropped link is only detached (resume grace): master hears nothing yet", quiet)
    m.send(T["DATA"], 2, b"still here")
    check("others keep working after a spoofer was dropped", c.recv()[5] == b"still here")
    for x in (m, c, c2):
        x.close()


def t_malformed():
    r = R
    m, c, _ = pair(r)
    bad = r.conn()
    bad.s.sendall(b"\x02" + b"\x00" * 17)
    check("bad version closes that connection", bad.closed())
    big = r.conn()
    big.s.sendall(encode(T["JOIN"], 0, 0, b"", length=10 * 1024 * 1024))
    n, e = big.recv_ctl()
    check("oversize frame: ERROR protocol and closed, nothing allocated", n == "ERROR" and e["code"] == "protocol" and big.closed())
    junk = r.conn()
    junk.send(T["REGISTER"], 0, b"version=1\nBAD KEY\n")
    n, e = junk.recv_ctl()
    check("malformed control payload closes that connection", n == "ERROR" and junk.closed())
    early = r.conn()
    early.send(T["DATA"], 1, b"x")
    n, e = early.recv_ctl()
    check("DATA before joining closes that connection", n == "ERROR" and e["code"] == "protocol" and early.closed())
    fake = r.conn()
    fake.send_ctl(T["JOINED"], src=0, id=5)
    check("relay-only frame type from a participant closes it", fake.recv_ctl()[0] == "ERROR" and fake.closed())
    c.send(T["DATA"], 1, b"", length=999999)
    check("member sending an oversize frame is closed", c.recv_ctl()[0] == "ERROR" and c.closed())
    c2 = r.conn()
    n, _ = c2.join(m.session)
    m.expect("PEER_JOINED")
    m.send(T["DATA"], int(_["id"]), b"alive")
    check("session keeps working after malformed frames elsewhere", c2.recv()[5] == b"alive")
    for x in (m, c2):
        x.close()


def t_kick_leave_end():
    r = R
    m, c, _ = pair(r)
    c3 = r.conn()
    c3.join(m.session)
    m.expect("PEER_JOINED")
    c.send_ctl(T["KICK"], id=3)
    check("a client cannot kick", c.recv_ctl()[1].get("code") == "not-allowed")
    m.send_ctl(T["KICK"], id=3)
    n, kv = c3.recv_ctl()
    check("kicked client told PEER_LEFT reason=kicked then closed", n == "PEER_LEFT" and kv["reason"] == "kicked" and c3.closed())
    n, kv = c.recv_ctl()
    check("other clients told of the kick", n == "PEER_LEFT" and kv == {"id": "3", "reason": "kicked"}, str(kv))
    check("master told of the kick", m.expect("PEER_LEFT") == {"id": "3", "reason": "kicked"})
    m.send_ctl(T["KICK"], id=77)
    check("kick of an unknown id: ERROR no-such-peer", m.recv_ctl()[1].get("code") == "no-such-peer")
    c4 = r.conn()
    c4.join(m.session)
    m.expect("PEER_JOINED")
    c4.send_ctl(T["END"])
    check("a client's END leaves: closed, master told reason=left",
          c4.closed() and m.expect("PEER_LEFT")["reason"] == "left")
    c.expect("PEER_LEFT")
    m.send_ctl(T["END"])
    n, kv = c.recv_ctl()
    check("master END: clients get END reason=ended and are closed", n == "END" and kv["reason"] == "ended" and c.closed())
    check("master's connection closed after END", m.closed())
    j = r.conn()
    n, kv = j.join(m.session)
    check("an ended session's number is dead", n == "ERROR" and kv["code"] == "no-such-session")
    lg = r.logtext()
    check("log: one line each for start, join, kick, end; no payload",
          ("session %s start" % m.session) in lg and ("session %s join id=2" % m.session) in lg and
          ("session %s kick id=3" % m.session) in lg and ("session %s end reason=ended" % m.session) in lg and
          "hello client" not in lg)


def t_idle_timeout():
    r = Relay("idle", idle_timeout="1s", hello_timeout="1s", max_connections=6)
    h = r.conn()
    t0 = time.time()
    n, kv = h.recv_ctl(5)
    check("a connection that never registers/joins is closed after hello_timeout (ERROR timeout)",
          n == "ERROR" and kv["code"] == "timeout" and h.closed() and time.time() - t0 < 3)
    hs = [r.conn() for _ in range(6)]
    extra = r.conn()  # behind the six in the accept queue, which the relay takes in order
    check("max_connections: a connection over the limit is closed at once", extra.closed(2))
    gone = r.logtext().count("closed: peer closed")
    for x in hs:
        x.close()
    wait_for(lambda: r.logtext().count("closed: peer closed") >= gone + 6, 5)  # room again
    m = r.conn()
    m.register()
    n, kv = m.recv_ctl(6)
    check("a waiting master without clients times out (END reason=timeout)", n == "END" and kv["reason"] == "timeout")
    check("timed-out master closed", m.closed())
    m2 = r.conn()
    m2.register()
    c = r.conn()
    c.join(m2.session)
    m2.expect("PEER_JOINED")
    time.sleep(1.6)  # past idle_timeout (1 s) on purpose: the session must still be there
    m2.send(T["DATA"], 2, b"busy")
    check("a master with a client does not time out", c.recv()[5] == b"busy")
    r.stop()


def t_throttle():
    r = Relay("throttle", join_rate=6, unknown_rate=3, block_time="1h")
    m = r.conn()
    m.register()
    codes = []
    for i in range(3):
        j = r.conn(source_ip="127.0.0.2")
        codes.append(j.join("000" if m.session != "000" else "001")[1].get("code"))
        j.close()
    check("unknown numbers answered no-such-session", codes == ["no-such-session"] * 3, str(codes))
    j = r.conn(source_ip="127.0.0.2")
    n, kv = j.join(m.session)
    check("after unknown_rate unknown numbers the address is blocked, even with the right number",
          n == "ERROR" and kv["code"] == "throttled", str(kv))
    j = r.conn(source_ip="127.0.0.3")
    n, kv = j.join(m.session)
    check("another address is not affected", n == "JOINED")
    res = []
    for i in range(7):
        j = r.conn(source_ip="127.0.0.4")
        res.append(j.join(m.session)[0])
    check("join_rate per address per minute: the 7th attempt is throttled",
          res[:6] == ["JOINED"] * 6 and res[6] == "ERROR", str(res))
    check("blocking logged with the address", "address 127.0.0.2 blocked" in r.logtext())
    r.stop()
    r = Relay("regthrottle", register_rate=3)
    res = []
    for i in range(4):
        m = r.conn()
        m.send_ctl(T["REGISTER"], src=0, version=1)
        n, kv = m.recv_ctl()
        res.append(n if n != "ERROR" else kv["code"])
    check("register_rate per address: the 4th REGISTER in a minute is throttled (numbers are not burned)",
          res == ["REGISTERED"] * 3 + ["throttled"], str(res))
    with open(os.path.join(r.state, "issued")) as f:
        check("a throttled REGISTER burns no number", len(f.read().split()) == 3)
    r.stop()


def t_numbers_persist():
    r = Relay("numbers", digits=3, max_sessions=1000, low_water=10)
    seen = set()
    ok = True

    def burn(k):
        nonlocal ok
        for _ in range(k):
            m = r.conn()
            s = m.register()["session"]
            if s in seen or not (100 <= int(s) <= 999):
                ok = False
            seen.add(s)
            m.send_ctl(T["END"])
            m.closed(1)
            m.close()
    burn(450)
    r.stop(signal.SIGKILL)  # a crash: nothing flushed on exit
    r.start()
    burn(450)
    check("900 registrations across a crash/restart never repeat a number", ok and len(seen) == 900)
    m = r.conn()
    m.send_ctl(T["REGISTER"], src=0, version=1)
    n, kv = m.recv_ctl()
    check("exhausted space: REGISTER refused with code=full", n == "ERROR" and kv["code"] == "full")
    lg = r.logtext()
    check("running low and exhausted are logged", "running low" in lg and "every 3-digit session number has been issued" in lg)
    with open(os.path.join(r.state, "issued")) as f:
        lines = [x.strip() for x in f if x.strip()]
    check("state_dir/issued holds every issued number", sorted(lines) == sorted(seen))
    r.stop()
    r.kv["digits"] = 2
    r.write()
    r.start()
    m = r.conn()
    check("another digit count is a fresh space", len(m.register()["session"]) == 2)
    r.stop()


def t_backpressure():
    r = Relay("bp", pair_buffer="256k", max_frame="64k")
    m, c, _ = pair(r)
    rss0 = r.rss_kb()
    chunk = os.urandom(60000)
    seq0 = m.seq
    m.s.setblocking(False)
    sent = 0
    end = time.time() + 3
    pending = b""
    while time.time() < end:
        if not pending:
            m.seq += 1
            pending = encode(T["DATA"], 1, 2, chunk, seq=m.seq)
        try:
            n = m.s.send(pending)
            pending = pending[n:]
            sent += n
        except BlockingIOError:
            time.sleep(0.01)
    rss1 = r.rss_kb()
    check("a non-reading client stalls the sender (bounded buffering: %d KB accepted)" % (sent // 1024),
          sent < 40 * 1024 * 1024, "sent %d" % sent)
    check("tunneld RSS stays bounded while the master pushes (%d -> %d KB)" % (rss0, rss1),
          rss1 - rss0 < 16 * 1024)
    # the client now reads everything in order and the sender resumes
    m.s.setblocking(True)
    m.s.settimeout(10)
    got = 0
    frames = 0
    ok = True
    expect_seq = seq0 + 1
    import threading
    th = threading.Thread(target=lambda: m.s.sendall(pending + encode(T["DATA"], 1, 2, b"LAST", seq=m.seq + 1)))
    th.start()
    while True:
        t, src, dst, seq, ack, p = c.recv(10)
        if p == b"LAST":
            break
        if seq != expect_seq or p != chunk:
            ok = False
        expect_seq += 1
        got += len(p)
        frames += 1
    th.join()
    check("after draining, every frame arrives in order and the sender resumes", ok and frames == m.seq - seq0 and
          got == frames * len(chunk), "%d frames of %d" % (frames, m.seq - seq0))
    r.stop()
    # a receiver that never drains is dropped after dead_after, so the master is not stuck
    r = Relay("stall", pair_buffer="64k", dead_after="2s")
    m, c, _ = pair(r)
    c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    m.s.settimeout(8)
    sender_state = {}

    def pusher():
        # DATA for ~4 s (blocks while the relay pauses us), then the KICK behind it
        t0 = time.time()
        try:
            while time.time() - t0 < 4:
                m.s.sendall(encode(T["DATA"], 1, 2, chunk[:30000], seq=0))
            m.s.sendall(encode(T["KICK"], 1, 0, b"id=2\n", seq=0))
            sender_state["ok"] = True
        except OSError as e:
            sender_state["err"] = str(e)
    import threading
    stop = []

    def pinger():
        # the client keeps talking (so it is not "silent") but never reads
        while not stop:
            try:
                c.s.sendall(encode(T["PING"], 2, 0, b"", seq=0))
            except OSError:
                return
            time.sleep(0.3)
    th = threading.Thread(target=pusher)
    tp = threading.Thread(target=pinger)
    th.start()
    tp.start()
    n, kv = m.recv_ctl(15)
    th.join()
    stop.append(1)
    tp.join()
    check("a receiver stalled for dead_after is dropped; the master's KICK then gets through",
          n == "PEER_LEFT" and kv.get("reason") == "kicked" and
          ("not reading for 2s" in r.logtext() or "peer took no data for 2000 ms" in r.logtext()),
          "%s %s %s" % (n, kv, sender_state))
    r.stop()


def t_http_paths():
    certs = os.path.join(TOP, "build", "test-certs")
    subprocess.run(["sh", os.path.join(TOP, "tests", "data", "mkcerts.sh")], stdout=subprocess.DEVNULL, check=True)
    hp, sp = free_port(), free_port()
    r = Relay("http", https_listen="%s:%d" % (H, sp), http_listen="%s:%d" % (H, hp),
              tls_cert=os.path.join(certs, "server.pem"), tls_key=os.path.join(certs, "server.key"))
    wait_port(sp)
    wait_port(hp)
    m = Conn(H, sp, mode="https", cafile=os.path.join(certs, "ca.pem"))
    m.register()
    check("HTTPS: TLS + Upgrade answered 101, REGISTER works", m.http_status == 101 and m.id == 1)
    c = Conn(H, hp, mode="http")
    n, kv = c.join(m.session)
    pj = m.expect("PEER_JOINED")
    check("HTTP Upgrade path joins; master sees path=http", n == "JOINED" and pj["path"] == "http")
    m.send(T["DATA"], 2, b"over tls")
    c.send(T["DATA"], 1, b"over http")
    check("DATA relayed between the HTTPS and the HTTP path", c.recv()[5] == b"over tls" and m.recv()[5] == b"over http")
    try:
        Conn(H, hp, mode="http", path="/index.html")
        st = 101
    except Closed as e:
        st = str(e)
    check("other paths get 404", st == "HTTP 404", str(st))
    s = socket.create_connection((H, hp))
    s.settimeout(5)
    s.sendall(b"POST /sealbox-tunnel HTTP/1.1\r\n\r\n")
    d = b""
    while True:
        x = s.recv(1000)
        if not x:
            break
        d += x
    check("a non-GET request gets 400 and close", d.startswith(b"HTTP/1.1 400"), repr(d[:40]))
    s.close()
    s = socket.create_connection((H, hp))
    s.sendall(encode(T["REGISTER"], 0, 0, ctl(version=1)))
    d = s.recv(100)
    check("raw frames on the HTTP port get 400", d.startswith(b"HTTP/1.1 400"), repr(d[:40]))
    s.close()
    plain = socket.create_connection((H, sp))
    plain.sendall(b"GET / HTTP/1.1\r\n\r\n")
    plain.settimeout(5)
    try:
        d = plain.recv(100)
    except OSError:
        d = b""
    check("plain HTTP on the HTTPS port gets nothing useful", not d.startswith(b"HTTP/1.1 101"))
    r.stop()


def t_drop():
    r = Relay("drop", drop_quota="300k", drop_max_files=4)
    m, c, _ = pair(r)
    blob = os.urandom(200 * 1024 + 123)

    def req(x, data=b"", **kv):
        x.send(T["DROP"], 0, drop_payload(data, **kv))

    def ans(x):
        t, src, dst, seq, ack, p = x.recv()
        assert t == T["DROP"], t
        return parse_drop(p)

    req(c, op="put", name="f1", size=len(blob))
    for i in range(0, len(blob), 30000):
        req(c, blob[i:i + 30000], op="data")
    kv, _ = ans(c)
    check("drop put in chunks: ok with the size", kv == {"op": "ok", "name": "f1", "size": str(len(blob))}, str(kv))
    req(m, op="ls")
    kv, data = ans(m)
    check("drop ls from another participant lists it", kv["op"] == "list" and kv["count"] == "1" and
          data == ("f1 %d\n" % len(blob)).encode(), repr(data))
    req(m, op="get", name="f1")
    kv, _ = ans(m)
    got = b""
    while True:
        k2, d = ans(m)
        if k2["op"] == "end":
            break
        got += d
    check("drop get streams the same bytes", kv["op"] == "file" and kv["size"] == str(len(blob)) and got == blob)
    req(c, op="put", name="f2", size=150 * 1024)
    kv, _ = ans(c)
    check("drop quota per session enforced", kv["op"] == "error" and kv["code"] == "quota", str(kv))
    req(c, op="put", name="../x", size=1)
    check("drop refuses path names", ans(c)[0]["code"] == "bad-name")
    req(c, op="put", name="f1", size=1)
    check("drop put of an existing name: exists", ans(c)[0]["code"] == "exists")
    req(c, op="get", name="nope")
    check("drop get of a missing name: no-such-file", ans(c)[0]["code"] == "no-such-file")
    req(c, op="del", name="f1")
    check("drop del", ans(c)[0]["op"] == "ok")
    req(c, op="put", name="f3", size=10)
    req(c, b"0123456789", op="data")
    ans(c)
    sdir = os.path.join(r.state, "drop", str(int(m.session)))
    check("stored in state_dir/drop/SESSION", os.path.exists(os.path.join(sdir, "f3")))
    m.send_ctl(T["END"])
    c.closed()
    check("drop files deleted when the session ends", wait_for(lambda: not os.path.exists(sdir), 5))
    r.stop()


def t_resume():
    r = Relay("resume", resume_grace="2s")
    m, c, _ = pair(r)
    tok = c.token
    c.close()
    wait_for(lambda: "session %s id=2 detached" % m.session in r.logtext(), 5)
    m.send(T["DATA"], 2, b"lost in the gap")
    bad = r.conn()
    bad.send_ctl(T["RESUME"], src=0, session=m.session, id=2, token="00" * 16)
    n, kv = bad.recv_ctl()
    check("resume with a wrong token refused", n == "ERROR" and kv["code"] == "refused")
    c2 = r.conn()
    c2.send_ctl(T["RESUME"], src=0, session=m.session, id=2, token=tok)
    n, kv = c2.recv_ctl()
    check("resume within the grace period: JOINED resumed=1, same id", n == "JOINED" and kv.get("resumed") == "1" and kv["id"] == "2", str(kv))
    c2.id = 2
    pj = m.expect("PEER_JOINED")
    check("master told the client is back (resumed=1)", pj.get("resumed") == "1")
    m.send(T["DATA"], 2, b"again")
    check("data flows after resume", c2.recv()[5] == b"again")
    # only the participant's side broke: its new link takes over from the old one, which
    # the relay still thinks is alive (it would notice only after dead_after)
    again = r.conn()
    again.send_ctl(T["RESUME"], src=0, session=m.session, id=2, token=tok)
    n, kv = again.recv_ctl()
    check("resume of a still-attached participant with its token takes over: JOINED resumed=1",
          n == "JOINED" and kv.get("resumed") == "1" and kv["id"] == "2", "%s %s" % (n, kv))
    again.id = 2
    check("the old connection is closed", c2.closed())
    check("the master hears PEER_JOINED resumed=1", m.expect("PEER_JOINED").get("resumed") == "1")
    m.send(T["DATA"], 2, b"new link")
    check("data goes to the new link", again.recv()[5] == b"new link")
    check("the takeover is logged", "id=2 resumes from" in r.logtext())
    c2 = again
    # the master drops and resumes
    mt = m.token
    m.close()
    wait_for(lambda: "session %s id=1 detached" % m.session in r.logtext(), 5)
    m2 = r.conn()
    m2.send_ctl(T["RESUME"], src=0, session=m.session, id=1, token=mt)
    n, kv = m2.recv_ctl()
    check("master resumes: REGISTERED resumed=1", n == "REGISTERED" and kv.get("resumed") == "1")
    m2.id = 1
    check("clients told the master is back", c2.expect("PEER_JOINED").get("id") == "1")
    # grace expiry for a client
    c2.close()
    kv = m2.expect("PEER_LEFT", timeout=6)
    check("no resume within the grace period: PEER_LEFT reason=lost", kv == {"id": "2", "reason": "lost"}, str(kv))
    # losing its last client must not end the session (it once did, as "timeout": the
    # idle clock restarted after the sweep had read the time, and the difference wrapped)
    c3 = r.conn()
    n, kv = c3.join(m.session)
    check("the session outlives its last client's loss: a new client joins", n == "JOINED", "%s %s" % (n, kv))
    check("and the master hears of it", m2.expect("PEER_JOINED").get("id") == kv.get("id"))
    c3.close()
    m2.close()
    r.stop()


def t_reload_and_term():
    r = Relay("reload", max_clients=5)
    m, c, _ = pair(r)
    r.kv["max_clients"] = 1
    r.write()
    r.p.send_signal(signal.SIGHUP)
    wait_for(lambda: "configuration reloaded" in r.logtext(), 10)
    j = r.conn()
    n, kv = j.join(m.session)
    check("SIGHUP reloads limits (max_clients=1 -> session-full)", n == "ERROR" and kv["code"] == "session-full", str(kv))
    check("reload logged", "configuration reloaded" in r.logtext())
    r.kv["max_clients"] = "x"
    r.write()
    r.p.send_signal(signal.SIGHUP)
    wait_for(lambda: "reload failed" in r.logtext(), 10)
    m.send(T["DATA"], 2, b"alive")
    check("a bad config on SIGHUP keeps the running one", c.recv()[5] == b"alive" and "reload failed" in r.logtext())
    rc = r.stop(signal.SIGTERM)
    n, kv = c.recv_ctl()
    check("SIGTERM: members get END reason=shutdown, exit 0", n == "END" and kv["reason"] == "shutdown" and rc == 0, "%s %s" % (kv, rc))


def t_ipv6():
    port = free_port()
    r = Relay("v6", port=port, listen="*:%d" % port)
    try:
        m = Conn("::1", port)
    except OSError as e:
        print("skip - IPv6 relay: no ::1 here (%s)" % e)
        r.stop()
        return
    m.register()
    c = r.conn()
    c.join(m.session)
    pj = m.expect("PEER_JOINED")
    c2 = Conn("::1", port)
    c2.join(m.session)
    pj2 = m.expect("PEER_JOINED")
    m.send(T["DATA"], ALL, b"v4 and v6")
    check("*:PORT serves IPv4 and IPv6 in one session (addr %s)" % pj2["addr"],
          pj["addr"].startswith("127.0.0.1:") and pj2["addr"].startswith("[::1]:") and
          c.recv()[5] == b"v4 and v6" and c2.recv()[5] == b"v4 and v6")
    r.stop()


def t_check_config():
    d = os.path.join(TMP, "cfg")
    os.makedirs(d)
    p = os.path.join(d, "bad.ini")
    with open(p, "w") as f:
        f.write("[tunneld]\ndigits = 5\nnot_a_key = 1\n")
    res = subprocess.run([SEALBOX, "tunneld", "-n", "-c", p], capture_output=True, text=True)
    check("-n with an unknown key: exit 78 naming file:line", res.returncode == 78 and (p + ":3") in res.stderr, res.stderr)
    with open(p, "w") as f:
        f.write("[tunneld]\ndigits = 9\n")
    res = subprocess.run([SEALBOX, "tunneld", "-n", "-c", p], capture_output=True, text=True)
    check("-n with digits out of range: exit 78", res.returncode == 78 and (p + ":2") in res.stderr, res.stderr)
    with open(p, "w") as f:
        f.write("[tunneld]\nhttps_listen = *:443\ntls_cert = /nonexistent.pem\ntls_key = /nonexistent.key\n")
    res = subprocess.run([SEALBOX, "tunneld", "-n", "-c", p], capture_output=True, text=True)
    check("-n with a missing certificate: exit 78", res.returncode == 78, res.stderr)
    sample = os.path.join(TOP, "etc", "tunneld.ini")
    res = subprocess.run([SEALBOX, "tunneld", "--print-config"], capture_output=True, text=True)
    with open(sample) as f:
        check("etc/tunneld.ini is exactly what --print-config prints (every key, its default)", res.stdout == f.read())
    res = subprocess.run([SEALBOX, "tunneld", "-n", "-c", sample], capture_output=True, text=True)
    check("-n accepts etc/tunneld.ini", res.returncode == 0, res.stderr)


try:
    R = Relay("main")
    for f in (t_register_join_relay, t_malformed, t_kick_leave_end, t_idle_timeout, t_throttle,
              t_numbers_persist, t_backpressure, t_http_paths, t_drop, t_resume, t_reload_and_term,
              t_ipv6, t_check_config):
        test(f)
    check("tunneld survived every scenario", R.p.poll() is None)
    R.stop()
    bad = sanitizer_logs()
    check_no_sanitizer("no sanitizer report in any tunneld log", bad)
finally:
    cleanup()
