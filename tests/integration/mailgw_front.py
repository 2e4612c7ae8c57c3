"""mailgw POP3/IMAP TLS front ends with Dovecot (started here, own config, loopback) as
the plaintext backend: poplib and imaplib with STLS/STARTTLS and implicit TLS,
LOGINDISABLED and refused plaintext login, the STARTTLS injection test for both
protocols, openssl s_client -starttls pop3|imap."""
import imaplib
import os
import poplib
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_mg import *  # noqa: E402,F401,F403

if not os.path.exists("/usr/sbin/dovecot"):
    skip("mailgw front ends", "dovecot not installed (dovecot-imapd, dovecot-pop3d)")
    done()
if os.geteuid() != 0:
    skip("mailgw front ends", "Dovecot as a backend needs root to start (it drops to nobody)")
    done()

C = certs()
D = os.path.join(TMP, "dovecot")
for sub in ("run", "state", "home/bob/Maildir/new", "home/bob/Maildir/cur", "home/bob/Maildir/tmp"):
    os.makedirs(os.path.join(D, sub), exist_ok=True)
with open(os.path.join(D, "home/bob/Maildir/new/1.host:2,"), "w") as f:
    f.write("From: a@example.com\r\nSubject: hello bob\r\n\r\nbody\r\n")
subprocess.run(["chown", "-R", "65534:65534", os.path.join(D, "home")], check=True)
os.chmod(TMP, 0o755)
os.chmod(D, 0o755)
with open(os.path.join(D, "users"), "w") as f:
    f.write("bob:{PLAIN}secret::::\n")
PIMAP, PPOP = free_port(), free_port()
conf = os.path.join(D, "dovecot.conf")
with open(conf, "w") as f:
    f.write("""base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={d}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""".format(d=D, imap=PIMAP, pop=PPOP))
dv = bg(["/usr/sbin/dovecot", "-F", "-c", conf], log=os.path.join(D, "stdout.log"))
if not (wait_port(PIMAP) and wait_port(PPOP)):
    fail("dovecot backend started", open(os.path.join(D, "stdout.log")).read()[-500:])
    done()
ok("dovecot backend started on loopback")

mg = Mailgw("front", [
    ("pop3", "pop3", "backend = 127.0.0.1:%d" % PPOP),
    ("pop3s", "pop3s", "backend = 127.0.0.1:%d" % PPOP),
    ("imap", "imap", "backend = 127.0.0.1:%d" % PIMAP),
    ("imaps", "imaps", "backend = 127.0.0.1:%d" % PIMAP),
], mailgw="relay_domains = example.com\n")
mg.start()
ctx = ssl.create_default_context(cafile=C + "/ca.pem")

# POP3 with STLS
p = poplib.POP3("127.0.0.1", mg.ports["pop3"], timeout=10)
capa = p.capa()
check("POP3 before TLS: CAPA offers STLS, no USER or SASL", "STLS" in capa and "USER" not in capa and "SASL" not in capa, str(capa))
try:
    p.user("bob")
    fail("POP3 before TLS: USER refused")
except poplib.error_proto as e:
    check("POP3 before TLS: USER refused", b"STLS" in e.args[0], str(e))
p.stls(context=ctx)
p.user("bob")
p.pass_("secret")
n, size = p.stat()
check("POP3 STLS: login at Dovecot through the front end, 1 message", n == 1, str((n, size)))
lines = p.retr(1)[1]
check("POP3 STLS: RETR returns the message", any(b"hello bob" in l for l in lines))
p.quit()

# POP3S
p = poplib.POP3_SSL("127.0.0.1", mg.ports["pop3s"], context=ctx, timeout=10)
check("POP3S greeting comes from Dovecot", b"Dovecot" in p.getwelcome() or p.getwelcome().startswith(b"+OK"), str(p.getwelcome()))
p.user("bob")
p.pass_("secret")
check("POP3S: login and STAT", p.stat()[0] == 1)
p.quit()

