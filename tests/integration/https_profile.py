#!/usr/bin/python3
# applets: databox tunneld
"""The TLS profile of the HTTPS listeners (databox, tunneld's https_listen), probed with
openssl s_client as a client that offers one suite: TLS 1.2 without forward secrecy or
with CBC is refused, the AEAD suites of Mozilla's "intermediate" profile are taken,
and a TLS 1.2 session resumes from a ticket (docs/crypto.md)."""
import os
import shutil
import socket
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_dbx import (CERTS, SEALBOX, T, add_user, check, fail, free_port, make_certs, p, procs, run,  # noqa: E402
                     start_server, wait_for, wait_port, write_conf)

CA = os.path.join(CERTS, "ca.pem")


def s_client(port, *args):
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-CAfile", CA,
                        "-servername", "localhost"] + list(args), input=b"", capture_output=True, timeout=20)
    return r.stdout.decode(errors="replace")


def probe(name, port):
    for suite in ("AES128-SHA256", "AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA384"):
        out = s_client(port, "-tls1_2", "-cipher", suite)
        check("%s: a TLS 1.2 client offering only %s is refused" % (name, suite),
              "Cipher is (NONE)" in out or "Cipher is" not in out, out[-300:])
    for suite in ("ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305"):
        out = s_client(port, "-tls1_2", "-cipher", suite)
        check("%s: %s is taken" % (name, suite), ("Cipher is " + suite) in out, out[-300:])
    out = s_client(port, "-tls1_3")
    check("%s: TLS 1.3 works" % name, "TLSv1.3, Cipher is TLS_" in out, out[-300:])
    sess = p(name + ".sess")
    first = s_client(port, "-tls1_2", "-sess_out", sess)
    out = s_client(port, "-tls1_2", "-sess_in", sess)
    check("%s: TLS 1.2 issues a session ticket and the session resumes" % name,
          "session ticket lifetime hint" in first and "Reused, TLSv1.2" in out, first[-300:])


def hello(port, suites):
    """A raw TLS 1.2 ClientHello offering only suites; the record type of the answer:
    22 (a ServerHello: a suite was taken) or 21 (an alert: refused)."""
    ext = struct.pack(">HHH2H", 0x000a, 6, 4, 0x001d, 0x0017)  # groups: x25519, P-256
    ext += struct.pack(">HHBB", 0x000b, 2, 1, 0)                # point formats: uncompressed
    ext += struct.pack(">HHH2H", 0x000d, 6, 4, 0x0401, 0x0804)  # rsa_pkcs1_sha256, rsa_pss_rsae_sha256
    body = b"\x03\x03" + os.urandom(32) + b"\x00" + struct.pack(">H", 2 * len(suites))
    body += b"".join(struct.pack(">H", x) for x in suites) + b"\x01\x00" + struct.pack(">H", len(ext)) + ext
    hs = b"\x01" + struct.pack(">I", len(body))[1:] + body
    s = socket.create_connection(("127.0.0.1", port), 10)
    s.sendall(b"\x16\x03\x01" + struct.pack(">H", len(hs)) + hs)
    s.settimeout(10)
    try:
        head = s.recv(5)
    except OSError:
        head = b""
    s.close()
    return head[0] if head else None


def mail_profile():
    """The mail profile (crypto/tls.c without aead_only), through tests/tools/tlsdrv."""
    drv = os.path.join(os.environ.get("TOOLS", ""), "tlsdrv")
    if not os.access(drv, os.X_OK):
        print("skip - mail profile: tests/tools/tlsdrv not built (TOOLS unset)")
        return
    log = p("drv.log")
    procs.append(subprocess.Popen([drv, "server", "127.0.0.1:0", "--cert", os.path.join(CERTS, "server.pem"),
                                   "--key", os.path.join(CERTS, "server.key")],
                                  stdout=open(log, "w"), stderr=subprocess.STDOUT))
    port = wait_for(lambda: next((int(ln.split()[1].rsplit(":", 1)[-1]) for ln in open(log)
                                  if ln.startswith("listening ")), None), secs=10)
    if not port:
        fail("tlsdrv server starts", open(log).read()[-300:])
        return
    check("mail profile: a client offering only the ChaCha20-Poly1305 -OLD suites (0xcc13-0xcc15) is refused",
          hello(port, [0xcc13, 0xcc14, 0xcc15]) == 21)
    check("mail profile: the standard ECDHE-RSA-CHACHA20-POLY1305 (0xcca8) is taken", hello(port, [0xcca8]) == 22)
    check("mail profile: CBC stays for old peers (ECDHE-RSA-AES128-SHA, 0xc013)", hello(port, [0xc013]) == 22)


def main():
    if not shutil.which("openssl"):
        print("skip - HTTPS profile: openssl not installed")
        return
    if not make_certs():
        fail("test certificates could be made")
        return
    port = free_port()
    conf = write_conf(port)
    add_user(conf, "alice", "pw")
    start_server(conf)
    if not wait_port(port):
        fail("databox serve listens")
        return
    probe("databox", port)

    tport, hport = free_port(), free_port()
    tdir = os.path.join(T, "tunneld")
    os.makedirs(tdir)
    tconf = os.path.join(tdir, "tunneld.ini")
    with open(tconf, "w") as f:
        f.write("[tunneld]\nlisten = 127.0.0.1:%d\nhttps_listen = 127.0.0.1:%d\ntls_cert = %s/server.pem\n"
                "tls_key = %s/server.key\nstate_dir = %s/state\n" % (tport, hport, CERTS, CERTS, tdir))
    log = open(os.path.join(tdir, "log"), "ab")
    procs.append(subprocess.Popen([SEALBOX, "tunneld", "-d", "-c", tconf], stdout=log, stderr=log))
    if not wait_port(hport):
        fail("tunneld listens on https_listen", open(os.path.join(tdir, "log")).read()[-300:])
        return
    probe("tunneld", hport)
    check("databox: the -OLD suites are refused there too", hello(port, [0xcc13, 0xcc14, 0xcc15]) == 21)
    mail_profile()


run(main)
