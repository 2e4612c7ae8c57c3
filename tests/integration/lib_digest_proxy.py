#!/usr/bin/python3
"""lib_digest_proxy.py - a small HTTP CONNECT proxy that demands Digest authentication
(RFC 7616: MD5 or SHA-256, qop=auth), checked here with hashlib, independent of the C
code. A test peer for tests/integration/proxy.sh; not a test itself (lib_ prefix).

usage: lib_digest_proxy.py PORTFILE USER PASS [--sha256] [--close] [--basic-too] [--early] [--v6]
  --close      answer 407 with "Connection: close" and close (client must reconnect)
  otherwise    keep the connection open (407 with a Content-Length body)
  --v6         listen on [::1] instead of 127.0.0.1
Prints "auth ok ..." / "auth bad ..." / "no auth" lines."""
import hashlib, os, socket, sys, threading

portfile, USER, PASS = sys.argv[1:4]
SHA256 = "--sha256" in sys.argv
CLOSE = "--close" in sys.argv
BASIC_TOO = "--basic-too" in sys.argv
EARLY = "--early" in sys.argv   # send the target's first bytes in the same packet as "200"
REALM = "sealbox-test"
nonces = set()


def log(*a):
    print(*a, flush=True)


def H(s):
    h = hashlib.sha256 if SHA256 else hashlib.md5
    return h(s.encode()).hexdigest()


def parse_params(s):
    out = {}
    i = 0
    while i < len(s):
        while i < len(s) and s[i] in " ,\t":
            i += 1
        j = s.find("=", i)
        if j < 0:
            break
        k = s[i:j].strip().lower()
        i = j + 1
        if i < len(s) and s[i] == '"':
            i += 1
            v = ""
            while i < len(s) and s[i] != '"':
                if s[i] == "\\":
                    i += 1
                v += s[i]
                i += 1
            i += 1
        else:
            j = i
            while j < len(s) and s[j] not in ", ":
                j += 1
            v = s[i:j]
            i = j
        out[k] = v
    return out


def check(auth, target):
    if not auth.lower().startswith("digest "):
        return "not digest"
    p = parse_params(auth[7:])
    if p.get("username") != USER or p.get("realm") != REALM:
        return "bad user/realm"
    if p.get("nonce") not in nonces:
        return "unknown nonce"
    if p.get("uri") != target:
        return "uri %r != %r" % (p.get("uri"), target)
    alg = p.get("algorithm", "MD5")
    if alg != ("SHA-256" if SHA256 else "MD5"):
        return "algorithm " + alg
    if p.get("qop") != "auth" or not p.get("cnonce") or not p.get("nc"):
        return "qop"
    ha1 = H("%s:%s:%s" % (USER, REALM, PASS))
    ha2 = H("CONNECT:%s" % target)
    want = H(":".join([ha1, p["nonce"], p["nc"], p["cnonce"], "auth", ha2]))
    if p.get("response") != want:
        return "wrong response"
    if p.get("opaque") != "op4que":
        return "opaque"
    return None


def relay(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def handle(c):
    f = c.makefile("rb")
    try:
        while True:
            line = f.readline().decode("latin-1").rstrip("\r\n")
            if not line:
                return
            method, target, _ = line.split(" ", 2)
            headers = {}
            while True:
                h = f.readline().decode("latin-1").rstrip("\r\n")
                if not h:
                    break
                k, _, v = h.partition(":")
                headers[k.strip().lower()] = v.strip()
            auth = headers.get("proxy-authorization")
            why = check(auth, target) if auth else "no auth"
            if method != "CONNECT":
                c.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                continue
            if why:
                log("auth bad:" if auth else "", why)
                nonce = os.urandom(16).hex()
                nonces.add(nonce)
                body = b"authentication required\n"
                hdr = "HTTP/1.1 407 Proxy Authentication Required\r\n"
                if BASIC_TOO:
                    hdr += 'Proxy-Authenticate: Basic realm="%s"\r\n' % REALM
                hdr += ('Proxy-Authenticate: Digest realm="%s", qop="auth", algorithm=%s, '
                        'nonce="%s", opaque="op4que"\r\n' % (REALM, "SHA-256" if SHA256 else "MD5", nonce))
                hdr += "Content-Length: %d\r\n" % len(body)
                if CLOSE:
                    hdr += "Connection: close\r\n"
                c.sendall(hdr.encode() + b"\r\n" + body)
                if CLOSE or auth:
                    return
                continue
            log("auth ok", target)
            host, _, port = target.rpartition(":")
            try:
                u = socket.create_connection((host.strip("[]"), int(port)), timeout=5)
            except OSError as e:
                c.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return
            ok = b"HTTP/1.1 200 Connection established\r\n\r\n"
            if EARLY:
                u.settimeout(2)
                try:
                    ok += u.recv(4096)
                except OSError:
                    pass
                u.settimeout(None)
            c.sendall(ok)
            t = threading.Thread(target=relay, args=(u, c), daemon=True)
            t.start()
            relay(c, u)
            t.join(5)
            return
    except (OSError, ValueError):
        pass
    finally:
        c.close()


V6 = "--v6" in sys.argv
s = socket.socket(socket.AF_INET6 if V6 else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::1" if V6 else "127.0.0.1", 0))
s.listen(16)
with open(portfile + ".tmp", "w") as pf:
    pf.write(str(s.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)
while True:
    c, _ = s.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
