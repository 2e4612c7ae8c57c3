#!/bin/sh
# mkcerts.sh - makes the test PKI with the OpenSSL CLI into build/test-certs (once):
#   ca.pem/ca.key             test root
#   server.pem/server.key     CN=localhost, SAN localhost, 127.0.0.1, ::1
#   sni-a.pem/sni-a.key       CN=a.test, SAN a.test    (SNI selection)
#   sni-b.pem/sni-b.key       CN=b.test, SAN b.test, *.b.test
#   client.pem/client.key     CN=test-client           (client certificates)
#   expired.pem/expired.key   CN=localhost, validity in the past
#   other-ca.pem              an unrelated root (verify must fail against it)
# Keys are generated here, at test time; none is committed.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
d=$top/build/test-certs
[ -f "$d/.done" ] && exit 0
mkdir -p "$d"
cd "$d"
umask 077
o() { openssl "$@" 2>/dev/null; }
o req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 -subj "/CN=sealbox test CA" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
o req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 3650 -subj "/CN=other CA" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
leaf() { # name subject san [days-args]
	o req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2"
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n' "$3" >"$1.ext"
	shift 3
	o x509 -req -in "${name}.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "${name}.pem" \
		-extfile "${name}.ext" "$@"
}
name=server; leaf server "/CN=localhost" "DNS:localhost,IP:127.0.0.1,IP:::1" -days 3650
name=sni-a; leaf sni-a "/CN=a.test" "DNS:a.test" -days 3650
name=sni-b; leaf sni-b "/CN=b.test" "DNS:b.test,DNS:*.b.test" -days 3650
name=client; leaf client "/CN=test-client" "DNS:test-client" -days 3650
# An expired certificate (OpenSSL 3.0's CLI cannot back-date, so Python's cryptography).
/usr/bin/python3 - <<'PY'
import datetime
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
ca_key = serialization.load_pem_private_key(open("ca.key", "rb").read(), None)
ca = x509.load_pem_x509_certificate(open("ca.pem", "rb").read())
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime(2020, 1, 1)).not_valid_after(datetime.datetime(2020, 2, 1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
        .sign(ca_key, hashes.SHA256()))
open("expired.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
open("expired.key", "wb").write(key.private_bytes(serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
PY
chmod 0644 ./*.pem
rm -f ./*.csr ./*.ext ./*.srl
touch .done
