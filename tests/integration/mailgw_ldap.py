"""mailgw against a real OpenLDAP slapd (its own config, mdb, ldap:// with StartTLS and
ldaps://, the test CA): SMTP AUTH through the ldap backend over LDAPS and over StartTLS
(service bind, search, user bind), relaying to a sink; wrong password 535; filter
injection logins refused; a wrong CA 454 before any password leaves; slapd stopped 454;
LDAP recipient validation (550 5.1.1 unknown, known accepted, slapd down 451 4.4.3, ETRN
domains too); callouts to a sink that refuses unknown users (positive and negative
cache); `auth-test` / `rcpt-test` traces; no password in any log of the run."""
import base64
import glob
import os
import re
import smtplib
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_mg import *  # noqa: E402,F401,F403
import lib_mgldap  # noqa: E402

if not lib_mgldap.available():
    skip("mailgw LDAP", "needs slapd and ldap-utils (mk/test-packages.txt)")
    done()

C = certs()
MG_STARTTLS_OID = b"1.3.6.1.4.1.1466.20037"
SVC_PW = "Svc-pw-5e1f-secret"
PW = {"alice": "Alice-ldap-pw-11", "bob": "Bob-ldap-pw-22", "carol": "Carol-ldap-pw-33",
      "dave": "Dave-ldap-pw-44", "erin": "Erin-ldap-pw-55"}
WRONG = "Wrong-ldap-pw-00"
users = [{"uid": u, "pw": p, "mail": ["%s@ldaps.example" % u, "%s@tls.example" % u, "%s@local.example" % u]}
         for u, p in PW.items()]
users.append({"uid": "frank", "pw": "Frank-ldap-pw-66", "mail": ["frank@etrn.example"]})
lports = {"ldap": free_port(), "ldaps": free_port()}


class EvilLdap:
    """A hostile LDAP server on loopback: answers the first request (StartTLS) with
    mode's bytes and records everything it receives."""
    ANSWERS = {
        # a BindResponse "success" instead of the ExtendedResponse: must not count as anything
        "forge": b"\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x00\x04\x00\x04\x00",
        # StartTLS refused (protocolError)
        "refuse": b"\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x02\x04\x00\x04\x00",
        # a length of 2 GiB, then junk
        "junk": b"\x30\x84\x7f\xff\xff\xff" + b"A" * 100000,
        # a notice of disconnection (messageID 0, unavailable)
        "notice": b"\x30\x24\x02\x01\x00\x78\x1f\x0a\x01\x34\x04\x00\x04\x00\x8a\x16" + b"1.3.6.1.4.1.1466.20036",
    }

    def __init__(self, mode):
        import socket
        import threading
        self.mode, self.got = mode, b""
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(8)
        self.port = self.ls.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            c, _ = self.ls.accept()
            c.settimeout(5)
            try:
                first = c.recv(4096)
                self.got += first
                c.sendall(self.ANSWERS[self.mode])
                while True:
                    d = c.recv(4096)
                    if not d:
                        break
                    self.got += d
            except OSError:
                pass
            c.close()


evil = {m: EvilLdap(m) for m in EvilLdap.ANSWERS}
sl = lib_mgldap.Slapd(TMP, C, SVC_PW, users, lports).start(wait_port)
ok("slapd started (own slapd.conf, mdb, ldap:// and ldaps:// with the test CA)")

pwfile = os.path.join(TMP, "ldap-svc.pw")
with open(pwfile, "w") as f:
    f.write(SVC_PW + "\n")
os.chmod(pwfile, 0o600)
BASE = "dc=example,dc=org"
sink = Sink("plain")
usersink = Sink("users")   # the callout's next hop: only ok* users exist
dead = free_port()
ldap_conf = """auth_backend = ldaps.example ldaps://localhost:{ls}/{b}?mail
auth_backend = tls.example ldap://localhost:{l}/ou=people,{b}?mail?sub?(objectClass=inetOrgPerson)
auth_backend = * ldap://localhost:{l}/{b}?uid
auth_backend = forge.example ldap://127.0.0.1:{e[forge]}/{b}?mail
auth_backend = refuse.example ldap://127.0.0.1:{e[refuse]}/{b}?mail
auth_backend = junk.example ldap://127.0.0.1:{e[junk]}/{b}?mail
auth_backend = notice.example ldap://127.0.0.1:{e[notice]}/{b}?mail
auth_ca_file = {c}/ca.pem
ldap_bind_dn = {svc}
ldap_bind_password_file = {pw}
auth_cache_time = 0
auth_fail_delay_after = 100
auth_fail_max = 200
relay_domains = local.example co.example codown.example etrn.example
etrn_domains = etrn.example
rcpt_source = local.example ldaps://localhost:{ls}/{b}?mail
rcpt_source = etrn.example ldap://localhost:{l}/{b}?mail
rcpt_source = co.example callout
rcpt_source = codown.example callout:127.0.0.1:{dead}
rcpt_timeout = 5s
rcpt_negative_cache_time = 1h
""".format(ls=lports["ldaps"], l=lports["ldap"], b=BASE, c=C, svc=lib_mgldap.SVC_DN, pw=pwfile, dead=dead,
           e={m: v.port for m, v in evil.items()})
