"""lib_test.py - the one set of check helpers for the Python tests (tests/run.sh counts
their lines): ok/fail/check/skip print "ok - NAME", "not ok - NAME: why" and
"skip - NAME: why"; failed() is the number of failures so far (the exit status);
free_port/wait_port/wait_for/wait_log wait on a socket, a condition or a log line, never a
fixed sleep; check_no_sanitizer checks a daemon's log under make SAN=1 test and says skip
in any other build (where nothing could report).
lib_mg.py and lib_dbx.py re-export these; a test imports them from either or from here."""
import os
import socket
import time

from lib_port import free_port  # noqa: F401  (re-exported: a port no other test of this run is given)

SAN = os.environ.get("SAN", "0") == "1"

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


def wait_log(path, text, secs=10, start=0):
    """True once the file at path holds text (str) past byte offset start within secs."""
    def seen():
        try:
            with open(path, "rb") as f:
                f.seek(start)
                return text.encode() in f.read()
        except OSError:
            return False
    return bool(wait_for(seen, secs, 0.05))


def sanitizer_report(text):
    """The excerpt around the first ASan/UBSan report in text, "" when there is none."""
    for mark in ("Sanitizer", "runtime error:"):
        i = text.find(mark)
        if i >= 0:
            return text[max(0, i - 200):i + 1500]
    return ""


def check_no_sanitizer(name, report):
    """report: what shows a sanitizer's report (an excerpt, a list of logs), empty when
    none. ok/not ok under make SAN=1 test; skip otherwise, where it could only pass."""
    if not SAN:
        skip(name, "not a sanitizer build (make SAN=1 test)")
        return True
    return check(name, not report, report if isinstance(report, str) else " ".join(report))
