"""lib_vwproto.py - an independent implementation of the viewer's end-to-end protocol
(docs/viewer-protocol.md, version 3) with Python's `cryptography`, shared by the
interop test, the key-swapping relay and the attacker tests (viewer_attack.py,
viewer_sas.py):

- frames, HELLO / KEY / REVEAL, the per-client keys and the SAS, sealing and opening;
- Client: a participant that joins through the relay (and, for the attacker tests, falls
  back to version 2 when the master refuses version 3, so that the same test shows the
  attack working against an old master);
- Tap: a TCP forwarder in front of the relay that records every frame both ways (what a
  hostile relay operator sees);
- the attacker's tools: every key a participant could derive from what it saw, tried
  on every sealed frame; the direct-LAN proof."""
import hashlib
import os
import re
import select
import socket
import struct
import threading

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

HDR = struct.Struct(">BBHHIII")
VERSION = 3
JOIN, JOINED, PEER_LEFT, PING, PONG, DATA = 3, 4, 6, 10, 11, 0x10
HELLO, KEY, SEALED, BYE = 1, 2, 3, 4
M_APPROVE, M_REFUSE, M_REKEY, M_REVEAL = 1, 2, 3, 4
M_OPEN, M_DATA, M_EOF, M_EXIT = 0x10, 0x13, 0x15, 0x16
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def sha256(b):
    return hashlib.sha256(b).digest()


def hkdf(ikm, salt, info, n=32):
    return HKDF(algorithm=hashes.SHA256(), length=n, salt=salt, info=info).derive(ikm)


def bind(session, cid, spki, nm):
    """session u32 || id u16 || SHA-256(SPKI) || N_m (section 2)."""
    return struct.pack(">IH", int(session), cid) + sha256(spki) + nm


def link_keys(j, b):
    """The per-client keys of section 2: HKDF(J, "sealbox-client-v3", label 0 || bind)."""
    return {lab: hkdf(j, b"sealbox-client-v3", lab.encode() + b"\0" + b) for lab in ("m2c", "c2m", "direct")}


def sas(j, b, nc):
    okm = hkdf(j, b"sealbox-sas-v3", b + nc, 8)
    return "%08d" % (int.from_bytes(okm, "big") % 10 ** 8)


def sas_v2(k, session, spki, epoch):
    info = struct.pack(">I", int(session)) + sha256(spki) + struct.pack(">H", epoch)
    okm = hkdf(k, b"sealbox-sas-v1", info, 8)
    return "%08d" % (int.from_bytes(okm, "big") % 10 ** 8)


def msg(typ, chan=0, a=0, b=0, c=0, data=b""):
    return struct.pack(">BIBIQ", typ, chan, a, b, c) + data


def parse_msg(pt):
    typ, chan, a, b, c = struct.unpack(">BIBIQ", pt[:18])
    return typ, chan, a, b, c, pt[18:]


def args(*a):
    return b"".join(struct.pack(">H", len(x)) + x for x in a)


def seal(key, src, dst, seq, m, epoch=0, ack=0, tamper=False):
    """A whole sealed DATA frame (section 4)."""
    h = HDR.pack(1, DATA, src, dst, seq, ack, 3 + len(m) + 16)
    prefix = bytes([SEALED]) + struct.pack(">H", epoch)
    ct = AESGCM(key).encrypt(struct.pack(">HHQ", epoch, src, seq), m, h + prefix)
    if tamper:
        ct = ct[:-1] + bytes([ct[-1] ^ 1])
    return h + prefix + ct


def open_sealed(key, h, p):
    """The plaintext of a sealed payload p (after the 18 header bytes h), or None."""
    if len(p) < 19 or p[0] != SEALED or len(key) != 32:
        return None
    _, _, src, _, seq, _, _ = HDR.unpack(h)
    epoch = struct.unpack(">H", p[1:3])[0]
    try:
        return AESGCM(key).decrypt(struct.pack(">HHQ", epoch, src, seq), p[3:], h + p[:3])
    except Exception:
        return None


def group_keys(data):
    """APPROVE's key block: ({epoch: key}, name key, the rest)."""
    n = data[0]
    ring = {}
    for i in range(n):
        o = 1 + 34 * i
        ring[struct.unpack(">H", data[o:o + 2])[0]] = data[o + 2:o + 34]
    o = 1 + 34 * n
    return ring, data[o:o + 32], data[o + 32:]


def direct_proof(kd, answer, chal, session, cid, v2=False):
    label = (b"sealbox-direct-ok-" if answer else b"sealbox-direct-") + (b"v1" if v2 else b"v3")
    import hmac
    return hmac.new(kd, label + chal + struct.pack(">IH", int(session), cid), "sha256").digest()


