#!/usr/bin/python3
"""viewer: the SAS decides. The master's user (driven here through a real pty, as
/dev/tty) approves by typing the SAS the technician reads out; 'n' refuses (client
exit 77); a master without a terminal refuses; and a key-swapping relay that learns the
per-join secret (and re-seals everything) makes the two SAS differ, so the join is
refused, and nothing the relay learnt opens any frame after (the next honest join
included)."""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_vwtest  # noqa: E402
from lib_vwtest import PtyMaster, free_port, ok, procs, run, wait_port  # noqa: E402
from lib_test import wait_log  # noqa: E402
from lib_vwproto import count_opened  # noqa: E402

SEALBOX = os.environ["SEALBOX"]
TOP = os.environ["TOP"]
RELAY = os.path.join(TOP, "tests/integration/lib_vw_relay.py")
tmp = tempfile.mkdtemp(prefix="sealbox-vwsas.")


def start_relay(*extra):
    port = free_port()
    log = os.path.join(tmp, "relay-%d.log" % port)
    p = subprocess.Popen(["/usr/bin/python3", RELAY, str(port), "--log", log] + list(extra))
    procs.append(p)
    wait_port(port, 100)
    return "127.0.0.1:%d" % port, log


def client(relay, session, *cmd):
    p = subprocess.Popen([SEALBOX, "viewer-client", "--server", relay, session] + list(cmd),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    procs.append(p)
    return p


def client_sas(p, timeout=15):
    return lib_vwtest.client_sas(p, timeout)[0]


def main():
    relay, _ = start_relay()
    m = PtyMaster(relay, "--allow-exec")
    s = m.expect(r"session (\d{5})")
    ok(s is not None, "master prints its session number")
    session = s.group(1)

    # 1: the technician reads the SAS, the user types it: approved
    c = client(relay, session, "exec", "echo", "joined")
    csas = client_sas(c)
    j = m.expect(r"join (\d+) 127\.0\.0\.1:\d+ SAS (\d{8})")
    ok(csas is not None and j is not None and j.group(2) == csas, "both ends show the same SAS")
    ok(m.expect(r"Type the SAS") is not None, "master asks its user on the terminal")
    m.type(csas + "\n")
    out, err = c.communicate(timeout=15)
    ok(c.returncode == 0 and out == "joined\n", "typing the matching SAS approves the join")

    # 2: the user refuses
    c = client(relay, session, "exec", "echo", "no")
    client_sas(c)
    m.expect(r"Type the SAS")
    m.type("n\n")
    out, err = c.communicate(timeout=15)
    ok(c.returncode == 77, "refused join: client exits 77")
    ok("refused" in err and out == "", "refused client says so and runs nothing")

    # 3: a wrong SAS typed is a refusal too
    c = client(relay, session, "exec", "echo", "no")
    csas = client_sas(c)
    m.expect(r"Type the SAS")
    wrong = "%08d" % ((int(csas) + 1) % 100000000)
    m.type(wrong + "\n")
    out, err = c.communicate(timeout=15)
    ok(c.returncode == 77 and m.expect(r"SAS MISMATCH") is not None, "a SAS that does not match refuses")
    m.stop()

    # 4: the key-swapping relay (a full man in the middle: it learns this join's J and
    # re-seals every frame), but the SAS differ and the join is refused
    rec = os.path.join(tmp, "evil.rec")
    evil, evil_log = start_relay("--swap-key", "--swap-once", "--record", rec)
    m = PtyMaster(evil, "--allow-exec")
    session = m.expect(r"session (\d{5})").group(1)
    c = client(evil, session, "exec", "echo", "pwned")
    csas = client_sas(c)
    j = m.expect(r"join (\d+) 127\.0\.0\.1:\d+ SAS (\d{8})")
    # (the relay logs it when it swaps the key; a fixed pause here once raced that line)
    ok(wait_log(evil_log, "learned the", 10),
       "the malicious relay did swap the key and learn this join's secret")
    ok(csas is not None and j is not None and j.group(2) != csas,
       "the SAS differ (master %s, client %s)" % (j.group(2) if j else "?", csas))
    m.expect(r"Type the SAS")
    m.type(csas + "\n")   # the user types what the technician reads out
    ok(m.expect(r"SAS MISMATCH") is not None, "master reports the mismatch")
    out, err = c.communicate(timeout=15)
    ok(c.returncode == 77 and "pwned" not in out, "the swapped join is refused (77), nothing ran")
    swapped_id = int(j.group(1)) if j else 2

    # the technician's next, honest join through the same relay (it no longer swaps):
    # nothing the relay learnt in the attack opens any of its frames
    c = client(evil, session, "exec", "echo", "honest-3141")
    csas = client_sas(c)
    m.expect(r"Type the SAS")
    m.type(csas + "\n")
    out, err = c.communicate(timeout=15)
    ok(c.returncode == 0 and out == "honest-3141\n", "the next honest join works")
    m.stop()
    keys, before, after = [], [], []
    for line in open(rec):
        d = json.loads(line)
        if "key" in d:
            keys.append(bytes.fromhex(d["key"]))
        elif "frame" in d:
            f = bytes.fromhex(d["frame"])
            (before if swapped_id in (d["src"], d["dst"]) else after).append((f[:18], f[18:]))
    sealed_after = [f for f in after if f[1][:1] == b"\x03"]
    ok(keys and count_opened(before, keys) > 0,
       "the relay's keys did open the attacked join's frames (%d keys)" % len(keys))
    n = count_opened(sealed_after, keys)
    ok(sealed_after and n == 0,
       "no key the relay saw opens any of the %d sealed frames after the refusal (%d opened)" % (len(sealed_after), n))

    # 5: no terminal, no --auto-approve: refused
    relay2, _ = start_relay()
    mp = subprocess.Popen([SEALBOX, "viewer-master", "--no-lan", "--server", relay2, "--allow-exec"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, start_new_session=True)
    procs.append(mp)
    session = re.match(r"session (\d{5})", mp.stdout.readline()).group(1)
    c = client(relay2, session, "exec", "echo", "x")
    out, err = c.communicate(timeout=15)
    ok(c.returncode == 77, "a master without a terminal refuses instead of approving")


run("viewer_sas", main, tmp)
