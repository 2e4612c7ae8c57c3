#!/usr/bin/python3
"""viewer_fleet_names.py - viewer-master and viewer-client given a relay *name* with several
addresses use the first that answers (docs/tunneld.md "Running the viewer against a
fleet"): in a network namespace of the test's own (`ip netns add`), whose hosts file
(/etc/netns/NAME/hosts, mounted over /etc/hosts by `ip netns exec`) gives each name two
loopback addresses, one with nothing listening. Two relays of a fleet and their Redis run
inside it, and so do the viewers:

- `--server relays.test:P` (dead address first, then relay a): the master registers on a;
  and `relays-rev.test` (the live one first) too;
- a client given `relay-b.test:P` (dead, then relay b) is redirected by b to relay a's
  public name `relay-a.test:P` (dead, then a) and joins the session, exec works.

Skipped (not failed) where `ip netns` cannot be used (not root, no iproute2, a container
without the privilege). Every wait is for a log line, a file or a socket."""
import os
import shutil
import socket
import subprocess
import sys

NS_ENV = "SEALBOX_TEST_NETNS"

if os.environ.get(NS_ENV) is None:
    # Outside: make the namespace and its hosts file, run this file inside, clean up.
    name = "sbxnames%d" % os.getpid()
    etc = "/etc/netns/" + name
    ip = shutil.which("ip")
    if not ip:
        print("skip - viewer fleet names: no ip command (iproute2, mk/test-packages.txt)")
        raise SystemExit(0)
    made = subprocess.run([ip, "netns", "add", name], capture_output=True, text=True)
    if made.returncode != 0:
        print("skip - viewer fleet names: ip netns add is not usable here: %s" % made.stderr.strip())
        raise SystemExit(0)
    rc = 1
    try:
        os.makedirs(etc, exist_ok=True)
        with open(os.path.join(etc, "hosts"), "w") as f:
            f.write("127.0.0.1 localhost\n"
                    "127.0.0.2 relays.test\n127.0.0.3 relays.test\n"
                    "127.0.0.3 relays-rev.test\n127.0.0.2 relays-rev.test\n"
                    "127.0.0.2 relay-a.test\n127.0.0.3 relay-a.test\n"
                    "127.0.0.2 relay-b.test\n127.0.0.4 relay-b.test\n")
        with open(os.path.join(etc, "resolv.conf"), "w") as f:
            # no DNS server in there (the hosts file answers; an empty file would leave the
            # resolver without any nameserver, which libevent refuses)
            f.write("nameserver 127.0.0.1\n")
        up = subprocess.run([ip, "netns", "exec", name, ip, "link", "set", "lo", "up"], capture_output=True, text=True)
        if up.returncode != 0:
            print("skip - viewer fleet names: cannot run in the namespace: %s" % up.stderr.strip())
            rc = 0
        else:
            rc = subprocess.run([ip, "netns", "exec", name, sys.executable, os.path.abspath(__file__)],
                                env=dict(os.environ, **{NS_ENV: name})).returncode
    finally:
        subprocess.run([ip, "netns", "del", name], capture_output=True)
        shutil.rmtree(etc, ignore_errors=True)
    raise SystemExit(rc)

# Inside the namespace from here on.
import re  # noqa: E402

from lib_fleet import REDIS, Redis, wait_log  # noqa: E402
from lib_tun import TMP, SEALBOX, Relay, check, check_no_sanitizer, cleanup, procs, sanitizer_logs, test  # noqa: E402
from lib_test import wait_for  # noqa: E402
from tunnel_client import free_port  # noqa: E402

ENV = dict(os.environ, SEALBOX_VIEWER_KEEPALIVE="1", https_proxy="", http_proxy="", HTTPS_PROXY="",
           HTTP_PROXY="", no_proxy="", NO_PROXY="")
P = free_port("127.0.0.3")
rd = None
fleet = {}


def relay_at(name, addr, public):
    extra = ("[cluster]\nredis = 127.0.0.1:%d\nrelay_id = %s\npublic_tcp = %s:%d\nkey_prefix = names\n"
             "redis_timeout = 1s\n" % (rd.port, name, public, P))
    r = Relay(name, port=P, extra=extra, listen="%s:%d" % (addr, P), max_connections_per_ip=1000)
    if not wait_log(r, "reachable; relay " + name):
        raise RuntimeError("relay %s did not reach Redis: %s" % (name, r.logtext()))
    return r


