#!/usr/bin/python3
"""databox crypto against independent implementations: Python's `cryptography` and the
OpenSSL CLI. Containers made by databox must open with them, and containers they make
(at run time, with the DRACOON layouts of specs/databox-crypto.md) must open with
databox. Only one 1.3M-iteration key is made (the default keygen); the others use
small counts, which the format allows readers to accept."""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile

SEALBOX = os.environ["SEALBOX"]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_test import ok, fail, check, failed  # noqa: E402


try:
    from cryptography.hazmat.primitives import hashes, padding, serialization
    from cryptography.hazmat.primitives.asymmetric import padding as apad
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
except ImportError:
    print("skip - databox oracle: python3-cryptography is not installed")
    sys.exit(0)

TMP = tempfile.mkdtemp(prefix="sealbox-dbxoracle.")
HAVE_OPENSSL = shutil.which("openssl") is not None


def dbx(*args, password=None, env_pw=None):
    env = dict(os.environ)
    env.pop("DATABOX_PASSWORD", None)
    if env_pw is not None:
        env["DATABOX_PASSWORD"] = env_pw
    cmd = [SEALBOX, "databox", "crypto"] + list(args)
    if password is not None:
        pwf = os.path.join(TMP, "pw.txt")
        with open(pwf, "wb") as f:
            f.write(password)
        cmd += ["--password-file", pwf]
    return subprocess.run(cmd, capture_output=True, env=env, stdin=subprocess.DEVNULL)


def p(name):
    return os.path.join(TMP, name)


def wjson(name, obj):
    with open(p(name), "w") as f:
        json.dump(obj, f, indent=2)
    return p(name)


def rjson(path):
    with open(path) as f:
        return json.load(f)


def b64(b):
    return base64.b64encode(b).decode()


# ---- a tiny DER reader/writer, enough for PBES2 ----
def der_read(b, i=0):
    tag = b[i]
    ln = b[i + 1]
    hdr = 2
    if ln & 0x80:
        n = ln & 0x7F
        ln = int.from_bytes(b[i + 2:i + 2 + n], "big")
        hdr = 2 + n
    return tag, b[i + hdr:i + hdr + ln], i + hdr + ln


def der_children(b):
    out, i = [], 0
    while i < len(b):
        t, v, i = der_read(b, i)
        out.append((t, v))
    return out


