#!/usr/bin/python3
"""databox serve against a client that stops reading a download (issue 17): what the
server holds for it stays bounded, in the kernel as in its own memory.

A client with a small receive window asks for a 24 MiB blob, reads the head and then
nothing. Without a bound on unsent data (TCP_NOTSENT_LOWAT, net/http_conn.c) the
server's socket took all the send buffer the kernel would give it, megabytes per
stalled client; now at most UNSENT_MAX (128 KiB) plus one write waits there, and the
server's RSS grows by less than 8 MB. Then the client reads on and gets every byte, unchanged."""
import hashlib
import os
import re
import socket
import subprocess
import time

from lib_dbx import check, p, rss_kb, run, serve_alice, skip, tls_ctx, upload  # noqa: E402

MB = 1024 * 1024
SIZE = 24 * MB
# the bound plus one 256 KiB write plus records in flight, with room to spare; without
# the bound this machine's kernel queued 2-4 MiB
SENDQ_MAX = 768 * 1024


def server_sendq(port, client_port):
    """Send-Q of the server's end of the connection from client_port, or None."""
    r = subprocess.run(["ss", "-tnH", "state", "established", "( sport = :%d and dport = :%d )" % (port, client_port)],
                       capture_output=True, text=True)
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) >= 2 and f[0].isdigit() and f[1].isdigit():
            return int(f[1])
    return None


def settled_sendq(port, client_port, secs=15):
    """The server's Send-Q once it stops growing (the same for half a second)."""
    end = time.time() + secs
    last, same = None, 0
    while time.time() < end:
        q = server_sendq(port, client_port)
        if q is not None and q == last and q > 0:
            same += 1
            if same >= 5:
                return q
        else:
            same = 0
        last = q
        time.sleep(0.1)
    return last


def main():
    if subprocess.run(["ss", "-V"], capture_output=True).returncode != 0:
        skip("databox slow reader", "ss (iproute2) not installed")
        return
    started = serve_alice("max_chunk = 16M\n")
    if not started:
        return
    port, srv, cl = started
    st, room, _ = cl.req("POST", "/nodes/rooms", {"name": "plain"})
    data = os.urandom(SIZE)
    with open(p("big.bin"), "wb") as f:
        f.write(data)
    st, j = upload(cl, room["id"], "big.bin", p("big.bin"), None, chunk=8 * MB)
    node = j.get("id") if st in (200, 201) and j else None
    if not check("a 24 MiB file is uploaded", node is not None, "%s %s" % (st, j)):
        return

    base = rss_kb(srv.pid)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # a small window, set before connecting, so that the server's data queues on its side
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 128 * 1024)
    raw.settimeout(20)
    raw.connect(("127.0.0.1", port))
    client_port = raw.getsockname()[1]
    s = tls_ctx().wrap_socket(raw, server_hostname="localhost")
    s.sendall(("GET /api/v1/nodes/files/%d/downloads HTTP/1.1\r\nHost: localhost\r\n"
               "Authorization: Bearer %s\r\n\r\n" % (node, cl.token)).encode())
    got = b""
    while b"\r\n\r\n" not in got:
        part = s.recv(16384)
        if not part:
            break
        got += part
    head, _, body = got.partition(b"\r\n\r\n")
    check("the download starts with 200", head.startswith(b"HTTP/1.1 200"), head[:80])
    m = re.search(rb"(?i)content-length:\s*(\d+)", head)
    check("its Content-Length is the file's", m is not None and int(m.group(1)) == SIZE)

    q = settled_sendq(port, client_port)
    check("a client that stopped reading has at most %d KiB waiting in the server's socket" % (SENDQ_MAX // 1024),
          q is not None and q <= SENDQ_MAX, "Send-Q %s" % q)
    # growth, not the total: a sanitizer build's quarantine keeps what the upload freed
    r = rss_kb(srv.pid)
    check("meanwhile the stalled download adds under 8 MB to the server's RSS", r > 0 and r - base < 8 * 1024,
          "%d KiB before, %d KiB now" % (base, r))

    h = hashlib.sha256(body)
    n = len(body)
    while n < SIZE:
        part = s.recv(256 * 1024)
        if not part:
            break
        h.update(part)
        n += len(part)
    s.close()
    check("reading on, the client gets all %d bytes" % SIZE, n == SIZE, "%d" % n)
    check("and they are the file's", h.digest() == hashlib.sha256(data).digest())
    st, _, _ = cl.req("GET", "/user/account")
    check("the server still answers", st == 200)


run(main)
