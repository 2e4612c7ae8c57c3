#!/usr/bin/python3
"""tunnel_client.py - a tunnel protocol client in plain Python (stdlib only).

It speaks docs/tunnel-protocol.md independently of core/tframe.c, so the relay's
tests do not share the C code's bugs. Imported by tunneld.py and bench/tunnel; run
alone it checks its own codec (ok/not ok lines)."""
import os
import socket
import ssl
import struct
import time

from lib_test import free_port, wait_port  # noqa: F401 (re-exported: lib_tun, the benchmarks)

HDR = struct.Struct(">BBHHIII")
VERSION = 1
T = dict(REGISTER=1, REGISTERED=2, JOIN=3, JOINED=4, PEER_JOINED=5, PEER_LEFT=6, KICK=7, END=8,
         ERROR=9, PING=10, PONG=11, RESUME=12, DROP=13, REDIRECT=14, DATA=16)
NAME = {v: k for k, v in T.items()}
ALL = 0xffff


class Closed(Exception):
    pass


def encode(ftype, src, dst, payload=b"", seq=0, ack=0, version=VERSION, length=None):
    return HDR.pack(version, ftype, src, dst, seq, ack, len(payload) if length is None else length) + payload


def ctl(**kv):
    return "".join("%s=%s\n" % (k, v) for k, v in kv.items()).encode()


def parse_ctl(b):
    out = {}
    for line in b.decode().split("\n"):
        if line:
            k, _, v = line.partition("=")
            out[k] = v
    return out


def drop_payload(data=b"", **kv):
    c = ctl(**kv)
    return struct.pack(">H", len(c)) + c + data


def parse_drop(b):
    n = struct.unpack(">H", b[:2])[0]
    return parse_ctl(b[2:2 + n]), b[2 + n:]


class Conn:
    """One connection to tunneld: mode tcp, http (Upgrade) or https (TLS + Upgrade)."""

    def __init__(self, host, port, mode="tcp", cafile=None, timeout=5.0, source_ip=None, path="/sealbox-tunnel",
                 proxy=None):
        """proxy: (host, port) of an HTTP CONNECT proxy to reach host:port through."""
        self.buf = b""
        if proxy:
            s = socket.create_connection(proxy, timeout=timeout)
            s.sendall(("CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (host, port, host, port)).encode())
            self.s = s
            head = self._read_until(b"\r\n\r\n")
            if head.split(b" ")[1] != b"200":
                raise Closed("proxy: " + head.split(b"\r\n")[0].decode(errors="replace"))
        else:
            s = socket.create_connection((host, port), timeout=timeout,
                                         source_address=(source_ip, 0) if source_ip else None)
        if mode == "https":
            ctx = ssl.create_default_context(cafile=cafile)
            s = ctx.wrap_socket(s, server_hostname=host if proxy else "localhost")
        self.s = s
        self.seq = 0
        self.id = 0
        self.mode = mode
        if mode in ("http", "https"):
            req = ("GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: sealbox-tunnel\r\n"
                   "Connection: Upgrade\r\n\r\n" % path)
            s.sendall(req.encode())
            head = self._read_until(b"\r\n\r\n")
            self.http_status = int(head.split(b" ")[1])
            if self.http_status != 101:
                raise Closed("HTTP %d" % self.http_status)

    def _read_until(self, marker):
        while marker not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise Closed("eof")
            self.buf += d
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def _read(self, n):
        while len(self.buf) < n:
            d = self.s.recv(max(65536, n - len(self.buf)))
            if not d:
                raise Closed("eof")
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, ftype, dst=0, payload=b"", src=None, **kw):
        self.seq += 1
        self.s.sendall(encode(ftype, self.id if src is None else src, dst, payload, seq=self.seq, **kw))

    def send_ctl(self, ftype, dst=0, src=None, **kv):
        self.send(ftype, dst, ctl(**kv), src=src)

    def recv(self, timeout=5.0):
        """(type, src, dst, seq, ack, payload); raises Closed on EOF."""
        self.s.settimeout(timeout)
        v, t, src, dst, seq, ack, ln = HDR.unpack(self._read(HDR.size))
        if v != VERSION:
            raise ValueError("bad version from relay")
        return t, src, dst, seq, ack, self._read(ln)

    def recv_ctl(self, timeout=5.0):
        t, src, dst, seq, ack, p = self.recv(timeout)
        return NAME.get(t, t), (parse_ctl(p) if t not in (T["DATA"], T["DROP"]) else p)

    def expect(self, name, timeout=5.0):
        n, kv = self.recv_ctl(timeout)
        if n != name:
            raise AssertionError("expected %s, got %s %r" % (name, n, kv))
        return kv

    def closed(self, timeout=3.0):
        """True when the relay closes the connection (after any frames it sends)."""
        try:
            while True:
                self.recv(timeout)
        except Closed:
            return True
        except (socket.timeout, TimeoutError):
            return False
        except (ConnectionResetError, ssl.SSLError, OSError):
            return True

    def register(self, **kv):
        kv.setdefault("version", 1)
        self.send_ctl(T["REGISTER"], src=0, **kv)
        r = self.expect("REGISTERED")
        self.id = int(r["id"])
        self.session = r["session"]
        self.token = r["token"]
        return r

    def join(self, session):
        self.send_ctl(T["JOIN"], src=0, session=session)
        n, r = self.recv_ctl()
        if n == "JOINED":
            self.id = int(r["id"])
            self.token = r["token"]
            self.session = session
        return n, r

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def rss_kb(pid):
    """A process's resident set in KiB (benchmarks)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def split_hostport(s):
    if s.startswith("["):
        h, _, p = s[1:].partition("]:")
        return h, int(p)
    h, _, p = s.rpartition(":")
    return h, int(p)


def follow(host, port, act, mode="tcp", max_hops=3, **kw):
    """Runs act(conn) -> (name, kv) on a connection to host:port. On REDIRECT (a relay of
    a fleet saying another one holds the session, tunnel-protocol.md 3.4) connects to the
    address it names for this path (mode) and runs act again, at most max_hops times.
    Returns (conn, name, kv, hops); hops lists the redirects followed."""
    hops = []
    while True:
        c = Conn(host, port, mode=mode, **kw)
        name, kv = act(c)
        if name != "REDIRECT" or len(hops) >= max_hops or mode not in kv:
            return c, name, kv, hops
        hops.append(kv)
        c.closed(2)
        c.close()
        host, port = split_hostport(kv[mode])


def act_register(c, **kv):
    kv.setdefault("version", 1)
    c.send_ctl(T["REGISTER"], src=0, **kv)
    n, r = c.recv_ctl()
    if n == "REGISTERED":
        c.id, c.session, c.token = int(r["id"]), r["session"], r["token"]
    return n, r


def act_join(session):
    return lambda c: c.join(session)


def act_resume(session, pid, token):
    def act(c):
        c.send_ctl(T["RESUME"], src=0, session=session, id=pid, token=token)
        n, r = c.recv_ctl()
        if n in ("REGISTERED", "JOINED"):
            c.id, c.session, c.token = int(r["id"]), session, r["token"]
        return n, r
    return act


if __name__ == "__main__":
    b = encode(T["DATA"], 2, 1, b"xyz", seq=7, ack=3)
    print("%s - codec header layout" % ("ok" if b[:2] == b"\x01\x10" and len(b) == 21 and b[-3:] == b"xyz" else "not ok"))
    c, d = parse_drop(drop_payload(b"\x00\x01", op="data"))
    print("%s - codec drop payload" % ("ok" if c == {"op": "data"} and d == b"\x00\x01" else "not ok"))