def der(tag, body):
    n = len(body)
    if n < 0x80:
        ln = bytes([n])
    else:
        nb = n.to_bytes((n.bit_length() + 7) // 8, "big")
        ln = bytes([0x80 | len(nb)]) + nb
    return bytes([tag]) + ln + body


def oid(s):
    parts = [int(x) for x in s.split(".")]
    body = bytes([40 * parts[0] + parts[1]])
    for v in parts[2:]:
        enc = [v & 0x7F]
        v >>= 7
        while v:
            enc.insert(0, 0x80 | (v & 0x7F))
            v >>= 7
        body += bytes(enc)
    return der(0x06, body)


def seq(*items):
    return der(0x30, b"".join(items))


def integer(v):
    return der(0x02, v.to_bytes((v.bit_length() + 8) // 8, "big"))


OID_PBES2, OID_PBKDF2 = "1.2.840.113549.1.5.13", "1.2.840.113549.1.5.12"
OID_HMAC_SHA1, OID_HMAC_SHA256 = "1.2.840.113549.2.7", "1.2.840.113549.2.9"
OID_AES256_CBC = "2.16.840.1.101.3.4.1.42"


def pbes2_encrypt(key, pw, iterations, salt_len, prf=None, explicit_prf=False):
    """EncryptedPrivateKeyInfo PEM made here (not by databox, not by OpenSSL)."""
    pki = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    salt, iv = os.urandom(salt_len), os.urandom(16)
    h = hashes.SHA256() if prf == "sha256" else hashes.SHA1()
    dk = PBKDF2HMAC(h, 32, salt, iterations).derive(pw)
    padder = padding.PKCS7(128).padder()
    pt = padder.update(pki) + padder.finalize()
    enc = Cipher(algorithms.AES(dk), modes.CBC(iv)).encryptor()
    ct = enc.update(pt) + enc.finalize()
    params = der(0x04, salt) + integer(iterations)
    if prf == "sha256" or explicit_prf:
        params += seq(oid(OID_HMAC_SHA256 if prf == "sha256" else OID_HMAC_SHA1), der(0x05, b""))
    alg = seq(oid(OID_PBES2), seq(seq(oid(OID_PBKDF2), seq(params)),
                                  seq(oid(OID_AES256_CBC), der(0x04, iv))))
    d = seq(alg, der(0x04, ct))
    body = base64.b64encode(d).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN ENCRYPTED PRIVATE KEY-----\r\n" + "\r\n".join(lines) + \
        "\r\n-----END ENCRYPTED PRIVATE KEY-----\r\n"


def pub_pem(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def pem_der(pem):
    body = "".join(l for l in pem.splitlines() if l and not l.startswith("-----"))
    return base64.b64decode(body)


def pbes2_layout(pem):
    """(saltlen, iterations, prf_present, cipher_oid_body, ivlen) of an encrypted key."""
    _, outer, _ = der_read(pem_der(pem))
    (t1, alg), (t2, _ct) = der_children(outer)
    (_, oid_pbes2), (_, params) = der_children(alg)
    (_, kdf), (_, cipher) = der_children(params)
    (_, oid_kdf), (_, kdfp) = der_children(kdf)
    kp = der_children(kdfp)
    (_, coid), (_, iv) = der_children(cipher)
    return (len(kp[0][1]), int.from_bytes(kp[1][1], "big"), len(kp) > 2,
            oid_pbes2 == oid(OID_PBES2)[2:] and oid_kdf == oid(OID_PBKDF2)[2:],
            coid == oid(OID_AES256_CBC)[2:], len(iv))


def oaep(mgf_hash):
    return apad.OAEP(mgf=apad.MGF1(algorithm=mgf_hash), algorithm=hashes.SHA256(), label=None)


def main():
    pw = "pässwörd-1".encode()  # UTF-8 on the way in, as DRACOON writes

    # ---- 1. databox makes, Python and OpenSSL open ----
    r = dbx("keygen", "--version", "A", "--iterations", "2000", "--out", p("k2"), env_pw=pw.decode())
    check("databox keygen --version A exits 0", r.returncode == 0, r.stderr.decode())
    priv2, pub2 = rjson(p("k2.private.json")), rjson(p("k2.public.json"))
    check("keygen A: containers say version A", priv2["version"] == "A" and pub2["version"] == "A")
    check("keygen A: private container written 0600",
          os.stat(p("k2.private.json")).st_mode & 0o777 == 0o600)
    lay = pbes2_layout(priv2["privateKey"])
    check("keygen A: PBES2/PBKDF2, 20-byte salt, 2000 iterations, no PRF element, AES-256-CBC, 16-byte IV",
          lay == (20, 2000, False, True, True, 16), repr(lay))
    try:
        k2 = serialization.load_pem_private_key(priv2["privateKey"].encode(), pw)
        ok("keygen A: Python cryptography decrypts the private key with the UTF-8 password")
    except Exception as e:  # noqa: BLE001
        k2 = None
        fail("keygen A: Python cryptography decrypts the private key", str(e))
    pk2 = serialization.load_pem_public_key(pub2["publicKey"].encode())
    check("keygen A: RSA-2048, e=65537, private matches public",
          k2 is not None and k2.key_size == 2048 and pk2.public_numbers().e == 65537 and
          k2.public_key().public_numbers() == pk2.public_numbers())
    check("keygen A: public key is a BEGIN PUBLIC KEY PEM (SPKI)",
          pub2["publicKey"].startswith("-----BEGIN PUBLIC KEY-----\n"))

    r = dbx("keygen", "--out", p("k4"), password=b"correct horse\n")
    check("databox keygen (default) exits 0", r.returncode == 0, r.stderr.decode())
    priv4, pub4 = rjson(p("k4.private.json")), rjson(p("k4.public.json"))
    lay = pbes2_layout(priv4["privateKey"])
    check("keygen default: version RSA-4096, 1,300,000 iterations, 20-byte salt, no PRF element",
          priv4["version"] == "RSA-4096" and lay == (20, 1300000, False, True, True, 16), repr(lay))
    try:
        k4 = serialization.load_pem_private_key(priv4["privateKey"].encode(), b"correct horse")
        ok("keygen default: Python decrypts it (password file's newline is not part of the password)")
    except Exception as e:  # noqa: BLE001
        k4 = None
        fail("keygen default: Python decrypts it", str(e))
    pk4 = serialization.load_pem_public_key(pub4["publicKey"].encode())
    check("keygen default: RSA-4096 pair", k4 is not None and k4.key_size == 4096 and
          k4.public_key().public_numbers() == pk4.public_numbers())

    if HAVE_OPENSSL:
        with open(p("k2.enc.pem"), "w") as f:
            f.write(priv2["privateKey"])
        with open(p("ossl.pw"), "wb") as f:
            f.write(pw + b"\n")
        r = subprocess.run(["openssl", "pkcs8", "-in", p("k2.enc.pem"), "-passin", "file:" + p("ossl.pw"),
                            "-out", p("k2.plain.pem")], capture_output=True)
        check("keygen A: openssl pkcs8 decrypts the private key", r.returncode == 0, r.stderr.decode())

    # file keys wrapped by databox, opened by Python (and OpenSSL)
    fk = {"version": "A", "key": b64(os.urandom(32)), "iv": b64(os.urandom(12)), "tag": b64(os.urandom(16))}
    wjson("pfk.json", fk)
    for name, pub, priv, ver, mgf, other, b64len in (
            ("A", "k2.public.json", k2, "A", hashes.SHA1(), hashes.SHA256(), 344),
            ("RSA-4096", "k4.public.json", k4, "RSA-4096/AES-256-GCM", hashes.SHA256(), hashes.SHA1(), 684)):
        r = dbx("encrypt-file-key", "--public-key", p(pub), p("pfk.json"))
        check("encrypt-file-key for %s exits 0" % name, r.returncode == 0, r.stderr.decode())
        try:
            efk = json.loads(r.stdout)
        except ValueError:
            fail("encrypt-file-key for %s prints JSON" % name)
            continue
        check("encrypt-file-key for %s: version %s, %d base64 chars, iv and tag copied" % (name, ver, b64len),
              efk["version"] == ver and len(efk["key"]) == b64len and efk["iv"] == fk["iv"] and
              efk["tag"] == fk["tag"] and list(efk) == ["version", "key", "iv", "tag"], repr(efk)[:200])
        wjson("efk_%s.json" % name, efk)
        if priv is None:
            continue
        ct = base64.b64decode(efk["key"])
        try:
            check("Python OAEP(SHA-256, MGF1-%s) unwraps databox's %s file key" % (mgf.name.upper(), name),
                  priv.decrypt(ct, oaep(mgf)) == base64.b64decode(fk["key"]))
        except Exception as e:  # noqa: BLE001
            fail("Python OAEP unwraps databox's %s file key" % name, str(e))
        try:
            priv.decrypt(ct, oaep(other))
            fail("%s file key does not open with the other MGF1 hash" % name)
        except Exception:  # noqa: BLE001
            ok("%s file key does not open with the other MGF1 hash (MGF1-%s)" % (name, other.name.upper()))
    if HAVE_OPENSSL and os.path.exists(p("k2.plain.pem")) and os.path.exists(p("efk_A.json")):
        with open(p("efk_A.bin"), "wb") as f:
            f.write(base64.b64decode(rjson(p("efk_A.json"))["key"]))
        r = subprocess.run(["openssl", "pkeyutl", "-decrypt", "-inkey", p("k2.plain.pem"), "-in", p("efk_A.bin"),
                            "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256",
                            "-pkeyopt", "rsa_mgf1_md:sha1"], capture_output=True)
        check("openssl pkeyutl (oaep sha256, mgf1 sha1) unwraps databox's A file key",
              r.returncode == 0 and r.stdout == base64.b64decode(fk["key"]), r.stderr.decode())

    # files encrypted by databox, opened by Python
    data = os.urandom(700001)  # crosses databox's 256 KiB chunks unevenly
    with open(p("plain.bin"), "wb") as f:
        f.write(data)
    r = dbx("encrypt-file", p("plain.bin"), p("enc.bin"), "--file-key-out", p("efk_file.json"))
    check("encrypt-file exits 0", r.returncode == 0, r.stderr.decode())
    key = rjson(p("efk_file.json"))
    with open(p("enc.bin"), "rb") as f:
        ct = f.read()
    check("encrypt-file: ciphertext exactly as long as the plaintext", len(ct) == len(data))
    check("encrypt-file: file key is version AES-256-GCM with 32-byte key, 12-byte iv, 16-byte tag, 0600",
          key["version"] == "AES-256-GCM" and len(base64.b64decode(key["key"])) == 32 and
          len(base64.b64decode(key["iv"])) == 12 and len(base64.b64decode(key["tag"])) == 16 and
          os.stat(p("efk_file.json")).st_mode & 0o777 == 0o600)
    try:
        pt = AESGCM(base64.b64decode(key["key"])).decrypt(base64.b64decode(key["iv"]),
                                                         ct + base64.b64decode(key["tag"]), None)
        check("Python AES-GCM (tag from the file key, no AAD) decrypts databox's file", pt == data)
    except Exception as e:  # noqa: BLE001
        fail("Python AES-GCM decrypts databox's file", str(e))
    open(p("empty"), "wb").close()
    r = dbx("encrypt-file", p("empty"), p("empty.enc"), "--file-key-out", p("efk_empty.json"))
    ek = rjson(p("efk_empty.json")) if r.returncode == 0 else None
    check("an empty file encrypts to an empty file whose tag Python verifies",
          ek is not None and os.path.getsize(p("empty.enc")) == 0 and
          AESGCM(base64.b64decode(ek["key"])).decrypt(base64.b64decode(ek["iv"]),
                                                     base64.b64decode(ek["tag"]), None) == b"")

    # ---- 2. Python (and OpenSSL) make, databox opens ----
    kA = rsa.generate_private_key(65537, 2048)
    cases = [
        ("A, PBKDF2-HMAC-SHA1, 20-byte salt, 3000 iterations, CRLF PEM", "A", kA,
         pbes2_encrypt(kA, pw, 3000, 20), pw, None, "3000 iterations, 20-byte salt"),
        ("A, explicit hmacWithSHA1 element (C# layout)", "A", kA,
         pbes2_encrypt(kA, pw, 2500, 20, explicit_prf=True), pw, None, "PBKDF2-HMAC-SHA1, 2500"),
        ("A, hmacWithSHA256, 8-byte salt (old dco3 layout)", "A", kA,
         pbes2_encrypt(kA, pw, 2048, 8, prf="sha256"), pw, None, "PBKDF2-HMAC-SHA256, 2048 iterations, 8-byte"),
        ("A, Latin-1 password bytes, 128-byte salt (old forge layout)", "A", kA,
         pbes2_encrypt(kA, "pässwörd-1".encode("latin-1"), 4000, 128), pw, None, "ISO-8859-1"),
        ("A, OpenSSL's own PKCS#8 defaults via cryptography", "A", kA,
         kA.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.BestAvailableEncryption(pw)).decode(), pw, None, "unlocked A"),
    ]
    for name, ver, key_, pem, pwd, _x, expect in cases:
        wjson("py_priv.json", {"version": ver, "privateKey": pem})
        wjson("py_pub.json", {"version": ver, "publicKey": pub_pem(key_)})
        r = dbx("unlock-keypair", "--public-key", p("py_pub.json"), p("py_priv.json"), password=pwd)
        out = r.stdout.decode()
        check("databox unlocks a Python-made key: " + name,
              r.returncode == 0 and expect in out and "matches the public key" in out,
              (out + r.stderr.decode())[:300])
    r = dbx("unlock-keypair", p("py_priv.json"), password=b"not the password")
    check("a Python-made key with a wrong password: exit 65, 'wrong password'",
          r.returncode == 65 and b"wrong password" in r.stderr, r.stderr.decode())

    # a UserKeyPairContainer made in Python, RSA-4096, then a file key wrapped in Python
    k4p = rsa.generate_private_key(65537, 4096)
    wjson("py4.json", {"privateKeyContainer": {"version": "RSA-4096", "privateKey": pbes2_encrypt(k4p, pw, 2000, 20),
                                               "createdAt": "2023-07-23T18:52:20Z", "createdBy": 1, "expireAt": None},
                       "publicKeyContainer": {"version": "RSA-4096", "publicKey": pub_pem(k4p),
                                              "createdAt": "2023-07-23T18:52:20Z", "createdBy": 1, "expireAt": None}})
    wjson("pyA.json", {"privateKeyContainer": {"version": "A", "privateKey": pbes2_encrypt(kA, pw, 2000, 20)},
                       "publicKeyContainer": {"version": "A", "publicKey": pub_pem(kA)}})
    fkey, fiv = os.urandom(32), os.urandom(12)
    pdata = os.urandom(300000) + b"end"
    sealed = AESGCM(fkey).encrypt(fiv, pdata, None)
    fct, ftag = sealed[:-16], sealed[-16:]
    for name, kpf, pk, ver, mgf in (("RSA-4096", "py4.json", k4p, "RSA-4096/AES-256-GCM", hashes.SHA256()),
                                    ("A", "pyA.json", kA, "A", hashes.SHA1())):
        efk = {"version": ver, "key": b64(pk.public_key().encrypt(fkey, oaep(mgf))), "iv": b64(fiv), "tag": b64(ftag)}
        wjson("py_efk.json", efk)
        r = dbx("decrypt-file-key", "--private-key", p(kpf), p("py_efk.json"), password=pw)
        try:
            got = json.loads(r.stdout)
            good = (base64.b64decode(got["key"]) == fkey and got["iv"] == b64(fiv) and got["tag"] == b64(ftag))
        except (ValueError, KeyError):
            good = False
        check("databox unwraps a Python-wrapped %s file key (UserKeyPairContainer with createdAt/By)" % name,
              r.returncode == 0 and good, r.stderr.decode())
    wjson("py_pfk.json", {"version": "AES-256-GCM", "key": b64(fkey), "iv": b64(fiv), "tag": b64(ftag)})
    with open(p("py_enc.bin"), "wb") as f:
        f.write(fct)
    os.mkdir(p("out"))
    r = dbx("decrypt-file", "--file-key", p("py_pfk.json"), p("py_enc.bin"), p("out/py.bin"))
    with open(p("out/py.bin"), "rb") if os.path.exists(p("out/py.bin")) else open(os.devnull, "rb") as f:
        check("databox decrypts a Python AES-GCM file (JS-style plain key version AES-256-GCM)",
              r.returncode == 0 and f.read() == pdata, r.stderr.decode())
    wjson("py_pfk_bad.json", {"version": "AES-256-GCM", "key": b64(fkey), "iv": b64(fiv),
                              "tag": b64(bytes([ftag[0] ^ 1]) + ftag[1:])})
    r = dbx("decrypt-file", "--file-key", p("py_pfk_bad.json"), p("py_enc.bin"), p("out/bad.bin"))
    check("a Python file with a wrong tag: exit 65, no output file, no temporary left",
          r.returncode == 65 and os.listdir(p("out")) == ["py.bin"], r.stderr.decode())

    if HAVE_OPENSSL:
        with open(p("o.pw"), "wb") as f:
            f.write(b"0penssl-pw\n")
        s = subprocess.run("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out %s 2>/dev/null && "
                           "openssl pkcs8 -topk8 -in %s -v2 aes-256-cbc -v2prf hmacWithSHA1 -iter 4096 "
                           "-passout file:%s -out %s && openssl pkey -in %s -pubout -out %s" % (
                               p("o.key"), p("o.key"), p("o.pw"), p("o.enc"), p("o.key"), p("o.pub")),
                           shell=True, capture_output=True)
        if s.returncode != 0:
            fail("openssl makes a PBES2 key", s.stderr.decode())
        else:
            wjson("o.json", {"privateKeyContainer": {"version": "A", "privateKey": open(p("o.enc")).read()},
                             "publicKeyContainer": {"version": "A", "publicKey": open(p("o.pub")).read()}})
            r = dbx("unlock-keypair", p("o.json"), password=b"0penssl-pw")
            check("databox unlocks an openssl pkcs8 -v2 aes-256-cbc -v2prf hmacWithSHA1 key",
                  r.returncode == 0 and b"4096 iterations" in r.stdout, r.stderr.decode())
            with open(p("o.fk"), "wb") as f:
                f.write(fkey)
            e = subprocess.run(["openssl", "pkeyutl", "-encrypt", "-pubin", "-inkey", p("o.pub"), "-in", p("o.fk"),
                                "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256",
                                "-pkeyopt", "rsa_mgf1_md:sha1"], capture_output=True)
            wjson("o_efk.json", {"version": "A", "key": b64(e.stdout), "iv": b64(fiv), "tag": b64(ftag)})
            r = dbx("decrypt-file-key", "--private-key", p("o.json"), p("o_efk.json"), password=b"0penssl-pw")
            try:
                good = base64.b64decode(json.loads(r.stdout)["key"]) == fkey
            except (ValueError, KeyError):
                good = False
            check("databox unwraps an openssl pkeyutl OAEP (sha256, mgf1 sha1) file key", r.returncode == 0 and good,
                  r.stderr.decode())
    else:
        print("skip - openssl oracle checks: openssl not installed")


try:
    main()
finally:
    shutil.rmtree(TMP, ignore_errors=True)
sys.exit(1 if failed() else 0)
