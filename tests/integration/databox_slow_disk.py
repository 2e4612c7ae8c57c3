#!/usr/bin/python3
"""databox serve on a slow disk (issue 17): while an upload chunk's fdatasync and its
SQLite commit take long (an LD_PRELOAD shim makes every fsync/fdatasync sleep), another
client's small request is answered promptly, because the commit runs on a worker thread
and not on the event loop; the chunk itself is still acknowledged only after its sync."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_test import check_no_sanitizer, sanitizer_report  # noqa: E402
from lib_dbx import (Client, build_sync_shim, add_user, check, fail, free_port, make_certs, p, run,  # noqa: E402
                     server_log, start_server, tls_ctx, wait_for, wait_port, write_conf)

SLOW_MS = 600


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
    flag = p("slow")
    env = dict(os.environ, LD_PRELOAD=shim, SLOW_SYNC_FLAG=flag, SLOW_SYNC_MS=str(SLOW_MS))
    # a sanitizer runtime wants to come first; the shim only wraps two calls
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
    start_server(conf, env=env)
    if not check("server listens", wait_port(port)):
        return
    up, other = Client(port, tls_ctx()), Client(port, tls_ctx())
    check("logged in", up.login("alice", "alice-pw") == 200 and other.login("alice", "alice-pw") == 200)
    st, room, _ = up.req("POST", "/nodes/rooms", {"name": "plain"})
    st2, j, _ = up.req("POST", "/nodes/files/uploads", {"parentId": room["id"], "name": "f.bin"})
    if not check("room and upload created", st == 201 and st2 == 201, "%s %s" % (st, st2)):
        return
    uid = j["uploadId"]
    # the other client's connection is open and its TLS handshake done before the disk slows
    import http.client
    oc = http.client.HTTPSConnection("localhost", port, context=tls_ctx(), timeout=20)
    oc.request("GET", "/api/v1/user/account", headers={"Authorization": "Bearer " + other.token})
    r = oc.getresponse()
    r.read()
    check("the other client is served before the upload", r.status == 200)
    open(flag, "w").close()
    res = {}

    def send_chunk():
        t0 = time.monotonic()
        res["st"], res["j"], _ = up.req("POST", "/nodes/files/uploads/" + uid, raw=os.urandom(256 * 1024),
                                        query="?offset=0")
        res["secs"] = time.monotonic() - t0
    th = threading.Thread(target=send_chunk)
    th.start()
    busy = wait_for(lambda: os.path.exists(flag + ".in"), 20, 0.005)
    check("the chunk's sync started", busy)
    t0 = time.monotonic()
    oc.request("GET", "/api/v1/user/account", headers={"Authorization": "Bearer " + other.token})
    r = oc.getresponse()
    r.read()
    lat = time.monotonic() - t0
    th.join(30)
    print("# other client's latency during the commit: %.1f ms; the chunk took %.1f ms" %
          (lat * 1000, res.get("secs", -1) * 1000))
    check("the other client is answered during the commit", r.status == 200)
    check("... promptly (under %d ms, the sync sleeps %d ms)" % (SLOW_MS // 2, SLOW_MS), lat < SLOW_MS / 2000.0,
          "%.1f ms" % (lat * 1000))
    check("the chunk is acknowledged", res.get("st") == 200 and (res.get("j") or {}).get("received") == 256 * 1024,
          repr(res.get("j")))
    check("... only after its sync (it took at least the sleep)", res.get("secs", 0) >= SLOW_MS / 1000.0)
    os.unlink(flag)
    st, j = up.req("GET", "/nodes/%d" % room["id"])[:2]
    check("the server still serves after the commit", st == 200)
    check_no_sanitizer("the server logged no sanitizer report", sanitizer_report(server_log()))


run(main)
