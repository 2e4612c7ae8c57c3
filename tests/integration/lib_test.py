"""lib_test.py - the one set of check helpers for the Python tests (tests/run.sh counts
their lines): ok/fail/check/skip print "ok - NAME", "not ok - NAME: why" and
"skip - NAME: why"; failed() is the number of failures so far (the exit status);
free_port/wait_port/wait_for wait on a socket or a condition, never a fixed sleep.
lib_mg.py and lib_dbx.py re-export these; a test imports them from either or from here."""
import socket
import time

_failures = [0]


def ok(name):
    print("ok - " + name, flush=True)


def fail(name, why=""):
    _failures[0] += 1
    print("not ok - " + name + ((": " + why) if why else ""), flush=True)


def check(name, cond, why=""):
    if cond:
        ok(name)
    else:
        fail(name, why)
    return cond


def skip(name, why):
    print("skip - %s: %s" % (name, why), flush=True)


def failed():
    return _failures[0]


def free_port(host="127.0.0.1"):
    """A TCP port free on host right now (the kernel's pick)."""
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.bind((host, 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, secs=10, host="127.0.0.1"):
    """True once something accepts on host:port within secs seconds."""
    end = time.time() + secs
    while time.time() < end:
        try:
            socket.create_connection((host, port), timeout=0.3).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def wait_for(fn, secs=10, step=0.1):
    """Polls fn() until it is true or secs pass; returns its last value."""
    end = time.time() + secs
    while True:
        v = fn()
        if v or time.time() > end:
            return v
        time.sleep(step)
