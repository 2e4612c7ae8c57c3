#!/usr/bin/python3
"""databox serve against clients that try to hold it (review items 11.3 and 11.4) and
HTTP clients that close (issue 17), over HTTPS on loopback:
- twenty half-sent 16 MiB login requests leave the server's RSS small; an oversize JSON
  body, and an unauthenticated 16 MiB chunk upload, get 413 before the body is sent;
- connections past the per-address cap are closed while another address still works;
- with a low descriptor limit, 140 idle connections neither make the server spin nor
  flood its log, they time out, and then a login works; a slowloris trickling one
  byte a second is dropped at the head deadline;
- curl -H 'Connection: close', curl --http1.0, urllib, http.client and a client that
  half-closes after its request all get their answer."""
import http.client
import json
import os
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_test import check_no_sanitizer, sanitizer_report  # noqa: E402
import lib_test  # noqa: E402
from lib_dbx import (CERTS, Client, add_user, check, fail, free_port, make_certs, rss_kb, run,  # noqa: E402
                     server_log, srv_kill, start_server, tls_ctx, wait_for, wait_port, write_conf)

CA = os.path.join(CERTS, "ca.pem")
BIG = 16 * 1024 * 1024


def cpu_ticks(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])  # utime + stime


def tls_sock(port, src="127.0.0.1", timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout, source_address=(src, 0))
    return tls_ctx().wrap_socket(s, server_hostname="localhost")


def head(method, path, length, token=None, extra=""):
    h = "%s /api/v1%s HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n" % (method, path, length)
    if token:
        h += "Authorization: Bearer %s\r\n" % token
    return (h + extra + "\r\n").encode()


def answer(s, secs=5):
    """The status code of what the server sends within secs, None if nothing came."""
    s.settimeout(secs)
    try:
        data = s.recv(4096)
    except (socket.timeout, OSError):
        return None
    try:
        return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.") else None
    except (IndexError, ValueError):
        return None


