"""mailgw SMTP AUTH (RFC 4954) against a real Dovecot: the dovecot backend over its auth
UNIX socket and TCP, the imap backend with implicit TLS and with STARTTLS, the pop3 backend
with STLS; swaks --auth PLAIN/LOGIN and smtplib.login on submission and smtps; relaying
after AUTH to a sink; 535 / 538 / 530 / 454; the exchange's error replies; the brute-force
limits; and no password in any log of the run."""
import base64
import glob
import os
import smtplib
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_mg import *  # noqa: E402,F401,F403
import lib_mgdovecot  # noqa: E402

if not lib_mgdovecot.available():
    skip("mailgw SMTP AUTH", "needs root and dovecot-core (Dovecot is the backend)")
    done()

C = certs()
PW = {"alice@dove.example": "Alice-pw-7f3a", "bob@imaps.example": "Bob-pw-91c2", "carol@imap.example": "Carol-pw-55e1",
      "dave@pop.example": "Dave-pw-13d8", "erin@tcp.example": "Erin-pw-b4a0", "mallory@dove.example": "Mallory-pw-2b2b",
      "victim@dove.example": "Victim-pw-8e8e", "own@dove.example": "Own-pw-4c4c",
      "frank@pops.example": "Frank-pw-6a6a", "gina@smtp.example": "Gina-pw-7b7b", "hank@smtps.example": "Hank-pw-8c8c"}
WRONG = "Wrong-pw-0000"
ports = {k: free_port() for k in ("imap", "imaps", "pop3", "pop3s", "auth")}
dv = lib_mgdovecot.Dovecot(TMP, C, PW, ports).start(wait_port)
ok("dovecot started (passwd-file, auth socket, IMAP/POP3 with TLS)")

sink = Sink("plain")
# The smtp:// and smtps:// backends log in at another submission server: a second mailgw
# whose AUTH goes to the same Dovecot (Dovecot itself has no SMTP submission).
up = Mailgw("upstream", [("sub", "submission", ""), ("smtps", "smtps", "")],
            mailgw="relay_clients = 10.255.0.0/16\nauth_backend = * dovecot:%s\n" % dv.socket)
up.start()
dead = free_port()   # nothing listens here: the "backend down" case
backends = """auth_backend = dove.example dovecot:%s
auth_backend = tcp.example dovecot://127.0.0.1:%d
auth_backend = imaps.example imaps://127.0.0.1:%d
auth_backend = imap.example imap://127.0.0.1:%d
auth_backend = pop.example pop3://127.0.0.1:%d
auth_backend = down.example dovecot://127.0.0.1:%d
auth_backend = badca.example imaps://127.0.0.1:%d
auth_backend = pops.example pop3s://127.0.0.1:%d
auth_backend = smtp.example smtp://localhost:%d
auth_backend = smtps.example smtps://127.0.0.1:%d
auth_ca_file = %s/ca.pem
""" % (dv.socket, ports["auth"], ports["imaps"], ports["imap"], ports["pop3"], dead, ports["imaps"], ports["pop3s"],
       up.ports["sub"], up.ports["smtps"], C)
mg = Mailgw("auth", [("sub", "submission", ""), ("smtps", "smtps", ""), ("mx", "smtp", ""),
                     ("mxauth", "smtp", "auth = yes")],
            mailgw="relay_domains = local.example\nrelay_clients = 10.255.0.0/16\nauth_timeout = 5s\n" + backends,
            delivery="smarthost = 127.0.0.1:%d\nretry_min = 1h\nqueue_scan_interval = 1h\n" % sink.port)
mg.start()
PSUB, PS, PMX = mg.ports["sub"], mg.ports["smtps"], mg.ports["mx"]


def swaks(*args):
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--timeout", "20"] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return r.returncode, r.stdout.decode(errors="replace")


def sunk(subject):
    return wait_for(lambda: [m for m in sink.messages() if "Subject: %s" % subject in m], 10)


# --- relaying after AUTH, real clients ---
rc, out = swaks("--port", str(PSUB), "--tls", "--auth", "PLAIN", "--auth-user", "alice@dove.example",
                "--auth-password", PW["alice@dove.example"], "--from", "alice@dove.example",
                "--to", "friend@remote.example", "--header", "Subject: plain-sub")
