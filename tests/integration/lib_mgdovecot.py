"""lib_mgdovecot.py - a private Dovecot for mailgw's AUTH tests and benchmark: its own config,
base_dir, state and log in a temp dir, a passwd-file user database, IMAP on a plaintext port
(STARTTLS) and an implicit-TLS port, the auth-client UNIX socket and an auth TCP listener on
loopback. Run as root; Dovecot drops to its own users for its login processes."""
import os
import shutil
import subprocess

from lib_test import wait_for

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def available():
    return os.path.exists(DOVECOT) and os.geteuid() == 0


class Dovecot:
    def __init__(self, tmp, certdir, users, ports, cert="server"):
        """users: {login: password}; ports: dict with imap, imaps, pop3, pop3s, auth (TCP) ports."""
        self.dir = os.path.join(tmp, "dovecot")
        self.run = os.path.join(self.dir, "run")
        for d in ("run", "state", "mail", "home"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        os.chmod(tmp, 0o755)
        os.chmod(self.dir, 0o755)
        self.log = os.path.join(self.dir, "dovecot.log")
        self.conf = os.path.join(self.dir, "dovecot.conf")
        self.socket = os.path.join(self.run, "auth-client")
        self.ports = ports
        with open(os.path.join(self.dir, "passwd"), "w") as f:
            for u, p in users.items():
                f.write("%s:{PLAIN}%s::::::\n" % (u, p))
        with open(self.conf, "w") as f:
            f.write("""base_dir = {run}
state_dir = {d}/state
log_path = {log}
protocols = imap pop3
first_valid_uid = 1
listen = 127.0.0.1
ssl = yes
ssl_cert = <{c}/{cert}.pem
ssl_key = <{c}/{cert}.key
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_failure_delay = 0
auth_verbose = yes
mail_location = maildir:{d}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={d}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
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
service auth {{
  unix_listener auth-client {{
    mode = 0666
  }}
  inet_listener auth-tcp {{
    port = {auth}
  }}
}}
""".format(run=self.run, d=self.dir, log=self.log, c=certdir, cert=cert, **ports))
        self.proc = None

    def start(self, wait_port):
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=open(self.log + ".stderr", "ab"))
        for p in (self.ports["imap"], self.ports["imaps"], self.ports["auth"]):
            if not wait_port(p, 20):
                raise RuntimeError("dovecot did not start: " + self.logtext())
        wait_for(lambda: os.path.exists(self.socket), 20)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def logtext(self):
        out = ""
        for p in (self.log, self.log + ".stderr"):
            try:
                with open(p, errors="replace") as f:
                    out += f.read()
            except OSError:
                pass
        return out
