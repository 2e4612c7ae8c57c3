#!/usr/bin/python3
# applets: databox
"""Uploads that ask `Expect: 100-continue` (curl does for large bodies), over HTTPS on
loopback: the request guard (net/http_conn.c) answers the interim 100 itself, after
every earlier reply, and evhttp never sees the header (evhttp's own handling sent a
broken reply to the second large chunk on one keep-alive connection):
- curl uploads three 8 MiB chunks on one connection, each asking Expect: all 200;
- Python's http.client does two such uploads on one connection;
- a raw client that pipelines a GET and an Expect upload gets the GET's reply first,
  then 100 Continue, then (after sending the body) the upload's reply;
- HTTP/1.0 gets no 100; an Expect other than 100-continue gets 417;
- the chunks stream to the upload file as they arrive: the server's peak RSS grows by
  less than one chunk over the uploads (evhttp used to hold each body whole, and the
  handler copied it once more)."""
import http.client
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_dbx import CERTS, check, p, run, serve_alice, tls_ctx  # noqa: E402

CHUNK = 8 * 1024 * 1024


def new_upload(cl, room, name):
    st, j, _ = cl.req("POST", "/nodes/files/uploads", {"parentId": room, "name": name})
    return j["uploadId"] if st == 201 else None


def hwm_kb(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return -1


def curl_chunks(port, cl, room, pid):
    up = new_upload(cl, room, "curl.bin")
    with open(p("chunk"), "wb") as f:
        f.write(os.urandom(CHUNK))
    api = "https://localhost:%d/api/v1/nodes/files/uploads/%s" % (port, up)
    parts = []
    for i in range(3):
        parts.append('url = "%s?offset=%d"\ndata-binary = "@%s"\nheader = "Authorization: Bearer %s"\n'
                     'header = "Expect: 100-continue"\nheader = "Content-Type: application/octet-stream"\n'
                     'cacert = "%s/ca.pem"\noutput = /dev/null\nsilent\nshow-error\n'
                     'write-out = "%%{http_code} %%{num_connects}\\n"\n' % (api, i * CHUNK, p("chunk"), cl.token, CERTS))
    with open(p("curl.cfg"), "w") as f:
        f.write("next\n".join(parts))
    before = hwm_kb(pid)
    r = subprocess.run(["curl", "-K", p("curl.cfg")], capture_output=True, timeout=120)
    grew = hwm_kb(pid) - before
    if os.environ.get("ASAN_OPTIONS"):
        print("skip - the server's RSS during the uploads: sanitizer build (ASan's own allocator)")
    else:
        check("the server's peak RSS grew by less than one chunk over three (%d KiB)" % grew,
              grew < CHUNK // 1024 // 2, "%d KiB" % grew)
    codes = r.stdout.decode().split()
    check("curl: three 8 MiB chunks with Expect: 100-continue on one connection all get 200",
          r.returncode == 0 and codes[0::2] == ["200"] * 3 and codes[1::2] == ["1", "0", "0"],
          "rc %d, %r, %s" % (r.returncode, codes, r.stderr.decode()[:300]))
    st, j, _ = cl.req("PUT", "/nodes/files/uploads/" + up, {})
    check("curl: the upload completes with all three chunks", st == 201 and j.get("size") == 3 * CHUNK, repr(j))


def python_chunks(port, cl, room):
    up = new_upload(cl, room, "py.bin")
    c = http.client.HTTPSConnection("localhost", port, context=tls_ctx(), timeout=30)
    got = []
    for i in range(2):
        c.request("POST", "/api/v1/nodes/files/uploads/%s?offset=%d" % (up, i * CHUNK), body=os.urandom(CHUNK),
                  headers={"Authorization": "Bearer " + cl.token, "Expect": "100-continue"})
        r = c.getresponse()
        got.append((r.status, json.loads(r.read() or b"{}").get("received")))
    c.close()
    check("Python's http.client: two Expect uploads on one connection get 200",
          got == [(200, CHUNK), (200, 2 * CHUNK)], repr(got))


def read_reply(s, buf):
    """One reply (head and Content-Length body) from s, after what buf holds already."""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            return None, buf
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    n = 0
    for ln in head.split(b"\r\n")[1:]:
        k, _, v = ln.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    while len(rest) < n:
        d = s.recv(65536)
        if not d:
            break
        rest += d
    return head + b"\r\n\r\n" + rest[:n], rest[n:]


def raw_client(port, cl, room):
    up = new_upload(cl, room, "raw.bin")
    s = tls_ctx().wrap_socket(__import__("socket").create_connection(("127.0.0.1", port), 20),
                              server_hostname="localhost")
    auth = "Authorization: Bearer %s\r\n" % cl.token
    body = os.urandom(100000)
    s.sendall(("GET /api/v1/user/account HTTP/1.1\r\nHost: localhost\r\n%s\r\n"
               "POST /api/v1/nodes/files/uploads/%s?offset=0 HTTP/1.1\r\nHost: localhost\r\n%s"
               "Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % (auth, up, auth, len(body))).encode())
    first, buf = read_reply(s, b"")
    cont, buf = read_reply(s, buf)
    check("pipelined GET then Expect upload: the GET's reply comes first, then 100 Continue",
          first is not None and first.startswith(b"HTTP/1.1 200") and b"alice" in first and
          cont == b"HTTP/1.1 100 Continue\r\n\r\n", repr((first or b"")[:80]) + " " + repr((cont or b"")[:80]))
    s.sendall(body)
    last, buf = read_reply(s, buf)
    check("pipelined: after the body, the upload's reply", last is not None and last.startswith(b"HTTP/1.1 200") and
          b'"received":100000' in last, repr((last or b"")[:200]))
    s.close()

    up = new_upload(cl, room, "raw10.bin")
    s = tls_ctx().wrap_socket(__import__("socket").create_connection(("127.0.0.1", port), 20),
                              server_hostname="localhost")
    s.sendall(("POST /api/v1/nodes/files/uploads/%s?offset=0 HTTP/1.0\r\nHost: localhost\r\n%s"
               "Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello" % (up, auth)).encode())
    r, _ = read_reply(s, b"")
    check("HTTP/1.0 with Expect: no 100, the reply", r is not None and r.startswith(b"HTTP/1.0 200"), repr((r or b"")[:80]))
    s.close()
    s = tls_ctx().wrap_socket(__import__("socket").create_connection(("127.0.0.1", port), 20),
                              server_hostname="localhost")
    s.sendall(("POST /api/v1/nodes/files/uploads/%s?offset=5 HTTP/1.1\r\nHost: localhost\r\n%s"
               "Expect: something-else\r\nContent-Length: 5\r\n\r\n" % (up, auth)).encode())
    r, _ = read_reply(s, b"")
    check("Expect other than 100-continue: 417", r is not None and r.startswith(b"HTTP/1.1 417"), repr((r or b"")[:80]))
    s.close()


def main():
    if not shutil.which("curl"):
        print("skip - databox Expect: curl not installed")
        return
    started = serve_alice("max_chunk = 16M\n")
    if not started:
        return
    port, srv, cl = started
    st, room, _ = cl.req("POST", "/nodes/rooms", {"name": "plain"})
    curl_chunks(port, cl, room["id"], srv.pid)
    python_chunks(port, cl, room["id"])
    raw_client(port, cl, room["id"])


run(main)
