#!/usr/bin/python3
"""viewer: what an attacker who knows the session number can do, against the real
tunneld, viewer-master and viewer-client on loopback (docs/viewer-protocol.md, threat
model). The attacker is tests/integration/lib_vwproto.py (Python `cryptography`); it
speaks version 3 and falls back to version 2 when the master refuses it, so the same
checks show the attacks working against a version-2 master.

1. A hostile relay operator joins the session itself, is refused, then records the
   approved technician's traffic through a tap in front of tunneld and tries every key
   it could derive on every sealed frame: nothing opens; the technician's exec works.
2. The refused joiner tries the direct-LAN proof under the technician's id with every
   key it has: refused, and the OPEN exec it would send never runs (no marker file).
3. An approved client B can neither read client A's channel output nor act as A on the
   direct path.
4. The group key is re-keyed after a refusal and after a kick (the epoch advances, the
   others get the new key), and a kicked client cannot open a drop made after the kick."""
import glob
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_vwtest import PtyMaster, client_sas, free_port, ok, procs, run, wait_port  # noqa: E402
import lib_vwproto as vp  # noqa: E402

SEALBOX = os.environ["SEALBOX"]
tmp = tempfile.mkdtemp(prefix="sealbox-vwatk.")


def viewer_client(server, session, *cmd):
    p = subprocess.Popen([SEALBOX, "viewer-client", "--no-lan", "--server", server, session] + list(cmd),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    procs.append(p)
    return p


def never_appears(path, seconds=2.0):
    end = time.time() + seconds
    while time.time() < end:
        if os.path.exists(path):
            return False
        time.sleep(0.05)
    return not os.path.exists(path)


def lan_takeover(att, lan_port, victim, session, marker, others):
    """att tries the direct proof as client victim with every key it has; for a proof
    the master accepts it sends a sealed OPEN exec 'touch marker' under every key.
    Returns how many proofs were accepted."""
    accepted = 0
    for kd in att.candidates(others):
        s = vp.try_direct(lan_port, victim, session, kd, v2=att.version == 2)
        if not s:
            continue
        accepted += 1
        m = vp.msg(vp.M_OPEN, 77, 1, 256 * 1024, 0, vp.args(b"touch", marker.encode()))  # a free channel
        for i, k in enumerate(att.candidates(others)):
            try:
                s.sendall(vp.seal(k, victim, 1, (1 << 20) + i, m, epoch=getattr(att, "epoch", 0) if att.version == 2 else 0))
            except OSError:
                break
        time.sleep(0.3)
        s.close()
    return accepted


def drain(c, seconds=1.0):
    """Reads what the master sends c for a moment (REKEYs update its group keys)."""
    got = []
    end = time.time() + seconds
    while time.time() < end:
        t = c.recv_msg(timeout=max(0.05, end - time.time()))
        if t is None:
            break
        got.append(t)
    return got


def main():
    port, lan_port = free_port(), free_port()
    state = os.path.join(tmp, "state")
    os.mkdir(state)
    ini = os.path.join(tmp, "t.ini")
    with open(ini, "w") as f:
        f.write("[tunneld]\nlisten = 127.0.0.1:%d\nstate_dir = %s\njoin_rate = 1000\n" % (port, state))
    procs.append(subprocess.Popen([SEALBOX, "tunneld", "-d", "-c", ini], stderr=subprocess.DEVNULL))
    wait_port(port, 100)
    tap = vp.Tap(port)
    relay, tapped = "127.0.0.1:%d" % port, "127.0.0.1:%d" % tap.port
    m = PtyMaster(relay, "--allow-exec", "--lan-listen", "127.0.0.1:%d" % lan_port, commands=True, lan=True)
    s = m.expect(r"session (\d{5})")
    session = s.group(1)
    wait_port(lan_port, 100)

    # 1: the relay operator joins its own session and is refused
    att = vp.Client(port, session)
    ok(att.join_any(), "the attacker completes the key exchange of its join (version %s)" % att.version)
    ok(m.refuse(), "the master's user refuses the attacker's join")
    t = att.recv_msg()
    ok(t is not None and t[0] == vp.M_REFUSE,
       "the attacker's own keys open its REFUSE (its implementation is right): %r" % (t[:1] if t else None,))

    # the technician joins through the tap and is approved
    tech = viewer_client(tapped, session, "exec", "sh", "-c", "echo TOPSECRET-2718; sleep 4; echo TECH-DONE")
    tsas, tid = client_sas(tech)
    ok(tsas is not None and m.approve(tsas), "the technician (SAS %s, client %s) is approved" % (tsas, tid))
    m.expect(r"approved %s " % tid)

    # 2: the refused joiner goes for the LAN path under the technician's id
    marker = os.path.join(tmp, "pwned-lan")
    others = tap.hellos(session)
    n = lan_takeover(att, lan_port, tid, session, marker, others)
    ok(n == 0, "the refused joiner's direct proof as the technician (client %s) is refused (%d accepted)" % (tid, n))
    ok(never_appears(marker), "no OPEN exec it sent ran (no marker file)")

    out, err = tech.communicate(timeout=30)
    ok(tech.returncode == 0 and out == "TOPSECRET-2718\nTECH-DONE\n", "the technician's exec still works")
    frames = tap.sealed()
    n = vp.count_opened(frames, att.candidates(others))
    ok(frames and n == 0, "no key the refused joiner could derive opens any of the technician's %d sealed frames (%d opened)"
       % (len(frames), n))

    # 3: an approved client B against client A
    tap.frames.clear()
    a = viewer_client(tapped, session, "exec", "sh", "-c", "echo A-SECRET-1618; sleep 4; echo A-DONE")
    asas, aid = client_sas(a)
    ok(asas is not None and m.approve(asas), "client A is approved")
    b = vp.Client(port, session)
    ok(b.join_any() and m.approve(b.sas), "client B (the Python client) is approved")
    t = b.recv_msg()
    ok(t is not None and t[0] == vp.M_APPROVE, "B gets its APPROVE")
    own = vp.try_direct(lan_port, b.id, session, b.keys["direct"], v2=b.version == 2)
    ok(own is not None, "B's direct proof for its own id is accepted (the proof is implemented right)")
    if own:
        own.close()
    marker_b = os.path.join(tmp, "pwned-as-a")
    n = lan_takeover(b, lan_port, aid, session, marker_b, tap.hellos(session))
    ok(n == 0, "B's direct proof as client A is refused (%d accepted)" % n)
    ok(never_appears(marker_b), "nothing B sent as A ran (no marker file)")
    out, err = a.communicate(timeout=30)
    ok(a.returncode == 0 and "A-SECRET-1618" in out, "client A's exec works")
    frames = tap.sealed()
    n = vp.count_opened(frames, b.candidates(tap.hellos(session)))
    ok(frames and n == 0, "no key B holds opens any of A's %d sealed frames (%d opened)" % (len(frames), n))

    # 4: the group key moves on after a refusal and after a kick
    drain(b)
    e0 = max(b.ring) if b.ring else -1
    c = vp.Client(port, session)
    c.join_any()
    m.refuse()
    got = drain(b, 3)
    e1 = max(b.ring) if b.ring else -1
    ok(e1 == e0 + 1 and any(x[0] == vp.M_REKEY for x in got),
       "after a refusal the remaining member gets a new group epoch (%d -> %d)" % (e0, e1))
    d = vp.Client(port, session)
    ok(d.join_any() and m.approve(d.sas), "client D is approved")
    d.recv_msg()
    src = os.path.join(tmp, "doc.txt")
    with open(src, "w") as f:
        f.write("drop payload\n" * 100)
    dp = viewer_client(relay, session, "drop", "put", src, "before.txt")
    psas, _ = client_sas(dp)
    m.approve(psas)
    dp.communicate(timeout=30)
    drain(d)
    drain(b)
    m.command("kick %d" % d.id)
    ok(m.expect(r"kicked %d " % d.id) is not None and m.expect(r"rekeyed epoch (\d+)") is not None,
       "the master re-keys after the kick")
    got = drain(b, 3)
    e2 = max(b.ring) if b.ring else -1
    ok(any(x[0] == vp.M_REKEY for x in got) and e2 > e1, "the remaining member gets the new epoch %d" % e2)
    dp = viewer_client(relay, session, "drop", "put", src, "after.txt")
    psas, _ = client_sas(dp)
    m.approve(psas)
    dp.communicate(timeout=30)
    if d.name_key is None:
        ok(False, "the kicked client held group keys to try (version 2 has none)")
    else:
        def stored(name):
            kn = vp.hkdf(d.name_key, b"sealbox-drop-v3", b"name\0" + struct.pack(">I", int(session)))
            import hmac
            rn = hmac.new(kn, name.encode(), "sha256").hexdigest()[:40]
            f = glob.glob(os.path.join(state, "drop", "**", rn + "*"), recursive=True)
            return rn, (open(f[0], "rb").read() if f else b"")
        rn, before = stored("before.txt")
        ok(before and any(vp.drop_opens(before, k, session, rn) for k in d.ring.values()),
           "the kicked client could open the drop made before the kick (the check is right)")
        rn, after = stored("after.txt")
        ok(after and not any(vp.drop_opens(after, k, session, rn) for k in d.ring.values()),
           "the kicked client cannot open the drop made after the kick (epochs it holds: %s)" % sorted(d.ring))
    log = m.all
    ok(re.search(r"removed before approval: refused", log) is not None, "the master logs the refusals")
    m.stop()


run("viewer_attack", main, tmp)
