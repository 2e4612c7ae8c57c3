#!/usr/bin/python3
"""tunneld regression tests for the review findings of issue 11, attacked the way a
participant or a flood would: a drop put abandoned by END (fds, quota, disk), the sweep
closing a stalled master with resume_grace = 0 (use-after-free), RESUME while the relay
still holds the old link, a full disk under state_dir/issued (tmpfs), connections and
REGISTERs per address and in total, and who may delete a dropped file."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tunnel_client import T, encode, drop_payload, parse_drop  # noqa: E402
from lib_test import wait_for  # noqa: E402
from lib_tun import check_no_sanitizer, TMP, Relay, check, test, pair, sanitizer_logs, cleanup  # noqa: E402


def req(x, data=b"", **kv):
    x.send(T["DROP"], 0, drop_payload(data, **kv))


def ans(x, timeout=5.0):
    while True:
        t, src, dst, seq, ack, p = x.recv(timeout)
        if t == T["DROP"]:
            return parse_drop(p)


def put(x, name, data):
    req(x, op="put", name=name, size=len(data))
    for i in range(0, len(data), 30000):
        req(x, data[i:i + 30000], op="data")
    return ans(x)[0]


def part_fds(pid):
    """tunneld's open descriptors on drop part files."""
    n = 0
    d = "/proc/%d/fd" % pid
    for f in os.listdir(d):
        try:
            if os.readlink(os.path.join(d, f)).find(".part") >= 0:
                n += 1
        except OSError:
            pass
    return n


def disk_bytes(top):
    """Bytes allocated under top (du), the part files' blocks included."""
    total = 0
    for root, _, files in os.walk(top):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_blocks * 512
            except OSError:
                pass
    return total


# ---------------------------------------------------------------------------

def t_drop_put_then_end():
    """A participant starts a big put, sends part of it, then END: repeated, that leaked
    the part file's fd, its quota reservation and its disk blocks until restart."""
    r = Relay("dropend", drop_quota="1M", drop_max_size="1M")
    m = r.conn()
    m.register()
    sdir = os.path.join(r.state, "drop", str(int(m.session)))
    fds0 = len(os.listdir("/proc/%d/fd" % r.p.pid))
    blob = os.urandom(300 * 1024)
    for i in range(12):
        c = r.conn()
        n, _ = c.join(m.session)
        m.expect("PEER_JOINED")
        req(c, op="put", name="f%d" % i, size=900 * 1024)
        for k in range(0, len(blob), 30000):
            req(c, blob[k:k + 30000], op="data")
        c.send_ctl(T["END"])
        c.closed()
        c.close()
        m.expect("PEER_LEFT")
    check("put then END: no part file left open (%d open)" % part_fds(r.p.pid),
          wait_for(lambda: part_fds(r.p.pid) == 0, 5))
    check("put then END: tunneld's descriptors back to where they were",
          wait_for(lambda: len(os.listdir("/proc/%d/fd" % r.p.pid)) <= fds0 + 1, 5),
          "%d -> %d" % (fds0, len(os.listdir("/proc/%d/fd" % r.p.pid))))
    leftovers = [f for f in (os.listdir(sdir) if os.path.isdir(sdir) else []) if f.endswith(".part")]
    check("put then END: no part file left on disk", not leftovers, " ".join(leftovers))
    check("put then END: the disk space is given back (%d bytes under state_dir)" % disk_bytes(r.state),
          disk_bytes(r.state) < 200 * 1024)
    c = r.conn()
    c.join(m.session)
    m.expect("PEER_JOINED")
    kv = put(c, "fits", os.urandom(900 * 1024))
    check("put then END: the quota is given back (a 900 KiB put of a 1 MiB quota succeeds)",
          kv.get("op") == "ok", str(kv))
    c.send_ctl(T["END"])
    c.closed()
    c.close()
    m.send_ctl(T["END"])
    m.closed()
    check("tunneld still runs", r.p.poll() is None)
    r.stop()


