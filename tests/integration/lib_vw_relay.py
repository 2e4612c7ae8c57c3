#!/usr/bin/python3
"""lib_vw_relay.py - a small relay speaking docs/tunnel-protocol.md, for the viewer's
integration tests (and a stand-in while tunneld is not there). With --swap-key it is
the malicious relay of the threat model: it replaces the client's RSA public key in
HELLO with its own, unwraps the per-join secret J from the master's KEY answer and
re-wraps it for the client, derives both sides' per-client keys (lib_vwproto.py) and
re-seals every frame between them, a full man in the middle - which the SAS must
expose. (A version-2 HELLO gets the old attack: K unwrapped and re-wrapped.) With
--swap-once only the first join is attacked. --record FILE writes every key it learnt
and every DATA frame it relayed (JSON lines), for the test to try them all.

usage: lib_vw_relay.py PORT [--swap-key [--swap-once]] [--record FILE] [--log FILE]
"""
import binascii
import json
import os
import random
import socket
import struct
import sys
import threading

HDR = struct.Struct(">BBHHIII")
REGISTER, REGISTERED, JOIN, JOINED, PEER_JOINED, PEER_LEFT, KICK, END, ERROR, PING, PONG = range(1, 12)
DATA = 0x10
MAX = 256 * 1024

lock = threading.Lock()
sessions = {}       # number -> {"master": Conn, "clients": {id: Conn}, "next": 2}
swap = "--swap-key" in sys.argv
logf = None
if "--log" in sys.argv:
    logf = open(sys.argv[sys.argv.index("--log") + 1], "a", buffering=1)


def log(*a):
    msg = " ".join(str(x) for x in a)
    if logf:
        logf.write(msg + "\n")
    else:
        print("relay:", msg, file=sys.stderr, flush=True)


swap_once = "--swap-once" in sys.argv
recf = None
if "--record" in sys.argv:
    recf = open(sys.argv[sys.argv.index("--record") + 1], "a", buffering=1)


def record(**kv):
    if recf:
        recf.write(json.dumps(kv) + "\n")


if swap:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    import lib_vwproto as vp
    evil = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    evil_spki = evil.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    real_spki = {}  # client id -> its real SPKI
    mitm = {}       # client id -> (keys as the client has them, keys as the master has them)
    swapped = []    # the ids attacked


class Conn:
    def __init__(self, sock, addr):
        self.sock, self.addr = sock, addr
        self.id = None
        self.session = None
        self.seq = 0
        self.wlock = threading.Lock()
        self.alive = True

    def send(self, typ, src, dst, payload, seq=None, ack=0):
        with self.wlock:
            if seq is None:
                self.seq += 1
                seq = self.seq
            try:
                self.sock.sendall(HDR.pack(1, typ, src, dst, seq, ack, len(payload)) + payload)
            except OSError:
                self.alive = False

    def ctl(self, typ, **kv):
        self.send(typ, 0, self.id or 0, "".join("%s=%s\n" % (k, v) for k, v in kv.items()).encode())

    def close(self):
        self.alive = False
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def recv_exact(s, n):
    b = bytearray()
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            return None
        b += c
    return bytes(b)


def parse_ctl(p):
    d = {}
    for line in p.decode(errors="replace").split("\n"):
        if "=" in line:
            k, v = line.split("=", 1)
            d[k] = v
    return d


def tamper(conn, sess, src, dst, payload, hdr):
    """The key-swap attack. hdr: the 18 header bytes the frame goes on with."""
    if not payload:
        return payload
    if payload[0] == 1 and src >= 2 and (not swap_once or not swapped or src in swapped):
        # HELLO: keep the client's key, send ours
        swapped.append(src)
        if payload[1] >= 3:
            real_spki[src] = payload[34:]
            log("swapped the public key of client", src)
            return payload[:34] + evil_spki
        real_spki[src] = payload[2:]
        log("swapped the public key of client", src)
        return payload[:2] + evil_spki
    if payload[0] == 2 and dst in real_spki and dst not in mitm:
        pub = serialization.load_der_public_key(real_spki[dst])
        if len(payload) == 17 + 256:  # version 3: N_m || J wrapped
            j, nm = evil.decrypt(payload[17:], oaep), payload[1:17]
            kc = vp.link_keys(j, vp.bind(sess["number"], dst, real_spki[dst], nm))
            km = vp.link_keys(j, vp.bind(sess["number"], dst, evil_spki, nm))
            mitm[dst] = (kc, km)
            log("learned the per-join secret J of client", dst)
            record(key=j.hex())
            for k in list(kc.values()) + list(km.values()):
                record(key=k.hex())
            return payload[:17] + pub.encrypt(j, oaep)
        k = evil.decrypt(payload[3:], oaep)
        log("learned the session key (%d bytes)" % len(k))
        record(key=k.hex())
        mitm[dst] = None
        return payload[:3] + pub.encrypt(k, oaep)
    if payload[0] == 3 and (src in mitm or dst in mitm):
        cid = src if src in mitm else dst
        if mitm[cid] is None:
            return payload  # version 2: both ends hold the same K
        kc, km = mitm[cid]
        rk, wk = (kc["c2m"], km["c2m"]) if src == cid else (km["m2c"], kc["m2c"])
        pt = vp.open_sealed(rk, hdr, payload)
        if pt is None:
            log("could not open a frame of client", cid)
            return payload
        sealed = vp.seal(wk, src, dst, HDR.unpack(hdr)[4], pt, ack=HDR.unpack(hdr)[5])
        return sealed[18:]
    return payload


