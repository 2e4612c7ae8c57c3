"""Free TCP ports for tests that run in parallel, never the same one twice.

The kernel's pick (bind to port 0, close, hand the number on) can give two tests, or two
listeners of one test, the same port: it is free again the moment the picking socket
closes, and a client's outgoing connection may take it before the daemon binds it (CI
saw mailgw's smtp and submission listeners both handed 53625). So ports come from below
the ephemeral range (outgoing connections never use them), and every port handed out is
recorded in a registry file shared by the whole test run under an flock, so no other
pick in this run returns it. (Past 8,000 entries the oldest are forgotten; a full make
test records a few hundred.)

As a module: free_port(host). As a program: prints one port (for the shell tests and
the benchmarks; outside make test the registry is /tmp/sealbox-test-ports-UID).
"""
import fcntl
import os
import random
import socket
import sys

REGISTRY = os.environ.get("SEALBOX_PORTS") or "/tmp/sealbox-test-ports-%d" % os.getuid()
KEEP = 4000          # entries kept when the registry is trimmed: far more than one run's live ports


def _range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        lo = 32768
    if lo > 12000:
        return max(1024, lo - 12000), lo - 1
    return 61000, 65535      # an unusual ephemeral range starting low: use the top instead


def _bindable(host, port):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port(host="127.0.0.1"):
    """A TCP port free on host now that no other caller in this test run has been given."""
    lo, hi = _range()
    with open(REGISTRY, "a+") as reg:
        fcntl.flock(reg, fcntl.LOCK_EX)
        reg.seek(0)
        used = [int(x) for x in reg.read().split() if x.isdigit()]
        taken = set(used)
        for _ in range(2000):
            p = random.randint(lo, hi)
            if p not in taken and _bindable(host, p):
                break
        else:
            raise RuntimeError("no free port in %d-%d" % (lo, hi))
        if len(used) > 2 * KEEP:
            reg.seek(0)
            reg.truncate()
            reg.write("".join("%d\n" % x for x in used[-KEEP:]))
        reg.write("%d\n" % p)
        reg.flush()
        return p


if __name__ == "__main__":
    print(free_port(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"))
