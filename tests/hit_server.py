#!/usr/bin/python3
"""hit_server.py - a HIT (HI-Tier HitServer) test server for hitc's tests and benchmark.

Implements the documented line protocol and the crypto defaults hitc proposes
(docs/hitc.md): greeting with a random challenge, plain `*` and RSA `$` LOGON with an
SVR_HELO check, four failed logons -> severity 4 and close, `#` sessions with SESS_KEY
and ENC_SYM, a few entities with single and multi-part answers, TIMEOUT.

Its RSA and AES come from Python's `cryptography` package (key generation, PKCS#1 v1.5,
AES-CBC/ECB/GCM, PKCS#7) and Python's own integers (raw RSA: pow(c, d, n)), never
from sealbox, so a bug in sealbox's crypto core cannot hide on both sides.
It is a test peer only: not part of the sealbox binary.

Entities (any action, after a successful logon):
  ECHO      =SEQ:0/0:ECHO:<values as received>
  TIERHALTER  two %-parts (NAME, ORT with umlauts) and a final =SEQ:0/0 line
  BIG       one answer whose text is <values> bytes long (digits, then "äöü")
  HINT/WARN/FAIL  severity 1 / 2 / 3
  FATAL     severity 4, then the server closes
  CUT       one %-part, then half a line, then the server closes
anything else: severity 3 "unknown entity".
"""
import argparse
import json
import os
import random
import socket
import socketserver
import sys
import threading
import time

from cryptography.hazmat.primitives import hashes, padding as sympad, serialization  # noqa: F401
from cryptography.hazmat.primitives.asymmetric import padding as asympad, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

LOG_LOCK = threading.Lock()


def tbc_unpad(b):
    if not b or b[-1] not in (0x00, 0xFF):
        raise ValueError("no TBC pad")
    pad = b[-1]
    n = len(b)
    while n > 0 and b[n - 1] == pad:
        n -= 1
    if n == 0 or (b[n - 1] & 1) == (pad & 1):
        raise ValueError("bad TBC pad")
    return b[:n]


class Sym:
    """The `#` layer: one cipher, one key, each line on its own."""

    def __init__(self, enc_sym, key, iv_mode):
        t = enc_sym.upper()
        if t in ("AES/CBC/PKCS7PADDING", "AES/CBC/PKCS5PADDING"):
            self.mode = "cbc"
        elif t in ("AES/ECB/PKCS7PADDING", "AES/ECB/PKCS5PADDING"):
            self.mode = "ecb"
        elif t == "AES/GCM/NOPADDING":
            self.mode = "gcm"
        else:
            raise ValueError("ENC_SYM not supported: " + enc_sym)
        if len(key) not in (16, 24, 32):
            raise ValueError("SESS_KEY length does not fit ENC_SYM")
        self.key = key
        self.iv_mode = iv_mode

    def encrypt(self, data):
        if self.mode == "gcm":
            nonce = os.urandom(12)
            return nonce + AESGCM(self.key).encrypt(nonce, data, None)
        p = sympad.PKCS7(128).padder()
        data = p.update(data) + p.finalize()
        if self.mode == "ecb":
            e = Cipher(algorithms.AES(self.key), modes.ECB()).encryptor()
            return e.update(data) + e.finalize()
        iv = os.urandom(16) if self.iv_mode == "prefix" else bytes(16)
        e = Cipher(algorithms.AES(self.key), modes.CBC(iv)).encryptor()
        ct = e.update(data) + e.finalize()
        return (iv + ct) if self.iv_mode == "prefix" else ct

    def decrypt(self, raw):
        if self.mode == "gcm":
            return AESGCM(self.key).decrypt(raw[:12], raw[12:], None)
        if self.mode == "ecb":
            d = Cipher(algorithms.AES(self.key), modes.ECB()).decryptor()
        elif self.iv_mode == "prefix":
            d = Cipher(algorithms.AES(self.key), modes.CBC(raw[:16])).decryptor()
            raw = raw[16:]
        else:
            d = Cipher(algorithms.AES(self.key), modes.CBC(bytes(16))).decryptor()
        pt = d.update(raw) + d.finalize()
        u = sympad.PKCS7(128).unpadder()
        return u.update(pt) + u.finalize()