def closed_within(s, secs):
    """True when the server closes s (EOF or reset) within secs."""
    s.settimeout(secs)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def half_close_request(port, path):
    """A TLS client that sends its request and then shuts its sending side down."""
    raw = socket.create_connection(("127.0.0.1", port), 10)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = tls_ctx().wrap_bio(inc, out, server_hostname="localhost")

    def pump():
        d = out.read()
        if d:
            raw.sendall(d)
    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            pump()
            d = raw.recv(65536)
            if not d:
                return b""
            inc.write(d)
    obj.write(("GET /api/v1%s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path).encode())
    pump()
    raw.shutdown(socket.SHUT_WR)
    resp = b""
    while True:
        d = raw.recv(65536)
        if not d:
            break
        inc.write(d)
        try:
            while True:
                resp += obj.read(65536)
        except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
            pass
        except ssl.SSLError:
            break
    raw.close()
    return resp


def big_requests(port, token):
    srv_pid = SERVER[0].pid
    base = rss_kb(srv_pid)
    socks, results = [], []

    def half_send(s):
        try:
            s.sendall(head("POST", "/auth/login", BIG, extra="Content-Type: application/json\r\n"))
            s.sendall(b"{" + b" " * (8 * 1024 * 1024))
        except OSError:
            pass
    threads = []
    for _ in range(20):
        s = tls_sock(port)
        socks.append(s)
        t = threading.Thread(target=half_send, args=(s,), daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join(8)
    peak = rss_kb(srv_pid)
    for s in socks:
        results.append(answer(s, 2))
        s.close()
    check("twenty half-sent 16 MiB login requests: the server's RSS stays small (< 48 MB)",
          peak < 48 * 1024, "VmRSS %d kB before, %d kB with them" % (base, peak))
    check("each of them is answered 413", results.count(413) == 20, repr(results))

    s = tls_sock(port)
    s.sendall(head("POST", "/nodes/rooms", 2 * 1024 * 1024, token))
    st = answer(s, 3)
    s.close()
    check("an oversize JSON body (2 MiB, max_json 1M) gets 413 before it is sent", st == 413, repr(st))
    s = tls_sock(port)
    s.sendall(head("POST", "/auth/login", 100000))
    st = answer(s, 3)
    s.close()
    check("a 100 kB login body gets 413 at once (64 KiB without a login)", st == 413, repr(st))
    up = "0123456789abcdef0123456789abcdef"
    s = tls_sock(port)
    s.sendall(head("POST", "/nodes/files/uploads/" + up + "?offset=0", BIG))
    st = answer(s, 3)
    s.close()
    check("an unauthenticated 16 MiB chunk upload is refused before the body is read: 413", st == 413, repr(st))
    s = tls_sock(port)
    s.sendall(head("POST", "/nodes/files/uploads/" + up + "?offset=0", BIG, "0" * 64))
    st = answer(s, 3)
    s.close()
    check("likewise with a made-up token", st == 413, repr(st))


def minflt(pid):
    return int(open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[7])


def chunk_upload_works(cl, pid):
    st, room, _ = cl.req("POST", "/nodes/rooms", {"name": "plain"})
    st, j, _ = cl.req("POST", "/nodes/files/uploads", {"parentId": room["id"], "name": "big.bin"})
    uid, data, off, faults = j["uploadId"], os.urandom(BIG), 0, []
    for _ in range(4):
        f0 = minflt(pid)
        st, j, _ = cl.req("POST", "/nodes/files/uploads/" + uid, raw=data, query="?offset=%d" % off)
        faults.append(minflt(pid) - f0)
        if st != 200:
            break
        off += BIG
    check("a logged-in owner still uploads 16 MiB chunks", st == 200 and j["received"] == off, "%r %r" % (st, j))
    # the buffers a chunk passes through are reused, not faulted in afresh each time
    # (4096 would be one fault per page of the chunk)
    print("# server page faults per 16 MiB chunk: %r" % faults)
    if lib_test.SAN:
        # ASan's allocator is not glibc's: mallopt does not apply there
        lib_test.skip("the later chunks cost the server few page faults", "sanitizer build")
    else:
        check("the later chunks cost the server few page faults (< 1500 each)", max(faults[1:]) < 1500,
              repr(faults))


def closing_clients(port, token):
    url = "https://localhost:%d/api/v1/user/account" % port
    auth = "Authorization: Bearer " + token
    for name, opts in (("curl -H 'Connection: close'", ["-H", "Connection: close"]),
                       ("curl --http1.0", ["--http1.0"])):
        r = subprocess.run(["curl", "-sS", "--cacert", CA, "-H", auth] + opts + [url], capture_output=True)
        ok = r.returncode == 0 and json.loads(r.stdout or b"{}").get("userName") == "alice"
        check(name + " gets the answer over HTTPS", ok, (r.stderr or r.stdout).decode()[:200])
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
    try:
        body = urllib.request.urlopen(req, context=tls_ctx(), timeout=10).read()
        check("Python's urllib gets the answer", json.loads(body).get("userName") == "alice", body[:200])
    except Exception as e:  # noqa: BLE001
        fail("Python's urllib gets the answer", repr(e))
    try:
        c = http.client.HTTPSConnection("localhost", port, context=tls_ctx(), timeout=10)
        c.request("GET", "/api/v1/user/account", headers={"Authorization": "Bearer " + token, "Connection": "close"})
        r = c.getresponse()
        check("Python's http.client with Connection: close gets the answer",
              r.status == 200 and json.loads(r.read()).get("userName") == "alice")
        c.close()
    except Exception as e:  # noqa: BLE001
        fail("Python's http.client with Connection: close gets the answer", repr(e))
    resp = half_close_request(port, "/user/account")
    check("a client that half-closes after its request gets the answer",
          resp.startswith(b"HTTP/1.1 401") and b"login required" in resp, repr(resp[:200]))


def caps(port, pw):
    held = [socket.create_connection(("127.0.0.1", port), 5) for _ in range(8)]
    extra = [socket.create_connection(("127.0.0.1", port), 5) for _ in range(2)]
    shut = [closed_within(s, 10) for s in extra]
    # the probe of wait_port may still count when the last held ones arrive (under load):
    # then one of those is closed and an extra one stays; two of the ten go either way
    if not all(shut):
        shut += [closed_within(s, 0.5) for s in held]
    check("connections past max_connections_per_address (8) are closed at once",
          sum(shut) == 2, repr(shut))
    try:
        s = tls_sock(port, src="127.0.0.2")
        body = json.dumps({"userName": "alice", "password": pw}).encode()
        s.sendall(head("POST", "/auth/login", len(body)) + body)
        st = answer(s, 5)
        s.close()
    except OSError as e:
        st = repr(e)
    check("meanwhile a client from another address (127.0.0.2) logs in", st == 200, repr(st))
    for s in held + extra:
        s.close()


def slowloris(port):
    s = tls_sock(port)
    t0 = time.time()
    dropped = False
    for ch in b"POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 60:
        try:
            s.send(bytes([ch]))
        except OSError:
            dropped = True
            break
        if closed_within(s, 1):
            dropped = True
            break
    took = time.time() - t0
    s.close()
    check("a slowloris trickling a byte a second is dropped at the head deadline (3 s)",
          dropped and took < 3 + 3, "dropped=%r after %.1f s" % (dropped, took))


def fd_limit(conf, port, pw):
    """140 idle connections against a 64-descriptor server."""
    def low():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    srv = start_server(conf, preexec=low)
    if not wait_port(port):
        fail("databox serve listens with 64 descriptors", server_log()[-300:])
        return
    lines0 = len(server_log().splitlines())
    idle = []
    for _ in range(140):
        try:
            idle.append(socket.create_connection(("127.0.0.1", port), 5))
        except OSError:
            break
    c0 = cpu_ticks(srv.pid)
    time.sleep(2)  # a CPU measurement needs an interval; nothing is awaited here
    used = (cpu_ticks(srv.pid) - c0) / os.sysconf("SC_CLK_TCK") / 2
    check("140 idle connections at a 64-descriptor limit: the server does not spin (< 25% CPU)",
          len(idle) == 140 and used < 0.25, "%d connected, %.0f%% of a core" % (len(idle), used * 100))
    lines = len(server_log().splitlines()) - lines0
    check("and its log stays short (rate-limited: < 40 lines)", lines < 40, "%d lines" % lines)
    cl = Client(port, tls_ctx())

    def login():
        try:
            return cl.login("alice", pw) == 200
        except OSError:
            return False
    check("after the idle ones time out a login works", wait_for(login, secs=40, step=0.5))
    for s in idle:
        s.close()
    srv_kill(srv, 15)


SERVER = []


def main():
    if not make_certs():
        fail("test certificates could be made")
        return
    if not shutil.which("curl"):
        print("skip - databox limits: curl not installed")
        return
    pw = "alice-login-pw"
    port = free_port()
    conf = write_conf(port, "max_chunk = 16M\nheader_timeout = 5s\nmax_connections_per_address = 64\n")
    add_user(conf, "alice", pw)
    env = dict(os.environ)
    if env.get("ASAN_OPTIONS"):
        # ASan keeps freed memory in a quarantine (256 MB by default), which would count
        # as RSS here although the server holds none of it; a small one still catches
        # use-after-free of what was just freed
        env["ASAN_OPTIONS"] += ":quarantine_size_mb=8"
    SERVER.append(start_server(conf, env=env))
    if not wait_port(port):
        fail("databox serve listens", server_log()[-500:])
        return
    cl = Client(port, tls_ctx())
    check("alice logs in", cl.login("alice", pw) == 200)
    big_requests(port, cl.token)
    chunk_upload_works(cl, SERVER[0].pid)
    closing_clients(port, cl.token)
    srv_kill(SERVER[0], 15)

    conf = write_conf(port, "header_timeout = 3s\nmax_connections_per_address = 8\n")
    srv = start_server(conf)
    if not wait_port(port):
        fail("databox serve restarts", server_log()[-500:])
        return
    caps(port, pw)
    slowloris(port)
    srv_kill(srv, 15)

    conf = write_conf(port, "header_timeout = 3s\nmax_connections_per_address = 1000\nmax_connections = 1000\n")
    fd_limit(conf, port, pw)
    log = server_log()
    check_no_sanitizer("the server logged no sanitizer report", sanitizer_report(log))


run(main)
