#!/usr/bin/python3
"""viewer: an independent implementation of the client side (Python `cryptography`:
RSA-OAEP, HKDF, AES-GCM) joins through the real tunneld. It checks our SAS, nonce and AAD
layout and message format against docs/viewer-protocol.md by running a command, then
turns hostile: a replayed frame and a forged tag each get that client kicked, while the
master keeps serving a real viewer-client."""
import hashlib
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_vwtest import free_port, ok, procs, run, wait_port  # noqa: E402

SEALBOX = os.environ["SEALBOX"]
tmp = tempfile.mkdtemp(prefix="sealbox-vwio.")
HDR = struct.Struct(">BBHHIII")
VERSION = 2  # HELLO's protocol version (docs/viewer-protocol.md)
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


class Raw:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), 5)
        self.seq = 0
        self.id = 0

    def send(self, typ, dst, payload, seq=None):
        if seq is None:
            self.seq += 1
            seq = self.seq
        h = HDR.pack(1, typ, self.id, dst, seq, 0, len(payload))
        self.s.sendall(h + payload)
        return h

    def recv(self):
        h = b""
        while len(h) < 18:
            c = self.s.recv(18 - len(h))
            if not c:
                return None
            h += c
        v, typ, src, dst, seq, ack, ln = HDR.unpack(h)
        p = b""
        while len(p) < ln:
            c = self.s.recv(ln - len(p))
            if not c:
                return None
            p += c
        return h, typ, src, seq, p

    def sealed(self, key, epoch, dst, msg, seq=None, tamper=False):
        if seq is None:
            self.seq += 1
            seq = self.seq
        length = 3 + len(msg) + 16
        h = HDR.pack(1, 0x10, self.id, dst, seq, 0, length)
        prefix = bytes([3]) + struct.pack(">H", epoch)
        nonce = struct.pack(">HHQ", epoch, self.id, seq)
        ct = AESGCM(key).encrypt(nonce, msg, h + prefix)
        if tamper:
            ct = ct[:-1] + bytes([ct[-1] ^ 1])
        self.s.sendall(h + prefix + ct)


def msg(typ, chan, a=0, b=0, c=0, data=b""):
    return struct.pack(">BIBIQ", typ, chan, a, b, c) + data


def open_sealed(key, h, src, seq, p):
    epoch = struct.unpack(">H", p[1:3])[0]
    nonce = struct.pack(">HHQ", epoch, src, seq)
    pt = AESGCM(key).decrypt(nonce, p[3:], h + p[:3])
    typ, chan, a, b, c = struct.unpack(">BIBIQ", pt[:18])
    return typ, chan, a, b, c, pt[18:]


def join(port, session):
    r = Raw(port)
    r.send(0x03, 0, ("session=%s\n" % session).encode())
    f = r.recv()
    r.id = int(re.search(rb"id=(\d+)", f[4]).group(1))
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    spki = k.public_key().public_bytes(serialization.Encoding.DER,
                                       serialization.PublicFormat.SubjectPublicKeyInfo)
    r.send(0x10, 1, bytes([1, VERSION]) + spki)
    while True:
        h, typ, src, seq, p = r.recv()
        if typ == 0x10 and p[0] == 2:
            break
    epoch = struct.unpack(">H", p[1:3])[0]
    key = k.decrypt(p[3:], OAEP)
    return r, key, epoch, spki


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

    r, key, epoch, spki = join(port, session)
    ok(len(key) == 32 and epoch == 0, "our RSA-OAEP(SHA-256, MGF1-SHA-256) wrap opens with Python's cryptography")
    info = struct.pack(">I", int(session)) + hashlib.sha256(spki).digest() + struct.pack(">H", epoch)
    okm = HKDF(algorithm=hashes.SHA256(), length=8, salt=b"sealbox-sas-v1", info=info).derive(key)
    sas = "%08d" % (int.from_bytes(okm, "big") % 10 ** 8)
    line = m.stdout.readline()
    ok(("SAS " + sas) in line, "the master's SAS equals the SAS computed independently (%s / %s)" % (line.strip(), sas))
    h, typ, src, seq, p = r.recv()
    t = open_sealed(key, h, src, seq, p)
    ok(t[0] == 0x01 and t[3] & 0x01, "APPROVE decrypts with our nonce/AAD layout (exec allowed)")
    m.stdout.readline()  # approved ...

    args = b"".join(struct.pack(">H", len(a)) + a for a in (b"sh", b"-c", b"echo interop; exit 5"))
    r.sealed(key, epoch, 1, msg(0x10, 1, 1, 256 * 1024, 0, args))
    r.sealed(key, epoch, 1, msg(0x15, 1))  # stdin EOF
    out, code = b"", None
    while code is None:
        f = r.recv()
        if f is None:
            break
        h, typ, src, seq, p = f
        if typ != 0x10:
            continue
        t = open_sealed(key, h, src, seq, p)
        if t[0] == 0x13 and t[2] == 0:
            out += t[5]
        elif t[0] == 0x16:
            code = t[3]
    ok(out == b"interop\n" and code == 5, "a command opened by the Python client runs: output and exit code")

    # get: the transfer check is GMAC under the key we put into OPEN, over 'D' u32 len +
    # bytes per DATA and 'Z' u64 count per hole (docs/viewer-protocol.md, "Transfer check")
    ckey = os.urandom(32)
    args = b"".join(struct.pack(">H", len(a)) + a for a in (b"sparse.bin", ckey.hex().encode()))
    r.sealed(key, epoch, 1, msg(0x10, 2, 4, 1 << 20, 0, args))
    got, recs, tag, status = b"", b"", None, None
    while status is None:
        f = r.recv()
        if f is None:
            break
        h, typ, src, seq, p = f
        if typ != 0x10:
            continue
        t = open_sealed(key, h, src, seq, p)
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

    # hostile 1: a replayed sequence number
    r.sealed(key, epoch, 1, msg(0x14, 1, b=1), seq=r.seq)
    f = r.recv()
    while f is not None and not (f[1] == 0x06 and b"kicked" in f[4]):
        f = r.recv()
    ok(f is not None, "a replayed seq gets that client kicked")

    # hostile 2: a forged tag
    r2, key2, epoch2, _ = join(port, session)
    f = r2.recv()  # APPROVE
    r2.sealed(key2, epoch2, 1, msg(0x14, 1, b=1), tamper=True)
    f = r2.recv()
    while f is not None and not (f[1] == 0x06 and b"kicked" in f[4]):
        f = r2.recv()
    ok(f is not None, "a forged tag gets that client kicked")
    time.sleep(0.3)
    log = open(os.path.join(tmp, "m.err")).read()
    ok("replayed or reordered frame" in log and "authentication failed" in log, "the master logs why")
    res = subprocess.run([SEALBOX, "viewer-client", "--server", "127.0.0.1:%d" % port, session, "exec", "echo", "alive"],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    ok(res.returncode == 0 and res.stdout == "alive\n", "the master keeps serving after hostile clients")
    ok(m.poll() is None, "the master is still running")


run("viewer_interop", main, tmp)