def norm_bnr(b):
    digits = "".join(c for c in b if c.isdigit())
    return "276" + digits if len(digits) == 12 else digits


class Handler(socketserver.StreamRequestHandler):
    def setup(self):
        super().setup()
        self.o = self.server.opts
        self.sym = None
        self.logged_on = False
        self.failures = self.o.prior_failures
        self.closed = False

    # ---- output ----
    def send(self, text, encrypted=None):
        data = text.encode(self.o.charset)
        use = self.sym if encrypted is None else encrypted
        if use:
            data = b"#" + use.encrypt(data).hex().upper().encode()
        self.wfile.write(data + b"\r\n")

    def log(self, **ev):
        if not self.o.log:
            return
        with LOG_LOCK:
            with open(self.o.log, "a") as f:
                f.write(json.dumps(ev) + "\n")

    # ---- the session ----
    def handle(self):
        self.request.settimeout(self.o.default_timeout)
        ch = random.choice([-random.randrange(1, 2**63), random.randrange(2**63, 2**64)])
        self.helo = ("HitServer bereit. Version 2600, %s. Sie sind mit dem Pr\u00fcfsystem verbunden. "
                     "HI-Tierzeit %s Challenge %d" % (time.strftime("%d.%m.%Y %H-%M"),
                                                      time.strftime("%d.%m.%Y %H-%M-%Sh"), ch))
        if self.o.extra_hello:
            self.send("%0:1/2601::Willkommen im Testsystem.")
        self.send("=0:0/2600::" + self.helo)
        while not self.closed:
            try:
                raw = self.rfile.readline()
            except socket.timeout:
                self.send("=0:4/199::Zeit\u00fcberschreitung, die Verbindung wird beendet.")
                self.log(event="timeout")
                return
            except OSError:
                return
            if not raw:
                return
            self.request.settimeout(self.timeout_s())
            line = raw.rstrip(b"\r\n")
            self.line(line)

    def timeout_s(self):
        return getattr(self, "timeout", self.o.default_timeout)

    def line(self, line):
        if line.startswith(b"$"):
            self.dollar(line[1:])
        elif line.startswith(b"#"):
            if not self.sym:
                self.send("=0:3/231::Keine verschl\u00fcsselte Sitzung aktiv.", encrypted=False)
                return
            try:
                plain = self.sym.decrypt(bytes.fromhex(line[1:].decode("ascii")))
            except Exception:
                self.send("=0:3/232::Zeile nicht entschl\u00fcsselbar.")
                return
            self.log(event="command", encrypted=True)
            self.command(plain.decode(self.o.charset, errors="replace"), False)
        elif line.startswith(b"*"):
            if self.sym:
                self.send("=0:3/233::Sitzung ist verschl\u00fcsselt, Klartext abgelehnt.")
                return
            self.log(event="command", encrypted=False)
            self.command(line.decode(self.o.charset, errors="replace"), False)
        else:
            self.send("=0:3/100::Zeile nicht erkannt.")

    def dollar(self, hexpart):
        key = self.server.key
        k = key.key_size // 8
        try:
            data = bytes.fromhex(hexpart.decode("ascii"))
            if not data or len(data) % k:
                raise ValueError("length")
            out = b""
            if self.o.rsa_padding == "pkcs1":
                for i in range(0, len(data), k):
                    out += key.decrypt(data[i:i + k], asympad.PKCS1v15())
            else:
                pn = key.private_numbers()
                n, d = pn.public_numbers.n, pn.d
                for i in range(0, len(data), k):
                    c = int.from_bytes(data[i:i + k], "big")
                    if c >= n:
                        raise ValueError("block >= n")
                    m = pow(c, d, n).to_bytes(k, "big")
                    if m[0] != 0:
                        raise ValueError("top byte")
                    out += m[1:]
                out = tbc_unpad(out)
            text = out.decode(self.o.charset)
        except Exception as e:
            self.log(event="dollar-error", why=str(e))
            self.fail_logon(0, "=0:3/230::Verschl\u00fcsselte Anmeldung nicht lesbar.")
            return
        self.command(text, True)

    def fail_logon(self, seq, answer):
        self.failures += 1
        self.logged_on = False
        self.sym = None
        if self.failures >= 4:
            self.send("=%d:4/190:LOGON:Nach mehreren ung\u00fcltigen Versuchen wurde die "
                      "Verbindung abgebrochen." % seq, encrypted=False)
            self.log(event="logon-abort", failures=self.failures)
            self.closed = True
            return
        self.send(answer, encrypted=False)

    def command(self, text, via_dollar):
        parts = text.split(":", 3)
        if len(parts) != 4 or not parts[0].startswith("*") or not parts[0][1:].isdigit():
            self.send("=0:3/101::Kommando nicht lesbar.")
            return
        seq = int(parts[0][1:])
        action, ent, vals = parts[1], parts[2], parts[3]
        entity, _, cols = ent.partition("/")
        entity_u = entity.upper()
        if entity_u == "LOGON":
            self.logon(seq, cols, vals, via_dollar)
            return
        if via_dollar:
            self.send("=%d:3/234::Mit $ nur LOGON." % seq, encrypted=False)
            return
        if not self.logged_on:
            self.send("=%d:3/110::Nicht angemeldet." % seq)
            return
        if entity_u == "LOGOFF":
            self.send("=%d:0/251:LOGOFF/*:Abmeldung erfolgreich." % seq)
            self.sym = None
            self.logged_on = False
            self.log(event="logoff")
        elif entity_u == "ECHO":
            self.send("=%d:0/0:ECHO:%s" % (seq, vals))
        elif entity_u == "TIERHALTER":
            self.send("%%%d:0/0:TIERHALTER/NAME:M\u00fcller, J\u00fcrgen" % seq)
            self.send("%%%d:0/0:TIERHALTER/ORT:Wei\u00dfenburg in Bayern" % seq)
            self.send("=%d:0/0:TIERHALTER:2 S\u00e4tze" % seq)
        elif entity_u == "BIG":
            n = int(vals or "0")
            body = ("0123456789" * (n // 10 + 1))[: max(0, n - 3)] + "\u00e4\u00f6\u00fc"
            self.send("=%d:0/0:BIG:%s" % (seq, body))
        elif entity_u == "HINT":
            self.send("=%d:1/10:HINT:Hinweis." % seq)
        elif entity_u == "WARN":
            self.send("=%d:2/20:WARN:Warnung." % seq)
        elif entity_u == "FAIL":
            self.send("=%d:3/300:FAIL:Fehler." % seq)
        elif entity_u == "FATAL":
            self.send("=%d:4/999:FATAL:Abbruch, die Verbindung wird beendet." % seq)
            self.closed = True
        elif entity_u == "CUT":
            self.send("%%%d:0/0:CUT:erster Teil" % seq)
            self.wfile.write(("%%%d:0/0:CUT:zwei" % seq).encode(self.o.charset))
            self.wfile.flush()
            self.closed = True
        else:
            self.send("=%d:3/100:%s:Entit\u00e4t unbekannt." % (seq, entity))

    def logon(self, seq, cols, vals, via_dollar):
        names = cols.split(";") if cols else []
        values = vals.split(";")
        if len(names) != len(values):
            self.fail_logon(seq, "=%d:3/225:LOGON:Spalten und Werte passen nicht zusammen." % seq)
            return
        d = dict(zip(names, values))
        self.log(event="logon", encrypted=via_dollar, columns=names,
                 sess_key=d.get("SESS_KEY"), rand_cli=d.get("RAND_CLI"), enc_sym=d.get("ENC_SYM"),
                 bnr=d.get("BNR15"), timeout=d.get("TIMEOUT"), mbn=d.get("MBN"),
                 meld_wg=d.get("MELD_WG"))
        if "MELD_WG" not in d or "BNR15" not in d or "PIN" not in d:
            self.fail_logon(seq, "=%d:3/224:LOGON:BNR15, PIN und MELD_WG sind Pflicht." % seq)
            return
        sym = None
        if via_dollar:
            expect = self.helo if not self.o.helo_mismatch else self.helo + "X"
            if d.get("SVR_HELO") != expect:
                self.fail_logon(seq, "=%d:3/228:LOGON/SVR_HELO:Challenge stimmt nicht." % seq)
                return
            rc = d.get("RAND_CLI", "")
            try:
                if len(bytes.fromhex(rc)) < 30:
                    raise ValueError
            except ValueError:
                self.fail_logon(seq, "=%d:3/229:LOGON/RAND_CLI:RAND_CLI zu kurz." % seq)
                return
            if "SESS_KEY" in d:
                try:
                    sym = Sym(d.get("ENC_SYM", ""), bytes.fromhex(d["SESS_KEY"]), self.o.iv)
                except ValueError as e:
                    self.fail_logon(seq, "=%d:3/235:LOGON/ENC_SYM:%s" % (seq, e))
                    return
        elif "SESS_KEY" in d or "SVR_HELO" in d:
            self.fail_logon(seq, "=%d:3/236:LOGON:SESS_KEY nur bei verschl\u00fcsselter Anmeldung." % seq)
            return
        users = self.server.users
        bnr = norm_bnr(d["BNR15"])
        if bnr not in users:
            self.fail_logon(seq, "=%d:3/226:LOGON/BNR15:Betriebsnummer nicht gefunden." % seq)
            return
        if users[bnr] != d["PIN"]:
            self.fail_logon(seq, "=%d:3/227:LOGON/PIN:PIN ist falsch." % seq)
            return
        if d.get("TIMEOUT"):
            self.timeout = int(d["TIMEOUT"])
            self.request.settimeout(self.timeout)
        self.failures = 0
        self.logged_on = True
        self.sym = sym
        self.send("=%d:0/223:LOGON/*:Anmeldung erfolgreich." % seq)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Server6(Server):
    address_family = socket.AF_INET6


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="written (atomically) with the bound port")
    ap.add_argument("--key", help="private key PEM to use; generated when absent")
    ap.add_argument("--pub-pem", help="write the public key as PEM here")
    ap.add_argument("--pub-hex", help="write the public key as 'n = HEX' / 'e = HEX' here")
    ap.add_argument("--key-out", help="write the generated private key PEM here")
    ap.add_argument("--user", action="append", default=[], help="BNR15:PIN (repeatable)")
    ap.add_argument("--charset", default="latin1", choices=["latin1", "utf8"])
    ap.add_argument("--rsa-padding", default="tbc", choices=["tbc", "pkcs1"])
    ap.add_argument("--iv", default="prefix", choices=["prefix", "zero"])
    ap.add_argument("--prior-failures", type=int, default=0,
                    help="failed logons already counted on each connection")
    ap.add_argument("--helo-mismatch", action="store_true",
                    help="expect a SVR_HELO other than the one sent (refuses every $ logon)")
    ap.add_argument("--extra-hello", action="store_true", help="send a %%0: part before the hello")
    ap.add_argument("--default-timeout", type=float, default=600)
    ap.add_argument("--log", help="append JSON lines about logons and commands")
    o = ap.parse_args()
    o.charset = {"latin1": "latin-1", "utf8": "utf-8"}[o.charset]

    if o.key:
        with open(o.key, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), None)
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if o.key_out:
            with open(o.key_out, "wb") as f:
                f.write(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    pub = key.public_key()
    if o.pub_pem:
        with open(o.pub_pem, "wb") as f:
            f.write(pub.public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    if o.pub_hex:
        nums = pub.public_numbers()
        with open(o.pub_hex, "w") as f:
            f.write("# HIT test server public key\nn = %X\ne = %X\n" % (nums.n, nums.e))

    srv = (Server6 if ":" in o.host else Server)((o.host, o.port), Handler)
    srv.opts = o
    srv.key = key
    srv.users = {}
    for u in o.user or ["276090000000001:Aaaa$900001"]:
        b, _, p = u.partition(":")
        srv.users[norm_bnr(b)] = p
    if o.port_file:
        tmp = o.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(tmp, o.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