def drop_opens(stored, gkey, session, rname):
    """1 when the header and meta chunk of a stored drop object open under group key gkey
    (section 7), with the object's stored name rname (40 hex digits)."""
    hdr, meta = stored[:22], stored[22:22 + 280]
    kf = hkdf(gkey, b"sealbox-drop-v3", b"file\0" + struct.pack(">I", int(session)) + rname.encode() + hdr[6:22])
    for last in (0, 1):
        aad = hdr + rname.encode() + struct.pack(">Q", 0) + bytes([last])
        try:
            AESGCM(kf).decrypt(bytes(4) + struct.pack(">Q", 0), meta, aad)
            return True
        except Exception:
            pass
    return False


class Raw:
    """One participant's relay link, frame by frame."""

    def __init__(self, port, host="127.0.0.1"):
        self.s = socket.create_connection((host, port), 5)
        self.seq = 0
        self.id = 0
        self.frames = []  # everything received: (h, typ, src, seq, payload)

    def next_seq(self):
        self.seq += 1
        return self.seq

    def send(self, typ, dst, payload):
        self.s.sendall(HDR.pack(1, typ, self.id, dst, self.next_seq(), 0, len(payload)) + payload)

    def send_raw(self, b):
        self.s.sendall(b)

    def recv(self, timeout=15):
        self.s.settimeout(timeout)
        try:
            h = self._exact(18)
            if h is None:
                return None
            v, typ, src, dst, seq, ack, ln = HDR.unpack(h)
            p = self._exact(ln) if ln else b""
        except OSError:
            return None
        if p is None:
            return None
        f = (h, typ, src, seq, p)
        self.frames.append(f)
        if typ == PING and src == 0:
            self.send(PONG, 0, b"")
        return f

    def _exact(self, n):
        try:
            return recv_exact(self.s, n)
        except OSError:
            return None

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


class Client:
    """A participant written from the document, not from our C code. join() does JOIN,
    HELLO (with the N_c commitment), KEY and REVEAL; after it, .sas, .keys (m2c, c2m,
    direct) and .j hold what this participant knows. With legacy=True it speaks version 2
    (K from KEY), which is what an old master understands."""

    def __init__(self, port, session):
        self.port, self.session = port, session
        self.keys, self.ring, self.name_key = {}, {}, None
        self.version = None
        self.j = self.k2 = None

    def join(self, legacy=False):
        r = self.r = Raw(self.port)
        r.send(JOIN, 0, ("session=%s\n" % self.session).encode())
        f = r.recv()
        if f is None or f[1] != JOINED:
            return False
        r.id = self.id = int(re.search(rb"id=(\d+)", f[4]).group(1))
        self.priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.spki = self.priv.public_key().public_bytes(serialization.Encoding.DER,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo)
        self.nc = os.urandom(32)
        if legacy:
            r.send(DATA, 1, bytes([HELLO, 2]) + self.spki)
        else:
            r.send(DATA, 1, bytes([HELLO, VERSION]) + sha256(self.nc) + self.spki)
        while True:
            f = r.recv()
            if f is None or (f[1] == PEER_LEFT and b"id=%d\n" % self.id in f[4] + b"\n"):
                return False
            if f[1] == DATA and f[4][:1] == bytes([BYE]):
                self.bye = f[4][1:].decode(errors="replace")
                return False
            if f[1] == DATA and f[4][:1] == bytes([KEY]):
                break
        p = f[4]
        if legacy:
            self.version = 2
            self.epoch = struct.unpack(">H", p[1:3])[0]
            self.k2 = self.priv.decrypt(p[3:], OAEP)
            self.keys = {"m2c": self.k2, "c2m": self.k2, "direct": self.k2}
            self.sas = sas_v2(self.k2, self.session, self.spki, self.epoch)
            return True
        self.version = 3
        self.nm = p[1:17]
        self.j = self.priv.decrypt(p[17:], OAEP)
        self.bind = bind(self.session, self.id, self.spki, self.nm)
        self.keys = link_keys(self.j, self.bind)
        self.sas = sas(self.j, self.bind, self.nc)
        self.send_msg(msg(M_REVEAL, data=self.nc))
        return True

    def join_any(self):
        """Version 3, else (an old master kicked us) version 2 on a new link."""
        if self.join():
            return True
        self.r.close()
        return self.join(legacy=True)

    def send_msg(self, m, tamper=False, seq=None):
        seq = self.r.next_seq() if seq is None else seq
        self.r.send_raw(seal(self.keys["c2m"], self.id, 1, seq, m, epoch=self.epoch if self.version == 2 else 0,
                             tamper=tamper))

    def recv_msg(self, timeout=15):
        """The next sealed message from the master, opened: (typ, chan, a, b, c, data), or
        ("left", reason) when the relay removed us, or None."""
        while True:
            f = self.r.recv(timeout)
            if f is None:
                return None
            h, typ, src, seq, p = f
            if typ == PEER_LEFT and b"id=%d\n" % self.id in p + b"\n":
                return ("left", p)
            if typ != DATA or src != 1 or p[:1] != bytes([SEALED]):
                continue
            pt = open_sealed(self.keys["m2c"], h, p)
            if pt is None:
                return ("unopenable",)
            t = parse_msg(pt)
            if t[0] == M_APPROVE and self.version == 3:
                self.ring, self.name_key, _ = group_keys(t[5])
            elif t[0] == M_APPROVE:
                self.ring = {self.epoch: self.k2}
            elif t[0] == M_REKEY and self.version == 3:
                self.ring[t[3]] = t[5]
            return t

    def candidates(self, others=()):
        """Every key this participant could try: J (and K of version 2), its own link and
        group keys, and the keys J would give under the binding of every other client
        it saw (others: (session, id, spki, nm) from the wire): what would work if J
        were shared."""
        c = [v for v in self.keys.values()] + list(self.ring.values())
        if self.name_key:
            c.append(self.name_key)
        if self.j:
            c.append(self.j)
            for o in others:
                c += list(link_keys(self.j, bind(*o)).values())
        if self.k2:
            c.append(self.k2)
        return [k for k in c if k and len(k) == 32]