def t_sweep_stalled_master():
    """resume_grace = 0 and a master that takes nothing while its client pushes: the sweep
    closes the master, which ends the session and closes the client's connection, the
    next one in the sweep's walk (it was freed under the walk: heap-use-after-free)."""
    r = Relay("sweepuaf", resume_grace="0", dead_after="30s", pair_buffer="16k")
    for rnd in range(3):
        early = r.conn()  # connected before the master: after it in the relay's list
        early.send(T["PING"], 0, src=0)
        early.recv()
        m = r.conn()
        m.register()
        n, kv = early.join(m.session)
        m.expect("PEER_JOINED")
        # the relay's own write timeout (dead_after at attach: 30 s) stays out of the way;
        # the sweep uses the reloaded 1 s
        r.kv["dead_after"] = "1s"
        r.write()
        r.p.send_signal(signal.SIGHUP)
        wait_for(lambda: r.logtext().count("configuration reloaded") >= 2 * rnd + 1, 5)
        early.s.setblocking(False)
        frame = encode(T["DATA"], 2, 1, os.urandom(60000), seq=1)
        pending = b""
        end = time.time() + 6
        while time.time() < end and r.logtext().count("while others wait") <= rnd and r.p.poll() is None:
            if not pending:
                pending = frame
            try:
                pending = pending[early.s.send(pending):]
            except BlockingIOError:
                time.sleep(0.01)
            except OSError:
                break
        early.s.setblocking(True)
        check("round %d: the sweep drops the master that does not read" % rnd,
              r.logtext().count("while others wait") > rnd)
        early.close()
        m.close()
        r.kv["dead_after"] = "30s"
        r.write()
        if r.p.poll() is not None:
            break
        r.p.send_signal(signal.SIGHUP)
        wait_for(lambda: r.logtext().count("configuration reloaded") >= 2 * rnd + 2, 5)
    check("tunneld survives the sweep ending sessions under its walk", r.p.poll() is None,
          r.logtext()[-1500:])
    if r.p.poll() is None:
        m, c, _ = pair(r)
        m.send(T["DATA"], 2, b"next")
        check("and serves the next session", c.recv()[5] == b"next")
        r.stop()


def t_resume_takeover():
    """Only the participant's side broke: the relay still has its old link attached. Its
    RESUME with the right token takes over; refusals of a valid token never block."""
    r = Relay("takeover", unknown_rate=3, block_time="1h")
    m, c, _ = pair(r)
    tok = c.token
    res = []
    for i in range(4):  # more than unknown_rate
        n2 = r.conn()
        n2.send_ctl(T["RESUME"], src=0, session=m.session, id=2, token=tok)
        n, kv = n2.recv_ctl()
        res.append(n if n != "ERROR" else kv.get("code"))
        if n == "JOINED":
            n2.id = 2
            check("takeover %d: JOINED resumed=1, the old link closed, the master told" % i,
                  kv.get("resumed") == "1" and c.closed() and m.expect("PEER_JOINED").get("resumed") == "1",
                  "%s %s" % (n, kv))
            c = n2
    check("a RESUME with the right token while the old link is attached takes over (4 times)",
          res == ["JOINED"] * 4, str(res))
    m.send(T["DATA"], 2, b"to the new link")
    check("data reaches the newest link", c.recv()[5] == b"to the new link")
    j = r.conn()
    n, kv = j.join(m.session)
    check("valid-token resumes do not count toward blocking: a JOIN from that address works",
          n == "JOINED", "%s %s" % (n, kv))
    check("each takeover is logged", r.logtext().count("resumes from") >= 4)
    # the master too
    m2 = r.conn()
    m2.send_ctl(T["RESUME"], src=0, session=m.session, id=1, token=m.token)
    n, kv = m2.recv_ctl()
    check("the master's RESUME takes over too (REGISTERED resumed=1, resume_window=90)",
          n == "REGISTERED" and kv.get("resumed") == "1" and kv.get("resume_window") == "90" and m.closed(),
          "%s %s" % (n, kv))
    bad = r.conn(source_ip="127.0.0.5")
    bad.send_ctl(T["RESUME"], src=0, session=m.session, id=2, token="00" * 16)
    n, kv = bad.recv_ctl()
    check("a wrong token is still refused", n == "ERROR" and kv["code"] == "refused")
    r.stop()