check("swaks AUTH PLAIN on submission (dovecot socket backend): 235", "235 2.7.0" in out, out[-600:])
got = sunk("plain-sub")
check("the authenticated client relays to a foreign domain (delivered to the sink)", bool(got))
rcv = got[0].split("Received:", 1)[1].split("\nDate:")[0] if got else ""
check("Received: says ESMTPSA and does not name the user by default",
      "with ESMTPSA" in rcv and "alice" not in rcv and "Authenticated" not in rcv, rcv)

rc, out = swaks("--port", str(PS), "--tls-on-connect", "--auth", "LOGIN", "--auth-user", "bob@imaps.example",
                "--auth-password", PW["bob@imaps.example"], "--from", "bob@imaps.example",
                "--to", "x@remote.example", "--header", "Subject: login-smtps")
check("swaks AUTH LOGIN on smtps (imaps backend, verified TLS): 235", "235 2.7.0" in out, out[-600:])
check("... and the message is relayed", bool(sunk("login-smtps")))

ctx = ssl.create_default_context(cafile=C + "/ca.pem")
for user, subj in (("carol@imap.example", "imap-starttls"), ("dave@pop.example", "pop3-stls"),
                   ("erin@tcp.example", "dovecot-tcp"), ("frank@pops.example", "pop3s"),
                   ("gina@smtp.example", "smtp-starttls"), ("hank@smtps.example", "smtps")):
    try:
        with smtplib.SMTP("127.0.0.1", PSUB, timeout=20) as s:
            s.starttls(context=ctx)
            s.login(user, PW[user])
            s.sendmail(user, ["y@remote.example"], ("Subject: %s\r\n\r\nhi\r\n" % subj).encode())
        res = True
    except Exception as e:  # noqa: BLE001
        res = repr(e)
    check("smtplib.login on submission, backend %s: accepted and relayed" % subj, res is True and sunk(subj), str(res))

# --- refusals ---
try:
    with smtplib.SMTP("127.0.0.1", PSUB, timeout=20) as s:
        s.starttls(context=ctx)
        s.login("alice@dove.example", WRONG)
    res = "accepted"
except smtplib.SMTPAuthenticationError as e:
    res = e.smtp_code, e.smtp_error.decode(errors="replace")
check("wrong password: 535 5.7.8", res != "accepted" and res[0] == 535 and "5.7.8" in res[1], str(res))


def raw(port, tls=False, starttls=False):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    if tls:
        s = ctx.wrap_socket(s, server_hostname="localhost")
    f = s.makefile("rb")

    def rd():
        out = b""
        while True:
            ln = f.readline()
            out += ln
            if not ln or len(ln) < 4 or ln[3:4] != b"-":
                return out.decode(errors="replace")

    def cmd(c):
        s.sendall(c if isinstance(c, bytes) else c.encode() + b"\r\n")
        return rd()
    rd()
    if starttls:
        cmd("EHLO t")
        cmd("STARTTLS")
        s = ctx.wrap_socket(s, server_hostname="localhost")
        f = s.makefile("rb")
    return s, cmd


s, cmd = raw(PSUB)
e = cmd("EHLO t")
check("before TLS: EHLO does not announce AUTH", "AUTH" not in e and "STARTTLS" in e, e)
r = cmd("AUTH PLAIN " + base64.b64encode(b"\0alice@dove.example\0" + PW["alice@dove.example"].encode()).decode())
check("AUTH before STARTTLS: 538 5.7.11", r.startswith("538 5.7.11"), r)
r = cmd("MAIL FROM:<a@dove.example>")
check("submission without TLS: MAIL refused (530)", r.startswith("530"), r)
s.close()

s, cmd = raw(PSUB, starttls=True)
e = cmd("EHLO t")
check("after STARTTLS: EHLO announces AUTH PLAIN LOGIN", "AUTH PLAIN LOGIN" in e, e)
r = cmd("MAIL FROM:<a@dove.example>")
check("submission without AUTH, client outside relay_clients: 530 5.7.0 Authentication required",
      r.startswith("530 5.7.0") and "Authentication required" in r, r)
