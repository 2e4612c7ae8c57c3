#!/usr/bin/python3
"""viewer: an independent implementation of the client side (tests/integration/
lib_vwproto.py, Python `cryptography`: RSA-OAEP, HKDF, AES-GCM) joins through the real
tunneld. It checks our per-join key transport, SAS, per-client keys, nonce and AAD layout
and message format against docs/viewer-protocol.md (version 3) by running a command and
a get, then turns hostile: a replayed frame and a forged tag each get that client
kicked, a version-2 HELLO is refused with a reason, while the master keeps serving a
real viewer-client."""
import os
import re
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_vwtest import free_port, ok, procs, run, wait_port  # noqa: E402
from lib_test import wait_log  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from lib_vwproto import M_APPROVE, Client, args, msg  # noqa: E402

SEALBOX = os.environ["SEALBOX"]
tmp = tempfile.mkdtemp(prefix="sealbox-vwio.")


def recv_sealed(c):
    """The next sealed message from the master (skipping relay frames), or None."""
    t = c.recv_msg()
    return t if t is not None and len(t) == 6 else None


def wait_kicked(c):
    f = c.r.recv()
    while f is not None and not (f[1] == 0x06 and b"kicked" in f[4]):
        f = c.r.recv()
    return f is not None


def main():
    port = free_port()
    os.mkdir(os.path.join(tmp, "state"))
    ini = os.path.join(tmp, "t.ini")
    with open(ini, "w") as f:
        f.write("[tunneld]\nlisten = 127.0.0.1:%d\nstate_dir = %s/state\njoin_rate = 1000\n" % (port, tmp))
    procs.append(subprocess.Popen([SEALBOX, "tunneld", "-d", "-c", ini], stderr=subprocess.DEVNULL))
    wait_port(port, 100)
    share = os.path.join(tmp, "share")
    os.mkdir(share)
    with open(os.path.join(share, "sparse.bin"), "wb") as f:
        f.write(os.urandom(70000))
        f.seek(8 << 20)
        f.write(b"tail" * 1000)
    merr = open(os.path.join(tmp, "m.err"), "w")
    m = subprocess.Popen([SEALBOX, "viewer-master", "--no-lan", "--server", "127.0.0.1:%d" % port, "--allow-exec",
                          "--share", share, "--auto-approve"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=merr, text=True)
    procs.append(m)
    session = re.match(r"session (\d+)", m.stdout.readline()).group(1)

    c = Client(port, session)
    ok(c.join() and len(c.j) == 32, "our RSA-OAEP(SHA-256, MGF1-SHA-256) wrap of J opens with Python's cryptography")
    line = m.stdout.readline()
    ok(("SAS " + c.sas) in line,
       "the master's SAS (made after our REVEAL) equals the SAS computed independently (%s / %s)" % (line.strip(), c.sas))
    t = recv_sealed(c)
    ok(t is not None and t[0] == M_APPROVE and t[3] & 0x01,
       "APPROVE opens under our independently derived m2c key (exec allowed)")
    ok(t is not None and t[4] in c.ring and len(c.name_key) == 32, "APPROVE carries the group keys, current epoch %s" % (t[4] if t else "?"))
    m.stdout.readline()  # approved ...

    c.send_msg(msg(0x10, 1, 1, 256 * 1024, 0, args(b"sh", b"-c", b"echo interop; exit 5")))
    c.send_msg(msg(0x15, 1))  # stdin EOF
    out, code = b"", None
    while code is None:
        t = recv_sealed(c)
        if t is None:
            break
        if t[0] == 0x13 and t[2] == 0:
            out += t[5]
        elif t[0] == 0x16:
            code = t[3]
    ok(out == b"interop\n" and code == 5, "a command opened by the Python client (sealed under its c2m key) runs: output and exit code")

    # get: the transfer check is GMAC under the key we put into OPEN, over 'D' u32 len +
    # bytes per DATA and 'Z' u64 count per hole (docs/viewer-protocol.md, "Transfer check")
    ckey = os.urandom(32)
    c.send_msg(msg(0x10, 2, 4, 1 << 20, 0, args(b"sparse.bin", ckey.hex().encode())))
    got, recs, tag, status = b"", b"", None, None
    while status is None:
        t = recv_sealed(c)
        if t is None:
            break
        if t[1] != 2:
            continue
        if t[0] == 0x13 and t[2] == 2:
            got += bytes(t[4])
            recs += b"Z" + struct.pack(">Q", t[4])
        elif t[0] == 0x13:
            got += t[5]
            recs += b"D" + struct.pack(">I", len(t[5])) + t[5]
        elif t[0] == 0x15:
            tag = t[5]
        elif t[0] in (0x12, 0x16):
            status = t[3] if t[0] == 0x16 else -1
    want = open(os.path.join(share, "sparse.bin"), "rb").read()
    gmac = AESGCM(ckey).encrypt(bytes(12), b"", recs)
    ok(status == 0 and got == want, "get by the Python client: the file's bytes (data and holes) arrive")
    ok(tag == gmac, "the master's transfer check equals GMAC computed independently")
    ok(b"Z" in recs, "the file's hole travelled as a hole")

    # a put whose hole length would wrap done + length past 2^64 (and so pass a naive
    # "done + length > size" check and seek backwards) is refused and ends the channel
    c.send_msg(msg(0x10, 3, 5, 256 * 1024, 100, args(b"wrap.bin", os.urandom(32).hex().encode())))
    t = recv_sealed(c)
    while t is not None and t[1] != 3:
        t = recv_sealed(c)
    ok(t is not None and t[0] == 0x11, "put of 100 bytes opened")
    c.send_msg(msg(0x13, 3, 0, 0, 0, b"x" * 60))
    c.send_msg(msg(0x13, 3, 2, 0, (1 << 64) - 10))
    t = recv_sealed(c)
    while t is not None and t[1] != 3:
        t = recv_sealed(c)
    ok(t is not None and t[0] == 0x16 and t[3] == 74, "a wrapping hole length is refused: EXIT 74 (%r)" % (t[:4] if t else None,))
    c.send_msg(msg(0x15, 3, 0, 0, 0, bytes(16)))  # EOF for a channel that is gone: ignored
    ok(not os.path.exists(os.path.join(share, "wrap.bin")) and
       not [n for n in os.listdir(share) if n.startswith(".sealbox-put")], "the channel ended: no file, no temporary")

    # hostile 1: a replayed sequence number
    c.send_msg(msg(0x14, 1, b=1), seq=c.r.seq)
    ok(wait_kicked(c), "a replayed seq gets that client kicked")

    # hostile 2: a forged tag
    c2 = Client(port, session)
    c2.join()
    recv_sealed(c2)  # APPROVE
    c2.send_msg(msg(0x14, 1, b=1), tamper=True)
    ok(wait_kicked(c2), "a forged tag gets that client kicked")

    # hostile 3: another protocol version is refused, and told so
    old = Client(port, session)
    ok(not old.join(legacy=True) and "version 2 not supported" in getattr(old, "bye", ""),
       "a version-2 HELLO is refused with a clear message (%s)" % getattr(old, "bye", "none"))
    wait_log(os.path.join(tmp, "m.err"), "protocol version 2 not supported", 10)
    log = open(os.path.join(tmp, "m.err")).read()
    ok("replayed or reordered frame" in log and "authentication failed" in log, "the master logs why")
    ok("protocol version 2 not supported" in log, "the master logs the refused version")
    res = subprocess.run([SEALBOX, "viewer-client", "--server", "127.0.0.1:%d" % port, session, "exec", "echo", "alive"],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    ok(res.returncode == 0 and res.stdout == "alive\n", "the master keeps serving after hostile clients")
    ok(m.poll() is None, "the master is still running")


run("viewer_interop", main, tmp)