# IMAP with STARTTLS
i = imaplib.IMAP4("127.0.0.1", mg.ports["imap"], timeout=10)
check("IMAP before TLS: LOGINDISABLED and STARTTLS announced", "LOGINDISABLED" in i.capabilities and "STARTTLS" in i.capabilities, str(i.capabilities))
typ, data = i._simple_command("LOGIN", "bob", '"secret"')
check("IMAP before TLS: LOGIN refused with NO [PRIVACYREQUIRED]", typ == "NO" and b"PRIVACYREQUIRED" in data[0], str((typ, data)))
typ, data = i._simple_command("AUTHENTICATE", "PLAIN")
check("IMAP before TLS: AUTHENTICATE refused", typ == "NO", str((typ, data)))
i.starttls(ssl_context=ctx)
check("IMAP after STARTTLS: no LOGINDISABLED", "LOGINDISABLED" not in i.capabilities, str(i.capabilities))
i.login("bob", "secret")
typ, data = i.select("INBOX")
check("IMAP STARTTLS: login at Dovecot and SELECT INBOX", typ == "OK" and data[0] == b"1", str((typ, data)))
i.logout()

# IMAPS
i = imaplib.IMAP4_SSL("127.0.0.1", mg.ports["imaps"], ssl_context=ctx, timeout=10)
check("IMAPS: no STARTTLS/LOGINDISABLED in the capabilities", "STARTTLS" not in i.capabilities and "LOGINDISABLED" not in i.capabilities, str(i.capabilities))
i.login("bob", "secret")
check("IMAPS: login and SELECT", i.select("INBOX")[0] == "OK")
i.logout()


def injection(port, first, inject, probe):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    f = s.makefile("rb")
    f.readline()
    s.sendall(first + inject)
    r = f.readline()
    ts = ctx.wrap_socket(s, server_hostname="localhost")
    ts.settimeout(1.5)
    extra = b""
    try:
        extra = ts.recv(4096)
    except (socket.timeout, ssl.SSLError):
        pass
    ts.settimeout(5)
    ts.sendall(probe)
    tf = ts.makefile("rb")
    reply = tf.readline()
    ts.close()
    return r, extra, reply


r, extra, reply = injection(mg.ports["pop3"], b"STLS\r\n", b"USER bob\r\n", b"PASS secret\r\n")
check("POP3 injection: USER pipelined behind STLS is not executed",
      r.startswith(b"+OK") and extra == b"" and reply.startswith(b"-ERR"), "%r %r %r" % (r, extra, reply))
r, extra, reply = injection(mg.ports["imap"], b"a STARTTLS\r\n", b"b LOGIN bob secret\r\n", b"c SELECT INBOX\r\n")
check("IMAP injection: LOGIN pipelined behind STARTTLS is not executed",
      b"a OK" in r and extra == b"" and (reply.startswith(b"c NO") or reply.startswith(b"c BAD")), "%r %r %r" % (r, extra, reply))

for proto, port in (("pop3", mg.ports["pop3"]), ("imap", mg.ports["imap"])):
    r = subprocess.run(["openssl", "s_client", "-starttls", proto, "-connect", "127.0.0.1:%d" % port,
                        "-CAfile", C + "/ca.pem", "-verify_return_error"],
                       input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    o = r.stdout.decode(errors="replace")
    check("openssl s_client -starttls %s: verified" % proto, "Verify return code: 0 (ok)" in o, o[-300:])

rc, out = mg.cli("tls-check", "127.0.0.1:%d" % mg.ports["imap"], "--starttls", "imap", "--ca", C + "/ca.pem", "--sni", "localhost")
check("mailgw tls-check --starttls imap: offered, protocol, cipher, verified",
      rc == 0 and "STARTTLS offered: yes" in out and "protocol: TLSv1." in out and "cipher: " in out
      and "verification: ok" in out, out[-800:])
rc, out = mg.cli("tls-check", "127.0.0.1:%d" % mg.ports["pop3s"], "--ca", C + "/other-ca.pem", "--sni", "localhost")
check("mailgw tls-check on an untrusted chain: FAILED with details, exit 1",
      rc == 1 and "verification: FAILED" in out and "subject:" in out, out[-800:])
done()
