#!/usr/bin/python3
"""databox serve takes chunk N+1 of an upload while chunk N is still being stored (its
fdatasync and SQLite commit on the worker, made slow by the LD_PRELOAD shim), when N+1
starts exactly at N's end; and never records N+1 unless N was recorded (the shim makes
one upload file's sync fail). Everything else during a commit keeps its 409: a chunk at
another offset, a third chunk, completing the upload.

Each chunk is sent with "Expect: 100-continue" and its body only after the "100
Continue": the server decides whether a chunk streams into the file when its head
arrives, before it sends that interim answer, so the test knows the order the server
saw without sleeping."""
import http.client
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_test import check_no_sanitizer, sanitizer_report  # noqa: E402
from lib_dbx import (Client, build_sync_shim, add_user, check, fail, free_port, make_certs, p, run,  # noqa: E402
                     server_log, start_server, tls_ctx, wait_for, wait_port, write_conf)

SLOW_MS = 400
CH = 256 * 1024


class Chunk:
    """A chunk POST in two steps: the head (waiting for 100 Continue), then the body."""

    def __init__(self, port, token, uid, off):
        self.c = http.client.HTTPSConnection("localhost", port, context=tls_ctx(), timeout=30)
        self.c.connect()
        self.path = "/api/v1/nodes/files/uploads/%s?offset=%d" % (uid, off)
        self.token = token

    def head(self, n):
        self.c.putrequest("POST", self.path)
        self.c.putheader("Authorization", "Bearer " + self.token)
        self.c.putheader("Content-Type", "application/octet-stream")
        self.c.putheader("Content-Length", str(n))
        self.c.putheader("Expect", "100-continue")
        self.c.endheaders()
        got = b""
        while not got.endswith(b"\r\n\r\n") and len(got) < 200:
            b = self.c.sock.recv(1)
            if not b:
                break
            got += b
        return got.startswith(b"HTTP/1.1 100")

    def send(self, data):
        self.c.sock.sendall(data)

    def answer(self):
        try:
            r = self.c.getresponse()
            out = r.read()
        except (OSError, http.client.HTTPException) as e:
            return -1, repr(e)
        try:
            j = json.loads(out) if out else None
        except ValueError:
            j = None
        self.c.close()
        return r.status, j

    def close(self):
        self.c.close()


def chunk(port, up, uid, off, data):
    """Head and whole body sent (the server has decided about it); the answer is not read."""
    k = Chunk(port, up.token, uid, off)
    if not k.head(len(data)):
        return None
    k.send(data)
    return k


def received(up, uid):
    """The upload's received bytes, from the 409 a chunk at a wrong offset gets."""
    st, j, out = up.req("POST", "/nodes/files/uploads/" + uid, raw=b"x", query="?offset=999999999")
    msg = out.decode(errors="replace")
    if st != 409 or "offset must be" not in msg:
        return None
    return int(msg.split("offset must be ")[1].split()[0])


def new_upload(up, room, name):
    st, j, _ = up.req("POST", "/nodes/files/uploads", {"parentId": room, "name": name})
    return j["uploadId"] if st == 201 else None


def download(up, node):
    st, _, out = up.req("GET", "/nodes/files/%d/downloads" % node)
    return out if st == 200 else None