def master(tag, servers):
    """viewer-master (auto-approving, exec allowed) on servers: (process, session, stderr file)."""
    d = os.path.join(TMP, tag)
    os.makedirs(d, exist_ok=True)
    out, err = os.path.join(d, "out"), os.path.join(d, "err")
    p = subprocess.Popen([SEALBOX, "viewer-master", "--no-lan", "--server", servers, "--allow-exec",
                          "--auto-approve"], stdin=subprocess.PIPE, stdout=open(out, "w"), stderr=open(err, "w"),
                         env=ENV)
    procs.append(p)

    def session():
        with open(out, errors="replace") as f:
            m = re.search(r"(?m)^session (\d+)$", f.read())
        return m.group(1) if m else None
    return p, wait_for(session, 30, 0.05), err


def text(path):
    with open(path, errors="replace") as f:
        return f.read()


def t_names():
    a, b = fleet["a"], fleet["b"]
    try:
        socket.create_connection(("127.0.0.2", P), timeout=2).close()
        dead = False
    except OSError:
        dead = True
    check("inside the namespace 127.0.0.2:%d (each name's other address) refuses" % P, dead)
    addrs = sorted({x[4][0] for x in socket.getaddrinfo("relays.test", P, socket.AF_INET, socket.SOCK_STREAM)})
    check("the namespace's hosts file gives relays.test two addresses", addrs == ["127.0.0.2", "127.0.0.3"],
          str(addrs))
    p, sess, err = master("m-names", "relays.test:%d" % P)
    check("a master given relays.test (dead address first) registers on relay a",
          sess is not None and wait_log(a, "session %s start" % sess, 10), text(err))
    p2, sess2, err2 = master("m-names-rev", "relays-rev.test:%d" % P)
    check("and given relays-rev.test (the live address first) too",
          sess2 is not None and wait_log(a, "session %s start" % sess2, 10), text(err2))
    p2.terminate()
    if sess is None:
        return
    r = subprocess.run([SEALBOX, "viewer-client", "--no-lan", "--server", "relay-b.test:%d" % P, sess, "exec", "echo",
                        "by name"], capture_output=True, timeout=60, env=ENV)
    e = r.stderr.decode(errors="replace")
    check("a client given relay-b.test (dead, then b) is redirected to relay-a.test (dead, then a) and runs "
          "exec (exit %d)" % r.returncode, r.returncode == 0 and r.stdout == b"by name\n", e)
    check("it says where it was redirected", "redirects to relay a (elsewhere): tcp relay-a.test:%d" % P in e, e)
    check("relay b redirected it", wait_log(b, "to relay a (elsewhere)", 10))
    p.terminate()


def t_empty_resolv_conf():
    """An empty /etc/resolv.conf (hosts named in /etc/hosts only, as on some routers): the
    names still resolve. /etc/resolv.conf here is the namespace's own file (ip netns exec
    mounted /etc/netns/NAME/resolv.conf over it)."""
    own = "/etc/netns/%s/resolv.conf" % os.environ[NS_ENV]
    if not os.path.samefile(own, "/etc/resolv.conf"):
        print("skip - empty resolv.conf: /etc/resolv.conf is not the namespace's own file")
        return
    open("/etc/resolv.conf", "w").close()
    p, sess, err = master("m-noresolv", "relays.test:%d" % P)
    check("with an empty /etc/resolv.conf a master given relays.test still registers on relay a",
          sess is not None and wait_log(fleet["a"], "session %s start" % sess, 10), text(err))
    p.terminate()


if not REDIS:
    print("skip - viewer fleet names: redis-server is not installed (mk/test-packages.txt)")
    raise SystemExit(0)
try:
    rd = Redis("redis-names")
    fleet["a"] = relay_at("a", "127.0.0.3", "relay-a.test")
    fleet["b"] = relay_at("b", "127.0.0.4", "relay-b.test")
    test(t_names)
    test(t_empty_resolv_conf)
    check_no_sanitizer("no sanitizer report in any tunneld log", sanitizer_logs())
finally:
    cleanup()