r1 = cmd("AUTH PLAIN")
r2 = cmd("*")
check("AUTH PLAIN without initial response: 334, then '*' cancels with 501", r1.startswith("334") and r2.startswith("501"),
      r1 + r2)
r = cmd("AUTH PLAIN not*base64!")
check("bad base64: 501 5.5.2", r.startswith("501 5.5.2"), r)
r1 = cmd("AUTH LOGIN")
r2 = cmd("A" * 13000)
check("overlong response: 500 5.5.6", r1.startswith("334") and r2.startswith("500 5.5.6"), r1 + r2)
r = cmd("AUTH CRAM-MD5")
check("unknown mechanism: 504", r.startswith("504"), r)
r1 = cmd("AUTH LOGIN")
r2 = cmd(base64.b64encode(b"alice@dove.example").decode())
r3 = cmd(base64.b64encode(PW["alice@dove.example"].encode()).decode())
check("AUTH LOGIN in two steps: 334 Username, 334 Password, 235", r1.startswith("334 VXNlcm5hbWU6")
      and r2.startswith("334 UGFzc3dvcmQ6") and r3.startswith("235"), r1 + r2 + r3)
r = cmd("AUTH PLAIN " + base64.b64encode(b"\0alice@dove.example\0x").decode())
check("AUTH twice: 503", r.startswith("503"), r)
cmd("MAIL FROM:<alice@dove.example>")
s.close()

# A cached login answers at once; what the client pipelined behind AUTH (here QUIT) must
# be run after the 235, by the session that is still there.
s, cmd = raw(PSUB, starttls=True)
cmd("EHLO t")
r = cmd("AUTH PLAIN " + base64.b64encode(b"\0alice@dove.example\0" + PW["alice@dove.example"].encode()).decode()
        + "\r\nNOOP\r\nQUIT")
rest = s.recv(4096).decode(errors="replace")
deadline = time.time() + 5
while "221" not in rest and time.time() < deadline:
    more = s.recv(4096).decode(errors="replace")
    if not more:
        break
    rest += more
check("AUTH answered from the cache with NOOP and QUIT pipelined behind it: 235, 250, 221 in order",
      r.startswith("235") and rest.find("250") < rest.find("221") and rest.find("250") >= 0, r + rest)
s.close()

s, cmd = raw(PS, tls=True)
cmd("EHLO t")
cmd("MAIL FROM:<a@remote.example>")
r = cmd("AUTH PLAIN " + base64.b64encode(b"\0alice@dove.example\0" + PW["alice@dove.example"].encode()).decode())
check("AUTH inside a transaction: 503 5.5.1", r.startswith("503 5.5.1"), r)
s.close()

s, cmd = raw(PSUB, starttls=True)
cmd("EHLO t")
r = cmd("AUTH PLAIN " + base64.b64encode(b"\0who@down.example\0whatever-pw").decode())
check("backend down: 454 4.7.0 Temporary authentication failure", r.startswith("454 4.7.0"), r)
r = cmd("AUTH PLAIN " + base64.b64encode(b"\0x@nobackend.invalid\0whatever-pw").decode())
check("a domain without a backend: 535", r.startswith("535"), r)
s.close()

s, cmd = raw(PMX)
cmd("EHLO t")
r = cmd("STARTTLS")
s = ctx.wrap_socket(s, server_hostname="localhost")
f = s.makefile("rb")
s.sendall(b"EHLO t\r\n")
e = b""
while True:
    ln = f.readline()
    e += ln
    if not ln or ln[3:4] != b"-":
        break
check("smtp listener (auth not configured there): no AUTH after TLS", b"AUTH" not in e, e.decode())
s.close()

rc, out = swaks("--port", str(mg.ports["mxauth"]), "--tls", "--auth", "PLAIN", "--auth-user", "alice@dove.example",
                "--auth-password", PW["alice@dove.example"], "--from", "alice@dove.example", "--to", "q@remote.example",
                "--header", "Subject: mx-auth")