def main():
    if not make_certs():
        fail("test certificates")
        return
    shim = build_sync_shim()
    if not shim:
        return
    port = free_port()
    conf = write_conf(port)
    check("user added", add_user(conf, "alice", "alice-pw").returncode == 0)
    slow, bad = p("slow"), p("fail")
    env = dict(os.environ, LD_PRELOAD=shim, SLOW_SYNC_FLAG=slow, SLOW_SYNC_MS=str(SLOW_MS), SYNC_FAIL_FLAG=bad)
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
    start_server(conf, env=env)
    if not check("server listens", wait_port(port)):
        return
    up = Client(port, tls_ctx())
    check("logged in", up.login("alice", "alice-pw") == 200)
    st, room, _ = up.req("POST", "/nodes/rooms", {"name": "plain"})
    if not check("room created", st == 201, repr(room)):
        return
    room = room["id"]

    def syncing():
        """Makes the disk slow; True once a sync is under way (the chunk before commits)."""
        return wait_for(lambda: os.path.exists(slow + ".in"), 20, 0.005)

    # (1) chunk 1 streams while chunk 0 commits; the misuses around them get 409
    uid = new_upload(up, room, "two.bin")
    d0, d1, d2 = os.urandom(CH), os.urandom(CH), os.urandom(CH // 2)
    open(slow, "w").close()
    k0 = chunk(port, up, uid, 0, d0)
    check("chunk 0 is taken", k0 is not None)
    check("chunk 0's sync started", syncing())
    st, j, _ = up.req("POST", "/nodes/files/uploads/" + uid, raw=b"y" * 1000, query="?offset=12345")
    check("a chunk at another offset during the commit gets 409", st == 409, "%s %s" % (st, j))
    st, j, _ = up.req("POST", "/nodes/files/uploads/" + uid, raw=d0, query="?offset=0")
    check("chunk 0 again during its commit gets 409", st == 409, "%s %s" % (st, j))
    st, j, _ = up.req("PUT", "/nodes/files/uploads/" + uid, {})
    check("completing the upload during the commit is refused (409)", st == 409, "%s %s" % (st, j))
    k1 = chunk(port, up, uid, CH, d1)
    check("chunk 1 (at chunk 0's end) is taken during chunk 0's commit", k1 is not None)
    st, j, _ = up.req("POST", "/nodes/files/uploads/" + uid, raw=d2, query="?offset=%d" % (2 * CH))
    check("a third chunk while two are in flight gets 409", st == 409, "%s %s" % (st, j))
    os.unlink(slow)
    a0, a1 = k0.answer(), k1.answer()
    check("chunk 0 is acknowledged", a0 == (200, {"received": CH}), repr(a0))
    check("chunk 1 is acknowledged (it overlapped chunk 0's commit)", a1 == (200, {"received": 2 * CH}), repr(a1))
    st, j, _ = up.req("POST", "/nodes/files/uploads/" + uid, raw=d2, query="?offset=%d" % (2 * CH))
    check("the next chunk after both is taken", st == 200 and j == {"received": 2 * CH + len(d2)}, "%s %s" % (st, j))
    st, node, _ = up.req("PUT", "/nodes/files/uploads/" + uid, {})
    check("the upload completes", st == 201, "%s %s" % (st, node))
    if st == 201:
        check("the file is byte-exact", download(up, node["id"]) == d0 + d1 + d2)

    # (2) chunk 0's sync fails: chunk 1, taken during that commit, is not recorded
    uid = new_upload(up, room, "bad.bin")
    open(slow, "w").close()
    os.unlink(slow + ".in")
    open(bad, "w").close()
    k0 = chunk(port, up, uid, 0, d0)
    check("chunk 0's sync started (it is to fail)", k0 is not None and syncing())
    k1 = chunk(port, up, uid, CH, d1)
    check("chunk 1 is taken during chunk 0's commit", k1 is not None)
    os.unlink(slow)
    a0, a1 = k0.answer(), k1.answer()
    check("chunk 0 fails (500): its sync failed", a0[0] == 500 and not os.path.exists(bad), repr(a0))
    check("chunk 1 fails (500) although its own sync succeeded", a1[0] == 500, repr(a1))
    log = server_log()
    check("... because the record of chunk 1 needs chunk 0's", "cannot record the chunk" in log, log[-2000:])
    check("the upload's received bytes stay 0", received(up, uid) == 0)
    st, j, _ = up.req("POST", "/nodes/files/uploads/" + uid, raw=d1, query="?offset=0")
    check("the upload goes on from 0", st == 200 and j == {"received": CH}, "%s %s" % (st, j))
    st, node, _ = up.req("PUT", "/nodes/files/uploads/" + uid, {})
    check("it completes with only what was acknowledged",
          st == 201 and download(up, node["id"]) == d1, "%s %s" % (st, node))

    # (3) chunk 1's head arrives while chunk 0's body is still on its way: taken, and
    # answered only after chunk 0 is stored
    uid = new_upload(up, room, "race.bin")
    k0 = Chunk(port, up.token, uid, 0)
    check("chunk 0's head is taken", k0.head(CH))
    k0.send(d0[:CH // 2])
    k1 = chunk(port, up, uid, CH, d1)
    check("chunk 1 is taken while chunk 0 still arrives", k1 is not None)
    k0.send(d0[CH // 2:])
    a0, a1 = k0.answer(), k1.answer()
    check("both are acknowledged, in order", a0 == (200, {"received": CH}) and a1 == (200, {"received": 2 * CH}),
          "%r %r" % (a0, a1))
    st, node, _ = up.req("PUT", "/nodes/files/uploads/" + uid, {})
    check("the file is byte-exact", st == 201 and download(up, node["id"]) == d0 + d1, "%s %s" % (st, node))

    # (4) the same, but chunk 0 is cut off: chunk 1 must not be recorded
    uid = new_upload(up, room, "cut.bin")
    k0 = Chunk(port, up.token, uid, 0)
    check("chunk 0's head is taken", k0.head(CH))
    k0.send(d0[:CH // 2])
    k1 = chunk(port, up, uid, CH, d1)
    check("chunk 1 is taken while chunk 0 still arrives", k1 is not None)
    k0.close()
    a1 = k1.answer()
    check("chunk 1 fails (500) when chunk 0 was cut off", a1[0] == 500, repr(a1))
    check("the upload's received bytes stay 0", received(up, uid) == 0)
    st, j, _ = up.req("POST", "/nodes/files/uploads/" + uid, raw=d1, query="?offset=0")
    st2, node, _ = up.req("PUT", "/nodes/files/uploads/" + uid, {})
    check("it goes on from 0 and completes with that chunk only",
          st == 200 and st2 == 201 and download(up, node["id"]) == d1, "%s %s %s" % (st, st2, node))
    check_no_sanitizer("the server logged no sanitizer report", sanitizer_report(server_log()))


run(main)