DELIVERY = ("smarthost = 127.0.0.1:%d\nsmarthost_map = co.example 127.0.0.1:%d\nretry_min = 1h\n"
            "queue_scan_interval = 1h\n" % (sink.port, usersink.port))
mg = Mailgw("ldap", [("sub", "submission", ""), ("mx", "smtp", "")],
            mailgw="relay_clients = 10.255.0.0/16\nauth_timeout = 5s\n" + ldap_conf,
            delivery=DELIVERY)
mg.start()
PSUB, PMX = mg.ports["sub"], mg.ports["mx"]
ctx = ssl.create_default_context(cafile=C + "/ca.pem")


def swaks(*args):
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--timeout", "20"] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return r.returncode, r.stdout.decode(errors="replace")


def sunk(subject, s=sink):
    return wait_for(lambda: [m for m in s.messages() if "Subject: %s" % subject in m], 10)


def login(user, pw, port=PSUB):
    """smtplib.login on submission after STARTTLS: (code, text)."""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
            s.starttls(context=ctx)
            code, msg = s.login(user, pw)
            return code, msg.decode(errors="replace")
    except smtplib.SMTPAuthenticationError as e:
        return e.smtp_code, e.smtp_error.decode(errors="replace")
    except smtplib.SMTPException as e:  # noqa: BLE001
        return -1, repr(e)


# --- AUTH through LDAP ---
rc, out = swaks("--port", str(PSUB), "--tls", "--auth", "PLAIN", "--auth-user", "alice@ldaps.example",
                "--auth-password", PW["alice"], "--from", "alice@ldaps.example", "--to", "x@remote.example",
                "--header", "Subject: ldaps-plain")
check("swaks AUTH PLAIN, ldaps backend (service bind, search mail=, user bind): 235", "235 2.7.0" in out, out[-600:])
check("... and the message is relayed to the sink", bool(sunk("ldaps-plain")))
rc, out = swaks("--port", str(PSUB), "--tls", "--auth", "LOGIN", "--auth-user", "bob@tls.example",
                "--auth-password", PW["bob"], "--from", "bob@tls.example", "--to", "y@remote.example",
                "--header", "Subject: ldap-starttls")
check("swaks AUTH LOGIN, ldap:// backend with StartTLS and an extra filter: 235", "235 2.7.0" in out, out[-600:])
check("... relayed", bool(sunk("ldap-starttls")))
try:
    with smtplib.SMTP("127.0.0.1", PSUB, timeout=30) as s:
        s.starttls(context=ctx)
        s.login("carol", PW["carol"])
        s.sendmail("carol@local.example", ["z@remote.example"], b"Subject: ldap-uid\r\n\r\nhi\r\n")
    res = True
except Exception as e:  # noqa: BLE001
    res = repr(e)
check("smtplib.login 'carol' (no domain: the '*' ldap:// backend, uid=): accepted and relayed",
      res is True and sunk("ldap-uid"), str(res))
lg = sl.logtext()
check("slapd saw StartTLS, the service bind, the search and the user bind",
      "STARTTLS" in lg and 'BIND dn="%s"' % lib_mgldap.SVC_DN in lg and "SRCH" in lg
      and 'BIND dn="uid=alice,ou=people,%s"' % BASE in lg, lg[-1500:])
ssfs = [int(m_.group(1)) for m_ in re.finditer(r"mech=SIMPLE .* ssf=(\d+)", lg)]
check("every bind to slapd came over TLS (slapd's ssf > 0)", ssfs and min(ssfs) > 0, str(ssfs))

