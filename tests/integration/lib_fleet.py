#!/usr/bin/python3
"""lib_fleet.py - what the fleet tests (tunneld_fleet.py, viewer_fleet.py) share: a
redis-server of the test's own (own config, own directory) and a tunneld of a fleet
([cluster] pointing at it)."""
import os
import shutil
import socket
import subprocess
import time

from lib_tun import H, TMP, Relay, procs
from tunnel_client import free_port, wait_port

REDIS = shutil.which("redis-server")


class Redis:
    """A redis-server of this test: own config, own directory, append-only file with
    fsync always (what docs/tunneld.md asks for), DEBUG allowed (to stall it)."""

    def __init__(self, name="redis"):
        self.dir = os.path.join(TMP, name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.conf = os.path.join(self.dir, "redis.conf")
        with open(self.conf, "w") as f:
            f.write("bind 127.0.0.1\nport %d\ndir %s\nsave \"\"\nappendonly yes\nappendfsync always\n"
                    "daemonize no\nenable-debug-command yes\nlogfile %s\n"
                    % (self.port, self.dir, os.path.join(self.dir, "redis.log")))
        self.start()

    def start(self):
        self.p = subprocess.Popen([REDIS, self.conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(self.p)
        if not wait_port(self.port):
            raise RuntimeError("redis-server did not start")
        # it accepts before it has loaded the append-only file: wait until it answers
        deadline = time.time() + 20
        while time.time() < deadline and self.cli("PING") != "PONG":
            time.sleep(0.1)

    def stop(self):
        self.p.terminate()
        self.p.wait(10)

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-p", str(self.port)] + list(args), capture_output=True, text=True,
                           timeout=10)
        return r.stdout.strip()


def wait_stalled(redis, timeout=10):
    """Until a PING to redis goes unanswered for 0.3 s (DEBUG SLEEP has begun)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = socket.create_connection((H, redis.port), timeout=2)
        s.sendall(b"PING\r\n")
        s.settimeout(0.3)
        try:
            s.recv(16)
        except (socket.timeout, TimeoutError):
            return True
        finally:
            s.close()
    return False


def wait_log(r, text, timeout=20, since=0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in r.logtext()[since:]:
            return True
        time.sleep(0.05)
    return False


def relay(name, redis, prefix="fleet", lease="3s", wait=True, cluster="", **kv):
    """lease=None: the default lease."""
    port = free_port()
    extra = ("[cluster]\nredis = 127.0.0.1:%d\nrelay_id = %s\npublic_tcp = %s:%d\n%s"
             "key_prefix = %s\nredis_timeout = 1s\n" % (redis.port, name, H, port,
                                                           "lease = %s\n" % lease if lease else "", prefix)) + cluster
    kv.setdefault("max_connections_per_ip", 1000)
    r = Relay(name, port=port, extra=extra, **kv)
    if wait and not wait_log(r, "reachable; relay " + name):
        raise RuntimeError("relay %s did not reach Redis: %s" % (name, r.logtext()))
    return r


def start_tinyproxy():
    """tinyproxy (a real CONNECT proxy) on loopback, logging each CONNECT: (port, log
    file), or None when it is not installed or does not start."""
    tp = shutil.which("tinyproxy")
    if not tp:
        return None
    d = os.path.join(TMP, "tinyproxy")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o777)
    os.chmod(TMP, 0o755)  # tinyproxy drops to nobody before it opens its log
    pport = free_port()
    log = os.path.join(d, "log")
    open(log, "w").close()
    os.chmod(log, 0o666)
    with open(os.path.join(d, "conf"), "w") as f:
        f.write("Port %d\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\nLogLevel Connect\nLogFile \"%s\"\n"
                "PidFile \"%s/pid\"\n%s" % (pport, log, d, "User nobody\nGroup nogroup\n" if os.getuid() == 0 else ""))
    p = subprocess.Popen([tp, "-d", "-c", os.path.join(d, "conf")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(p)
    return (pport, log) if wait_port(pport) else None