def serve(sock, addr):
    c = Conn(sock, addr)
    try:
        loop(c)
    except (OSError, struct.error):
        pass
    finally:
        leave(c)
        try:
            sock.close()
        except OSError:
            pass


def leave(c):
    with lock:
        s = sessions.get(c.session)
        if not s:
            return
        if c.id == 1:
            for cl in list(s["clients"].values()):
                cl.ctl(PEER_LEFT, id=1, reason="left")
                cl.close()
            del sessions[c.session]
            log("session", c.session, "ended")
        elif s["clients"].pop(c.id, None):
            s["master"].ctl(PEER_LEFT, id=c.id, reason="left")


def loop(c):
    last = 0
    while c.alive:
        h = recv_exact(c.sock, HDR.size)
        if not h:
            return
        ver, typ, src, dst, seq, ack, ln = HDR.unpack(h)
        if ver != 1 or ln > MAX:
            log("malformed frame from", c.addr)
            return
        payload = recv_exact(c.sock, ln) if ln else b""
        if payload is None:
            return
        if c.id is not None and (src != c.id or seq <= last):
            log("bad source/seq from", c.addr)
            return
        last = seq
        if typ == REGISTER and c.id is None:
            with lock:
                while True:
                    n = random.randint(10000, 99999)
                    if n not in sessions:
                        break
                c.id, c.session = 1, n
                sessions[n] = {"master": c, "clients": {}, "next": 2, "number": n}
            c.ctl(REGISTERED, session=n, id=1, token="00")
            log("session", n, "registered from", c.addr)
        elif typ == JOIN and c.id is None:
            d = parse_ctl(payload)
            with lock:
                s = sessions.get(int(d.get("session", "0") or 0))
                if s:
                    c.id, c.session = s["next"], int(d["session"])
                    s["next"] += 1
                    s["clients"][c.id] = c
            if not s:
                c.ctl(ERROR, code="no-such-session", msg="no such session")
                return
            c.ctl(JOINED, id=c.id, token="00")
            s["master"].ctl(PEER_JOINED, id=c.id, addr="%s:%d" % c.addr[:2], path="tcp")
            log("client", c.id, "joined", c.session)
        elif typ == DATA and c.id is not None:
            with lock:
                s = sessions.get(c.session)
                targets = []
                if s:
                    if dst == 1 and c.id != 1:
                        targets = [s["master"]]
                    elif c.id == 1 and dst == 0xffff:
                        targets = list(s["clients"].values())
                    elif c.id == 1 and dst in s["clients"]:
                        targets = [s["clients"][dst]]
            for t in targets:
                hdr = HDR.pack(1, DATA, src, dst, seq, ack, len(payload))
                record(frame=binascii.hexlify(hdr + payload).decode(), src=src, dst=dst)
                p = tamper(c, s, src, dst, payload, hdr) if swap else payload
                if p is payload:
                    t.send(DATA, src, dst, payload, seq=seq, ack=ack)
                else:
                    # the attack re-sends the frame with a changed payload; the header is
                    # the same, which is all the plaintext steps need
                    t.send(DATA, src, dst, p, seq=seq, ack=ack)
        elif typ == KICK and c.id == 1:
            d = parse_ctl(payload)
            with lock:
                s = sessions.get(c.session)
                victim = s["clients"].pop(int(d.get("id", "0")), None) if s else None
            if victim:
                victim.ctl(PEER_LEFT, id=victim.id, reason="kicked")
                victim.close()
                log("client", victim.id, "kicked")
        elif typ == END and c.id == 1:
            return
        elif typ == PING:
            c.ctl(PONG)


def main():
    port = int(sys.argv[1])
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(64)
    while True:
        s, a = ls.accept()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve, args=(s, a), daemon=True).start()


if __name__ == "__main__":
    main()