code, msg = login("dave@ldaps.example", WRONG)
check("wrong password: 535 5.7.8", code == 535 and "5.7.8" in msg, "%s %s" % (code, msg))
check("... logged as a failure naming the user and the ldap result, not the password",
      "AUTH failed user=dave@ldaps.example" in mg.logtext() and "invalid credentials" in mg.logtext())

# Filter injection: the login is one literal value. Unescaped, "al*" would find alice
# and her password would log in a login that is not hers; "*)(uid=*" would widen the
# filter to everyone.
code, msg = login("al*", PW["alice"])
check("login 'al*' with alice's password (wildcard injection): 535", code == 535, "%s %s" % (code, msg))
code, msg = login("*)(uid=*", PW["alice"])
check("login '*)(uid=*' (filter injection): 535", code == 535, "%s %s" % (code, msg))
code, msg = login("*", PW["alice"])
check("login '*': 535", code == 535, "%s %s" % (code, msg))
lg = sl.logtext()
check("slapd got the injected logins escaped (RFC 4515): (uid=al\\2A), (uid=\\2A\\29\\28uid=\\2A)",
      'filter="(uid=al\\2A)"' in lg and 'filter="(uid=\\2A\\29\\28uid=\\2A)"' in lg,
      "\n".join(ln for ln in lg.splitlines() if "filter=" in ln)[-1200:])

# auth-test prints every step
pwf = os.path.join(TMP, "alice.pw")
with open(pwf, "w") as f:
    f.write(PW["alice"] + "\n")
rc, out = mg.cli("auth-test", "alice@ldaps.example", "--password-file", pwf)
check("auth-test over ldaps: backend, TLS version and certificate, service bind, search DN, user bind (exit 0)",
      rc == 0 and "ldaps://" in out and "TLSv1." in out and "issuer /CN=sealbox test CA" in out
      and "service bind: success" in out and 'search result: "uid=alice,ou=people,%s"' % BASE in out
      and "user bind: resultCode 0" in out, out)
rc, out = mg.cli("auth-test", "alice@tls.example", "--password-file", pwf)
check("auth-test over ldap:// shows the StartTLS step", rc == 0 and "StartTLS accepted" in out, out)

# --- recipients through LDAP ---


def rcpt(addr, port=PMX, mail="s@sender.example"):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.ehlo("t")
        s.mail(mail)
        code, m = s.rcpt(addr)
        return code, m.decode(errors="replace")


c, m = rcpt("alice@local.example")
check("LDAP recipient validation: a known address is accepted", c == 250, "%d %s" % (c, m))
c, m = rcpt("nobody@local.example")
check("LDAP recipient validation: an unknown address gets 550 5.1.1 at RCPT", c == 550 and "5.1.1" in m, "%d %s" % (c, m))
c, m = rcpt("*@local.example")
c2, m2 = rcpt("al*@local.example")
check("LDAP recipient validation: wildcard addresses '*@', 'al*@' are unknown (550), not 'any match'",
      c == 550 and c2 == 550, "%d %s / %d %s" % (c, m, c2, m2))
c, m = rcpt('"*)(mail=*"@local.example')
check("LDAP recipient validation: a quoted '*)(mail=*' local part is refused", c in (550, 553), "%d %s" % (c, m))
c, m = rcpt("nobody@etrn.example")
c2, m2 = rcpt("frank@etrn.example")
check("ETRN domain addresses are checked the same way (unknown 550, known 250)", c == 550 and c2 == 250,
      "%d %s / %d %s" % (c, m, c2, m2))
rc, out = mg.cli("rcpt-test", "bob@local.example")
check("rcpt-test: LDAP source, each step, valid (exit 0)",
      rc == 0 and "LDAP search" in out and "search result:" in out and "result: valid" in out, out)
rc, out = mg.cli("rcpt-test", "nobody@local.example")
check("rcpt-test: LDAP source, unknown (exit 1)", rc == 1 and "unknown (550 5.1.1" in out, out)

