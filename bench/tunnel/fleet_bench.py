#!/usr/bin/python3
"""fleet_bench.py - tunneld as a fleet: three relays and one redis-server on loopback,
N sessions of one client each spread over the relays. Prints join latency p50/p99 when the
client reaches the right relay and when it is redirected first (goal: a redirect costs <= 1
extra round trip, p99 join <= 150 ms), REGISTER latency (one Redis round trip), RSS per relay
(goal <= 20 MB), the Redis write commands per second of the idle fleet (INFO commandstats,
commands run by scripts included), and the time from kill -9 of a relay to its master
resumed through another (the default lease, 3 s). Printed, never asserted. Usage: fleet_bench.py SEALBOX [sessions]"""
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "integration"))
from tunnel_client import rss_kb, Closed, Conn, act_join, act_register, act_resume, follow, free_port, wait_port  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bulk import bulk  # noqa: E402

SEALBOX = sys.argv[1]
NSESS = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
MB = int(sys.argv[3]) if len(sys.argv) > 3 else 256
H = "127.0.0.1"
REDIS = shutil.which("redis-server")
# TUN_FLEET_FSYNC=everysec: to see what the fsync of every write costs the latencies
FSYNC = os.environ.get("TUN_FLEET_FSYNC", "always")


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p / 100))] * 1000 if v else float("nan")


if not REDIS:
    print("fleet: skipped (redis-server is not installed; mk/bench-packages.txt)")
    sys.exit(0)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * NSESS + 200)), hard))