check("smtp listener with auth = yes: AUTH after STARTTLS, relayed", "235 2.7.0" in out and sunk("mx-auth"), out[-400:])
rc, out = swaks("--port", str(PMX), "--from", "a@x.example", "--to", "victim@remote.example")
check("the MX listener stays closed to relaying without AUTH (550 5.7.1)", "550 5.7.1" in out, out[-300:])

# --- backend certificate verification: a backend whose certificate another CA signed ---
badca = Mailgw("badca", [("sub", "submission", "")],
               mailgw="relay_clients = 10.255.0.0/16\nauth_timeout = 5s\nauth_backend = * imaps://127.0.0.1:%d\n"
                      "auth_ca_file = %s/other-ca.pem\n" % (ports["imaps"], C))
badca.start()
s, cmd = raw(badca.ports["sub"], starttls=True)
cmd("EHLO t")
r = cmd("AUTH PLAIN " + base64.b64encode(b"\0bob@imaps.example\0" + PW["bob@imaps.example"].encode()).decode())
check("imaps backend with a certificate from another CA: refused before the password goes (454)",
      r.startswith("454 4.7.0"), r)
s.close()

# --- brute force ---
bf = Mailgw("bf", [("sub", "submission", "")],
            mailgw="relay_clients = 10.255.0.0/16\nauth_fail_delay_after = 1\nauth_fail_delay = 2s\nauth_fail_max = 4\n"
                   "auth_fail_lockout = 5m\nsender_login = own\nreceived_auth_user = yes\nauth_backend = * dovecot:%s\n" % dv.socket,
            delivery="smarthost = 127.0.0.1:%d\n" % sink.port)
bf.start()
PB = bf.ports["sub"]


def attempt(src, user, pw):
    s = socket.create_connection(("127.0.0.1", PB), timeout=30, source_address=(src, 0))
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"EHLO t\r\n")
    while f.readline()[3:4] == b"-":
        pass
    s.sendall(b"STARTTLS\r\n")
    f.readline()
    t = ctx.wrap_socket(s, server_hostname="localhost")
    g = t.makefile("rb")
    t.sendall(b"EHLO t\r\n")
    while g.readline()[3:4] == b"-":
        pass
    t0 = time.time()
    t.sendall(("AUTH PLAIN %s\r\n" % base64.b64encode(("\0%s\0%s" % (user, pw)).encode()).decode()).encode())
    r = g.readline().decode(errors="replace")
    return r, time.time() - t0, t, g


r, dt, t, g = attempt("127.0.0.3", "alice@dove.example", WRONG)
check("first failure: 535 at once", r.startswith("535") and dt < 1.5, "%s %.2fs" % (r, dt))
r, dt, t, g = attempt("127.0.0.3", "alice@dove.example", WRONG)
check("failure past auth_fail_delay_after: 535 delayed (>= 2 s), the loop meanwhile serves others",
      r.startswith("535") and dt >= 1.8, "%s %.2fs" % (r, dt))
r, dt, t, g = attempt("127.0.0.3", "alice@dove.example", PW["alice@dove.example"])
check("the right password still works before the limit", r.startswith("235"), r)
t.sendall(b"MAIL FROM:<bob@dove.example>\r\n")
r2 = g.readline().decode(errors="replace")
check("sender_login = own: MAIL FROM another user's address refused (553)", r2.startswith("553"), r2)
r, dt, t, g = attempt("127.0.0.6", "own@dove.example", PW["own@dove.example"])
for c in (b"MAIL FROM:<own@dove.example>\r\n", b"RCPT TO:<z@remote.example>\r\n", b"DATA\r\n",
          b"Subject: bf-own\r\n\r\nhi\r\n.\r\n"):
    t.sendall(c)
    g.readline()
got = sunk("bf-own")
rcv = got[0].split("Received:", 1)[1].split("\nSubject:")[0] if got else ""
check("sender_login = own accepts the user's own address; received_auth_user = yes names the user",
      "(Authenticated sender: own@dove.example)" in rcv and "ESMTPSA" in rcv, rcv)
r, dt, t, g = attempt("127.0.0.3", "alice@dove.example", WRONG)
check("a success resets the counters: the next failure is answered at once", r.startswith("535") and dt < 1.5,
      "%s %.2fs" % (r, dt))