def register_until_refused(r, limit=50):
    """The numbers of REGISTERs until the first refusal (at most limit)."""
    got = []
    while len(got) < limit:
        x = r.conn()
        x.send_ctl(T["REGISTER"], src=0, version=1)
        n, kv = x.recv_ctl()
        x.close()
        if n != "REGISTERED":
            break
        got.append(int(kv["session"]))
    return got


def _mount_tmpfs(d, size):
    os.makedirs(d, exist_ok=True)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs", d],
                         capture_output=True, text=True)
    return res.returncode == 0, res.stderr.strip()


def t_issued_full_disk():
    """state_dir on a small tmpfs, filled up: a short append of a number used to leave a
    torn line, the next number glued to it was forgotten at restart and issued again."""
    if os.geteuid() != 0:
        print("skip - issued numbers on a full disk: needs root to mount a tmpfs")
        return
    mnt = os.path.join(TMP, "fulldisk-state")
    ok, err = _mount_tmpfs(mnt, "64k")
    if not ok:
        print("skip - issued numbers on a full disk: cannot mount a tmpfs (%s)" % err)
        return
    try:
        _issued_full_disk(mnt)
    finally:
        subprocess.run(["umount", mnt])


def _issued_full_disk(mnt):
    page = os.statvfs(mnt).f_bsize
    free = [1000 + 997 * k % 9000 for k in range(1, 12)]  # 11 numbers left of 9000
    glued_one = free.pop()  # an older tunneld's glued line names it: it was handed out
    lines = ["%d\n" % n for n in range(1000, 10000) if n not in free and n != glued_one]
    lines.insert(4000, "12%d\n" % glued_one)  # the torn start "12", then the number
    body = "".join(lines)
    # pad (lines tunneld skips) so that exactly 2 bytes are left in the file's last page:
    # the next 5-byte line is written short on a full disk
    pad = (page - 3 - len(body)) % page
    body = body[:100] + "x" * pad + "\n" + body[100:]
    issued = os.path.join(mnt, "issued")
    with open(issued, "w") as f:
        f.write(body)
    size0 = os.path.getsize(issued)
    filler = os.path.join(mnt, "filler")
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 512)
        except OSError:
            pass
    r = Relay("fulldisk", state_dir=mnt, digits=4)
    codes = []
    for _ in range(3):
        x = r.conn()
        x.send_ctl(T["REGISTER"], src=0, version=1)
        n, kv = x.recv_ctl()
        codes.append((n, kv.get("code"), kv.get("msg")))
    check("disk full: every REGISTER is refused (ERROR full, the relay cannot record a number)",
          all(c[0] == "ERROR" and c[1] == "full" and "cannot record" in (c[2] or "") for c in codes), str(codes))
    check("disk full: a failed append leaves no torn line (issued keeps its size)",
          os.path.getsize(issued) == size0, "%d -> %d" % (size0, os.path.getsize(issued)))
    check("disk full: the refusal is logged with the reason",
          "cannot record its number" in r.logtext() and "No space left on device" in r.logtext())
    os.unlink(filler)
    got = register_until_refused(r)
    check("space freed: registrations work again (%d issued)" % len(got), len(got) >= 1)
    check("a number glued to a torn line counts as issued: never handed out", glued_one not in got, str(got))
    r.stop()
    r.start()
    again = register_until_refused(r)
    dup = sorted(set(again) & set(got + [glued_one]))
    check("after a restart no issued number is issued again", not dup and len(got) + len(again) == len(free),
          "before %s after %s" % (got, again))
    r.stop()