# --- callouts ---
c, m = rcpt("ok-user@co.example")
check("callout: the next hop takes ok-user: 250", c == 250, "%d %s" % (c, m))
c, m = rcpt("ghost@co.example")
check("callout: the next hop refuses ghost: 550 5.1.1", c == 550 and "5.1.1" in m, "%d %s" % (c, m))
probes = lambda: open(os.path.join(usersink.out, "rcpts.log")).read().splitlines()  # noqa: E731
n = len(probes())
c, m = rcpt("ghost@co.example")
c2, m2 = rcpt("ok-user@co.example")
check("callout answers are cached (negative and positive): no new probe", c == 550 and c2 == 250 and len(probes()) == n,
      "%d %d probes %d -> %d" % (c, c2, n, len(probes())))
check("callout probes use the null sender and never send DATA",
      probes() and all("from=<<>>" in ln for ln in probes()) and not usersink.messages(), "\n".join(probes()))
c, m = rcpt("x@codown.example")
check("callout to a next hop that is down: 451 4.4.3", c == 451 and "4.4.3" in m, "%d %s" % (c, m))
try:
    with smtplib.SMTP("127.0.0.1", PMX, timeout=30) as s:
        s.sendmail("s@sender.example", ["ok-two@co.example"], b"Subject: callout-ok\r\n\r\nhi\r\n")
    res = True
except Exception as e:  # noqa: BLE001
    res = repr(e)
check("a message to a callout-verified recipient is delivered to the next hop", res is True and sunk("callout-ok", usersink),
      str(res))
rc, out = mg.cli("rcpt-test", "ghost2@co.example")
check("rcpt-test: callout, unknown (exit 1)", rc == 1 and "RCPT TO:<ghost2@co.example> answered 550" in out, out)

# --- a hostile LDAP server: never an accept, never a password ---
for mode in ("forge", "refuse", "junk", "notice"):
    code, msg = login("erin@%s.example" % mode, PW["erin"])
    check("hostile LDAP server (%s): 454 4.7.0" % mode, code == 454 and "4.7.0" in msg, "%s %s" % (code, msg))
    check("... it got the StartTLS request and no password",
          MG_STARTTLS_OID in evil[mode].got and PW["erin"].encode() not in evil[mode].got
          and SVC_PW.encode() not in evil[mode].got, repr(evil[mode].got[:200]))
check("mailgw is still serving after the hostile servers", login("alice@ldaps.example", PW["alice"])[0] == 235)

# --- a wrong CA: no password may leave ---
bad = Mailgw("ldapbadca", [("sub", "submission", "")],
             mailgw="relay_clients = 10.255.0.0/16\nauth_timeout = 5s\n" + ldap_conf.replace(C + "/ca.pem", C + "/other-ca.pem"),
             delivery=DELIVERY)
bad.start()
before = sl.logtext().count("mech=SIMPLE")
code, msg = login("erin@ldaps.example", PW["erin"], bad.ports["sub"])
check("ldaps backend whose certificate does not chain to auth_ca_file: 454 4.7.0", code == 454 and "4.7.0" in msg,
      "%s %s" % (code, msg))
code, msg = login("erin@tls.example", PW["erin"], bad.ports["sub"])
check("ldap:// StartTLS with a wrong CA: 454 4.7.0", code == 454, "%s %s" % (code, msg))
check("... and slapd saw no bind at all (nothing sent before a verified handshake)",
      sl.logtext().count("mech=SIMPLE") == before)

# --- slapd down ---
sl.stop()
code, msg = login("erin@ldaps.example", PW["erin"])
check("slapd stopped: AUTH gets 454 4.7.0, never an accept", code == 454 and "4.7.0" in msg, "%s %s" % (code, msg))
c, m = rcpt("erin@local.example")
check("slapd stopped: an LDAP-checked recipient gets 451 4.4.3", c == 451 and "4.4.3" in m, "%d %s" % (c, m))
c, m = rcpt("alice@local.example")
check("... while an answer from the cache still counts (alice was valid)", c == 250, "%d %s" % (c, m))

# --- no password anywhere ---
secrets = list(PW.values()) + [SVC_PW, "Frank-ldap-pw-66"]
enc = [base64.b64encode(("\0%s\0%s" % (u, p)).encode()).decode() for u, p in
       [("alice@ldaps.example", PW["alice"]), ("bob@tls.example", PW["bob"])]]
leaks = []
for path in glob.glob(TMP + "/**/*.log", recursive=True):
    with open(path, errors="replace") as f:
        t = f.read()
    leaks += ["%s in %s" % (s_, path) for s_ in secrets + enc if s_ in t]
check("no password (users', service account's; plain or base64) in any log of the run", not leaks, "; ".join(leaks))
done()