for i in range(4):
    r, dt, t, g = attempt("127.0.0.4", "mallory@dove.example", WRONG)
r, dt, t, g = attempt("127.0.0.4", "mallory@dove.example", PW["mallory@dove.example"])
check("past auth_fail_max the client is refused (454 4.7.0), even with the right password", r.startswith("454 4.7.0"), r)
r, dt, t, g = attempt("127.0.0.5", "mallory@dove.example", PW["mallory@dove.example"])
check("the locked login is refused from another address too (per login name)", r.startswith("454 4.7.0"), r)
r, dt, t, g = attempt("127.0.0.5", "victim@dove.example", PW["victim@dove.example"])
check("another client and login are not affected", r.startswith("235"), r)
check("the lockout is logged", "too many failures" in bf.logtext(), bf.logtext()[-400:])

# --- mailgw auth-test ---
pwf = os.path.join(TMP, "pw")
with open(pwf, "w") as f:
    f.write(PW["bob@imaps.example"] + "\n")
rc, out = mg.cli("auth-test", "bob@imaps.example", "--password-file", pwf)
check("auth-test (imaps): prints backend, TLS version, certificate, verification and the result (exit 0)",
      rc == 0 and "backend: imaps://" in out and "TLS TLSv1." in out and "certificate: subject" in out
      and "verification: ok" in out and "accepted" in out and PW["bob@imaps.example"] not in out, out)
with open(pwf, "w") as f:
    f.write(WRONG + "\n")
rc, out = mg.cli("auth-test", "alice@dove.example", "--password-file", pwf)
check("auth-test (dovecot socket), wrong password: refused, exit 1", rc == 1 and "refused" in out
      and "dovecot" in out, out)
rc, out = mg.cli("auth-test", "x@down.example", "--password-file", pwf)
check("auth-test, backend down: temporary failure, exit 69", rc == 69 and "temporary failure" in out, out)
rc, out = badca.cli("auth-test", "bob@imaps.example", "--password-file", pwf)
check("auth-test, backend certificate from another CA: the verification failure is shown",
      rc == 69 and "temporary failure" in out, out)

# --- logs ---
logs = glob.glob(os.path.join(TMP, "*.log")) + glob.glob(os.path.join(TMP, "*", "*.log"))
logs += glob.glob(os.path.join(dv.dir, "*.log*"))
leaks = []
for p in logs:
    try:
        txt = open(p, errors="replace").read()
    except OSError:
        continue
    for u, pw in list(PW.items()) + [("wrong", WRONG)]:
        for form in (pw, base64.b64encode(pw.encode()).decode()):
            if form in txt:
                leaks.append("%s in %s" % (u, p))
check("no password (plain or base64) in any log of the run (%d files)" % len(logs), not leaks, str(leaks))
check("the log names user, method and backend of a login",
      "AUTH ok user=alice@dove.example method=PLAIN backend=dovecot:" in mg.logtext(), mg.logtext()[-800:])
# --- the positive cache: with Dovecot gone, a login checked a moment ago still works, others get 454 ---
dv.stop()
s, cmd = raw(PSUB, starttls=True)
cmd("EHLO t")
r1 = cmd("AUTH PLAIN " + base64.b64encode(b"\0alice@dove.example\0" + PW["alice@dove.example"].encode()).decode())
s.close()
s, cmd = raw(PSUB, starttls=True)
cmd("EHLO t")
r2 = cmd("AUTH PLAIN " + base64.b64encode(b"\0mallory@dove.example\0" + PW["mallory@dove.example"].encode()).decode())
s.close()
s, cmd = raw(PSUB, starttls=True)
cmd("EHLO t")
r3 = cmd("AUTH PLAIN " + base64.b64encode(b"\0alice@dove.example\0" + WRONG.encode()).decode())
s.close()
check("backend stopped: a login verified within auth_cache_time is accepted from the cache", r1.startswith("235"), r1)
check("backend stopped: a login not in the cache gets 454 4.7.0, never an accept", r2.startswith("454 4.7.0"), r2)
check("backend stopped: the cached user with a wrong password is not accepted", not r3.startswith("235"), r3)
done()