tmp = tempfile.mkdtemp(prefix="sealbox-bench-fleet.")
procs = []
try:
    rport = free_port()
    with open(os.path.join(tmp, "redis.conf"), "w") as f:
        f.write("bind 127.0.0.1\nport %d\ndir %s\nsave \"\"\nappendonly yes\nappendfsync %s\n" % (rport, tmp, FSYNC))
    procs.append(subprocess.Popen([REDIS, os.path.join(tmp, "redis.conf")], stdout=subprocess.DEVNULL))
    wait_port(rport)
    relays = []
    for name in ("r1", "r2", "r3"):
        port = free_port()
        conf = os.path.join(tmp, name + ".ini")
        with open(conf, "w") as f:
            f.write("[tunneld]\nlisten = %s:%d\nstate_dir = %s/%s\ndigits = 6\nmax_sessions = %d\nlog_level = warn\n"
                    "join_rate = 100000\nregister_rate = 100000\nregister_rate_total = 1000000\n"
                    "max_connections = %d\nmax_connections_per_ip = %d\n[cluster]\nredis = %s:%d\n"
                    "relay_id = %s\npublic_tcp = %s:%d\n"
                    % (H, port, tmp, name, NSESS + 10, 2 * NSESS + 100, 2 * NSESS + 100, H, rport, name, H, port))
        p = subprocess.Popen([SEALBOX, "tunneld", "-d", "-c", conf], stderr=open(os.path.join(tmp, name + ".log"), "w"))
        procs.append(p)
        wait_port(port)
        relays.append((p, port))
    time.sleep(1.5)  # the relays' first heartbeat
    keep, reg, direct, redirected = [], [], [], []
    for i in range(NSESS):
        p, port = relays[i % 3]
        t0 = time.time()
        m, n, kv, _ = follow(H, port, act_register)
        reg.append(time.time() - t0)
        if n != "REGISTERED":
            raise RuntimeError("register: %s %s" % (n, kv))
        wrong = i % 2 == 1
        jport = relays[(i + 1) % 3][1] if wrong else port
        t0 = time.time()
        c, n, kv, hops = follow(H, jport, act_join(m.session))
        (redirected if wrong else direct).append(time.time() - t0)
        if n != "JOINED":
            raise RuntimeError("join: %s %s" % (n, kv))
        m.expect("PEER_JOINED")
        keep.append((m, c))
    print("fleet: 3 relays, 1 Redis (appendfsync %s), %d sessions of one client each" % (FSYNC, NSESS))
    print("  REGISTER (number burned in Redis): p50 %.2f ms, p99 %.2f ms" % (pct(reg, 50), pct(reg, 99)))
    print("  JOIN at the right relay:           p50 %.2f ms, p99 %.2f ms" % (pct(direct, 50), pct(direct, 99)))
    print("  JOIN redirected once:              p50 %.2f ms, p99 %.2f ms (goal p99 <= 150 ms)"
          % (pct(redirected, 50), pct(redirected, 99)))
    for k, (p, port) in enumerate(relays):
        print("  relay r%d RSS with %d sessions: %.1f MB (goal <= 20 MB)" % (k + 1, NSESS // 3, rss_kb(p.pid) / 1024))
    # the idle fleet's Redis writes: what the heartbeats (and any lease renewal) cost
    WRITES = ("set", "pexpire", "expire", "sadd", "srem", "hset", "hdel", "del", "incr")

    def cmdstats():
        r = subprocess.run(["redis-cli", "-p", str(rport), "INFO", "commandstats"], capture_output=True, text=True)
        return {m.group(1): int(m.group(2)) for m in re.finditer(r"cmdstat_([a-z|]+):calls=(\d+)", r.stdout)}
    if shutil.which("redis-cli"):
        s0, t0 = cmdstats(), time.time()
        time.sleep(10)  # a measuring window, not a wait for an event
        s1, dt = cmdstats(), time.time() - t0
        w = sum(s1.get(k, 0) - s0.get(k, 0) for k in WRITES)
        print("  idle Redis write commands with %d sessions: %.1f/s (%s)" % (NSESS, w / dt, ", ".join(
            "%s %.1f/s" % (k, (s1.get(k, 0) - s0.get(k, 0)) / dt) for k in WRITES if s1.get(k, 0) > s0.get(k, 0))))
    # bulk through a relay of the fleet (a session of r2, its client redirected there from
    # r3) vs a standalone relay (no [cluster]) started in the same run; best of 3 each,
    # alternating, so both see the same machine
    port = free_port()
    conf = os.path.join(tmp, "solo.ini")
    with open(conf, "w") as f:
        f.write("[tunneld]\nlisten = %s:%d\nstate_dir = %s/solo\ndigits = 6\nlog_level = warn\n" % (H, port, tmp))
    procs.append(subprocess.Popen([SEALBOX, "tunneld", "-d", "-c", conf], stderr=open(os.path.join(tmp, "solo.log"), "w")))
    wait_port(port)
    best = {"fleet": 0.0, "solo": 0.0}
    for _ in range(3):
        for kind, rp, jp in (("fleet", relays[1][1], relays[2][1]), ("solo", port, port)):
            m, n, kv, _ = follow(H, rp, act_register)
            c, n, kv, hops = follow(H, jp, act_join(m.session))
            m.expect("PEER_JOINED")
            got, dt = bulk(m, c, MB)
            best[kind] = max(best[kind], got / dt / 1e6)
            m.close()
            c.close()
    print("  bulk through a relay of the fleet (client redirected to it): %.0f MB/s; standalone relay: %.0f MB/s;"
          " fleet/standalone = %.2fx (goal >= 0.95x; best of 3 x %d MiB each)"
          % (best["fleet"], best["solo"], best["fleet"] / best["solo"], MB))
    # kill -9 of r1: how long until one of its masters is resumed through r2
    m, c = keep[0]
    relays[0][0].kill()
    t0 = time.time()
    ok = False
    while time.time() - t0 < 30 and not ok:
        try:
            nm, n, kv, _ = follow(H, relays[1][1], act_resume(m.session, 1, m.token))
            ok = n == "REGISTERED"
            nm.close()
        except (Closed, OSError):
            pass
        if not ok:
            time.sleep(0.1)
    print("  kill -9 of a relay -> its master resumed through another: %.2f s (default lease, 3 s)"
          % (time.time() - t0))
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    if os.environ.get("KEEP"):
        print("kept " + tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