def t_connections_per_ip():
    r = Relay("perip", max_connections_per_ip=4)
    held = [r.conn(source_ip="127.0.0.2") for _ in range(4)]
    for h in held:
        h.send(T["PING"], 0, src=0)
        h.recv()
    extra = r.conn(source_ip="127.0.0.2")
    check("max_connections_per_ip: the 5th connection from one address is closed at once", extra.closed(3))
    other = r.conn(source_ip="127.0.0.3")
    other.register()
    check("another address is not locked out", other.id == 1)
    check("the refusal is logged with the address", "closing a new connection from 127.0.0.2" in r.logtext())
    for _ in range(30):  # a flood: the log stays quiet
        try:
            r.conn(source_ip="127.0.0.2").close()
        except OSError:
            pass
    check("a flood is logged once, not per connection", r.logtext().count("max_connections_per_ip (4)") == 1)
    held[0].close()
    back = wait_for(lambda: _pongs(r, "127.0.0.2"), 5)
    check("a freed slot can be used again", back)
    r.stop()
    r = Relay("globalreg", register_rate_total=3)
    res = []
    for i in range(4):
        x = r.conn(source_ip="127.0.0.%d" % (10 + i))
        x.send_ctl(T["REGISTER"], src=0, version=1)
        n, kv = x.recv_ctl()
        res.append(n if n != "ERROR" else kv["code"])
    check("register_rate_total: the 4th REGISTER in a minute, from a 4th address, is throttled",
          res == ["REGISTERED"] * 3 + ["throttled"], str(res))
    check("and logged", "register_rate_total (3/min) reached" in r.logtext())
    with open(os.path.join(r.state, "issued")) as f:
        check("the throttled REGISTER burns no number", len(f.read().split()) == 3)
    r.stop()


def _pongs(r, ip):
    try:
        x = r.conn(source_ip=ip)
        x.send(T["PING"], 0, src=0)
        ok = x.recv(2)[0] == T["PONG"]
        x.close()
        return ok
    except (OSError, Exception):
        return False


def t_drop_delete_owner():
    r = Relay("dropowner")
    m, c1, _ = pair(r)
    c2 = r.conn()
    c2.join(m.session)
    m.expect("PEER_JOINED")
    check("client 1 puts a file", put(c1, "mine", b"x" * 1000).get("op") == "ok")
    req(c2, op="del", name="mine")
    kv = ans(c2)[0]
    check("another client's delete is refused (not-allowed)", kv.get("op") == "error" and kv.get("code") == "not-allowed",
          str(kv))
    req(c2, op="ls")
    kv, data = ans(c2)
    check("and the file is still there", b"mine 1000" in data)
    req(c1, op="del", name="mine")
    check("the owner's delete succeeds", ans(c1)[0].get("op") == "ok")
    put(c2, "theirs", b"y" * 10)
    req(m, op="del", name="theirs")
    check("the master's delete succeeds", ans(m)[0].get("op") == "ok")
    put(c1, "left-behind", b"z")
    c1.send_ctl(T["END"])
    c1.closed()
    req(c2, op="del", name="left-behind")
    check("a file whose owner left stays the master's to delete", ans(c2)[0].get("code") == "not-allowed")
    req(m, op="del", name="left-behind")
    check("(the master deletes it)", ans(m)[0].get("op") == "ok")
    r.stop()


try:
    for f in (t_drop_put_then_end, t_sweep_stalled_master, t_resume_takeover, t_issued_full_disk,
              t_connections_per_ip, t_drop_delete_owner):
        test(f)
    bad = sanitizer_logs()
    check_no_sanitizer("no sanitizer report in any tunneld log", bad)
finally:
    cleanup()
