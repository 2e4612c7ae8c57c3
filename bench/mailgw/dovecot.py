"""dovecot.py - the benchmark's private Dovecot (tests/integration/lib_mgdovecot.py):
  dovecot.py DIR CERTDIR AUTHPORT USER PASSFILE
one user, the auth service on 127.0.0.1:AUTHPORT (and its UNIX socket DIR/dovecot/run/
auth-client); prints "ready" and runs until it is terminated."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "integration"))
import lib_mgdovecot  # noqa: E402
from lib_vwtest import free_port, wait_port  # noqa: E402


d, certs, authport, user, pwfile = sys.argv[1:6]
with open(pwfile) as f:
    pw = f.readline().rstrip("\n")
ports = {"imap": free_port(), "imaps": free_port(), "pop3": free_port(), "pop3s": free_port(), "auth": int(authport)}
dv = lib_mgdovecot.Dovecot(d, certs, {user: pw}, ports).start(lambda p, secs: wait_port(p, int(secs * 20)))
print("ready", flush=True)
signal.signal(signal.SIGTERM, lambda *a: (dv.stop(), sys.exit(0)))
while True:
    time.sleep(1)
