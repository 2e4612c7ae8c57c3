"""lib_mgldap.py - a private OpenLDAP slapd for mailgw's LDAP tests: its own slapd.conf,
an mdb database and a pid file in a temp dir (never the system's slapd instance), ldap://
(StartTLS) and ldaps:// on free loopback ports, TLS with the test CA's server certificate
(Debian's slapd is built with GnuTLS: TLSCACertificateFile / TLSCertificateFile /
TLSCertificateKeyFile). The data is loaded with slapadd before the start. The access rules
let only the service account search; users can bind; nobody reads userPassword."""
import os
import shutil
import signal
import subprocess
import time

import lib_mg

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
SCHEMA = "/etc/ldap/schema"
SUFFIX = "dc=example,dc=org"
SVC_DN = "cn=mailgw,ou=services," + SUFFIX


def available():
    return os.path.exists(SLAPD) and os.path.exists(SLAPADD) and os.path.exists(SCHEMA + "/inetorgperson.schema")


class Slapd:
    def __init__(self, tmp, certdir, svc_pw, users, ports, cert="server"):
        """users: list of dicts with uid, pw, mail (list), ou (default people)."""
        self.dir = os.path.join(tmp, "slapd")
        self.db = os.path.join(self.dir, "db")
        os.makedirs(self.db, exist_ok=True)
        self.conf = os.path.join(self.dir, "slapd.conf")
        self.pidfile = os.path.join(self.dir, "slapd.pid")
        self.log = os.path.join(self.dir, "slapd.log")
        self.ports = ports   # {"ldap": P, "ldaps": Q}
        self.proc = None
        with open(self.conf, "w") as f:
            f.write("""include {s}/core.schema
include {s}/cosine.schema
include {s}/inetorgperson.schema
pidfile {pid}
argsfile {d}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCACertificateFile {c}/ca.pem
TLSCertificateFile {c}/{cert}.pem
TLSCertificateKeyFile {c}/{cert}.key
loglevel stats
database mdb
maxsize 16777216
suffix "{suf}"
rootdn "cn=admin,{suf}"
directory {db}
access to attrs=userPassword
    by anonymous auth
    by * none
access to *
    by dn.exact="{svc}" read
    by anonymous auth
    by * none
""".format(s=SCHEMA, pid=self.pidfile, d=self.dir, c=certdir, cert=cert, suf=SUFFIX, db=self.db, svc=SVC_DN))
        ldif = """dn: {suf}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,{suf}
objectClass: organizationalUnit
ou: people

dn: ou=services,{suf}
objectClass: organizationalUnit
ou: services

dn: {svc}
objectClass: person
cn: mailgw
sn: service
userPassword: {svcpw}

""".format(suf=SUFFIX, svc=SVC_DN, svcpw=svc_pw)
        for u in users:
            ldif += "dn: uid=%s,ou=%s,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\nuserPassword: %s\n" % (
                u["uid"], u.get("ou", "people"), SUFFIX, u["uid"], u["uid"], u["uid"], u["pw"])
            for m in u.get("mail", []):
                ldif += "mail: %s\n" % m
            ldif += "\n"
        path = os.path.join(self.dir, "data.ldif")
        with open(path, "w") as f:
            f.write(ldif)
        r = subprocess.run([SLAPADD, "-f", self.conf, "-l", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise RuntimeError("slapadd: " + r.stdout.decode(errors="replace"))

    def start(self, wait_port):
        urls = "ldap://127.0.0.1:%d/ ldaps://127.0.0.1:%d/" % (self.ports["ldap"], self.ports["ldaps"])
        # -d 256 (stats): in the foreground, the log of every operation on stderr, kept in
        # slapd.log (the test greps it for passwords too).
        out = open(self.log, "ab")
        self.proc = subprocess.Popen([SLAPD, "-f", self.conf, "-h", urls, "-d", "256"],
                                     stdout=out, stderr=subprocess.STDOUT)
        lib_mg._procs.append(self.proc)   # killed at exit whatever happens
        for p in self.ports.values():
            if not wait_port(p, 20):
                raise RuntimeError("slapd did not start: " + self.logtext()[-2000:])
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def logtext(self):
        return lib_mg.read_text(self.log)