def count_opened(frames, keys):
    """How many sealed frames open under any of keys. frames: (h, payload) pairs."""
    n = 0
    for h, p in frames:
        if p[:1] == bytes([SEALED]) and any(open_sealed(k, h, p) is not None for k in keys):
            n += 1
    return n


def split_frames(buf):
    out = []
    while len(buf) >= 18:
        ln = HDR.unpack(buf[:18])[6]
        if len(buf) < 18 + ln:
            break
        out.append((buf[:18], buf[18:18 + ln]))
        buf = buf[18 + ln:]
    return out, buf


class Tap:
    """A forwarder on a free loopback port to the relay, recording every frame both ways
    into .frames as (h, payload): what the relay operator sees."""

    def __init__(self, relay_port):
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(8)
        self.port = self.ls.getsockname()[1]
        self.relay_port = relay_port
        self.frames = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            a, _ = self.ls.accept()
            b = socket.create_connection(("127.0.0.1", self.relay_port))
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, a, b):
        bufs = {a: b"", b: b""}
        peer = {a: b, b: a}
        try:
            while True:
                r, _, _ = select.select([a, b], [], [])
                for s in r:
                    d = s.recv(65536)
                    if not d:
                        return
                    peer[s].sendall(d)
                    fr, bufs[s] = split_frames(bufs[s] + d)
                    with self.lock:
                        self.frames += fr
        except OSError:
            pass
        finally:
            a.close()
            b.close()

    def sealed(self):
        with self.lock:
            return [f for f in self.frames if HDR.unpack(f[0])[1] == DATA and f[1][:1] == bytes([SEALED])]

    def hellos(self, session):
        """(session, id, spki, nm) of every join the tap saw (HELLO and its KEY)."""
        spki, out = {}, []
        with self.lock:
            fr = list(self.frames)
        for h, p in fr:
            _, typ, src, dst, _, _, _ = HDR.unpack(h)
            if typ == DATA and p[:1] == bytes([HELLO]) and len(p) > 34:
                spki[src] = p[34:] if p[1] == VERSION else p[2:]
            elif typ == DATA and p[:1] == bytes([KEY]) and dst in spki:
                out.append((session, dst, spki[dst], p[1:17]))
        return out


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise OSError("closed")
        b += c
    return b


def try_direct(lan_port, cid, session, kd, v2=False, host="127.0.0.1"):
    """The client side of the direct-LAN proof (section 8) with key kd for id cid: the
    socket when the master answered with a valid proof, else None."""
    s = socket.create_connection((host, lan_port), 3)
    s.settimeout(3)
    try:
        chal = recv_exact(s, 32)
        s.sendall(struct.pack(">H", cid) + direct_proof(kd, 0, chal, session, cid, v2))
        if recv_exact(s, 32) == direct_proof(kd, 1, chal, session, cid, v2):
            return s
    except OSError:
        pass
    s.close()
    return None
