#!/usr/bin/python3
"""databox serve on loopback (HTTPS with the test CA), two users, an encrypted room.
The client side is Python's http.client (and curl for a download) for HTTP, and
`databox crypto` for every key and file operation, so all crypto is databox's while
the HTTP peer is independent. Checks what a user sees: status codes, messages, bytes.
Then a scan of the whole server state for plaintext and unwrapped key bytes, and a
kill -9 in the middle of an upload."""
import base64
import json
import os
import shutil
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_test import check_no_sanitizer, sanitizer_report  # noqa: E402
from lib_dbx import (CERTS, SEALBOX, Client, add_user, check, crypto, fail, free_port, keygen, make_certs,  # noqa: E402
                     p, run, server_log, srv_kill, start_server, tls_ctx, upload, wait_port, wjson, write_conf)


def distribute(cl, kpname, pw, scope):
    """What `databox distribute` does: unwrap each missing file's key with our key and
    wrap it for every listed user's public key."""
    st, mk, _ = cl.req("GET", "/nodes/missingFileKeys", query=scope)
    if st != 200:
        return st, mk, 0
    files = {f["id"]: f["fileKeyContainer"] for f in mk["files"]}
    users = {}
    for u in mk["users"]:
        users.setdefault(u["id"], []).append(u["publicKeyContainer"])
    items = []
    for it in mk["items"]:
        r = crypto("decrypt-file-key", "--private-key", p(kpname + ".private.json"),
                   wjson("mk_enc.json", files[it["fileId"]]), pw=pw)
        if r.returncode != 0:
            return -1, r.stderr.decode(), 0
        wjson("mk_plain.json", json.loads(r.stdout))
        for pub in users[it["userId"]]:
            r = crypto("encrypt-file-key", "--public-key", wjson("mk_pub.json", pub), p("mk_plain.json"))
            items.append({"userId": it["userId"], "fileId": it["fileId"], "fileKey": json.loads(r.stdout)})
    os.unlink(p("mk_plain.json"))
    st, j, _ = cl.req("POST", "/nodes/files/keys", {"items": items})
    return st, j, len(items)


def fetch_and_decrypt(cl, port, node, kpname, pw, out):
    st, fk, _ = cl.req("GET", "/nodes/files/%d/user_file_key" % node)
    if st != 200:
        return "user_file_key: %d %s" % (st, fk)
    r = crypto("decrypt-file-key", "--private-key", p(kpname + ".private.json"), "--out", p(kpname + ".fk.json"),
               wjson(kpname + ".efk.json", fk), pw=pw)
    if r.returncode != 0:
        return "decrypt-file-key: " + r.stderr.decode()
    c = subprocess.run(["curl", "-sS", "-f", "--cacert", os.path.join(CERTS, "ca.pem"), "-H",
                        "Authorization: Bearer " + cl.token, "-o", p(kpname + ".dl"),
                        "https://localhost:%d/api/v1/nodes/files/%d/downloads" % (port, node)],
                       capture_output=True)
    if c.returncode != 0:
        return "curl: " + c.stderr.decode()
    r = crypto("decrypt-file", "--file-key", p(kpname + ".fk.json"), p(kpname + ".dl"), out)
    os.unlink(p(kpname + ".fk.json"))
    return None if r.returncode == 0 else "decrypt-file: " + r.stderr.decode()


def main():
    if not make_certs():
        fail("test certificates could be made")
        return
    if not shutil.which("curl"):
        print("skip - databox server: curl not installed")
        return
    port = free_port()
    conf = write_conf(port)
    for u, pw in (("alice", "alice-login-pw"), ("bob", "bob-login-pw"), ("carol", "carol-login-pw")):
        r = add_user(conf, u, pw)
        check("databox admin user add " + u, r.returncode == 0 and b"added" in r.stdout, r.stderr.decode())
    r = subprocess.run([SEALBOX, "databox", "admin", "-c", conf, "user", "add", "alice", "--password-file",
                        p("alice.login")], capture_output=True)
    check("adding alice twice: exit 65, 'exists already'", r.returncode == 65 and b"exists already" in r.stderr)

    srv = start_server(conf)
    if not wait_port(port):
        fail("databox serve listens", open(p("server.log")).read()[-500:])
        return
    ctx = tls_ctx()
    alice, bob, anon = Client(port, ctx), Client(port, ctx), Client(port, ctx)

    st, j, _ = anon.req("GET", "/user/account")
    check("no token: 401", st == 401)
    st, j, _ = anon.req("POST", "/auth/login", {"userName": "alice", "password": "alice-login-pw"})
    check("alice logs in over HTTPS, gets a bearer token", st == 200 and len(j.get("token", "")) == 64, repr(j))
    alice.token = j and j.get("token")
    st, j, _ = anon.req("POST", "/auth/login", {"userName": "bob", "password": "bob-login-pw"})
    bob.token = j and j.get("token")
    st, j, _ = anon.req("POST", "/auth/login", {"userName": "bob", "password": "nope"})
    check("wrong login password: 401 with a message", st == 401 and "wrong user name or password" in j["message"])
    for _ in range(3):
        anon.req("POST", "/auth/login", {"userName": "mallory", "password": "x"})
    st, j, _ = anon.req("POST", "/auth/login", {"userName": "mallory", "password": "x"})
    check("failed logins are rate limited: 429", st == 429, "%d %r" % (st, j))
    st, j, _ = anon.req("POST", "/auth/login", {"userName": "mallory", "password": "x"})
    st2, j2, _ = anon.req("POST", "/auth/login", {"userName": "alice", "password": "alice-login-pw"})
    check("the lockout is per user name: alice still logs in from the same address", st == 429 and st2 == 200)
    st, j, _ = alice.req("GET", "/user/account")
    check("alice's account, no key pair yet", st == 200 and j["userName"] == "alice" and not j["isEncryptionEnabled"])

    # key pairs: the server takes only encrypted private keys
    kpa = keygen("alice", "A", "alice key pw")
    kpb = keygen("bob", "RSA-4096", "bob key pw")
    plain = {"privateKeyContainer": {"version": "A", "privateKey": "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"},
             "publicKeyContainer": kpa["publicKeyContainer"]}
    st, j, _ = alice.req("POST", "/user/account/keypair", plain)
    check("a plain private key is refused: 400, says the server never stores one", st == 400 and "never stores" in j["message"])
    st, _, _ = alice.req("POST", "/user/account/keypair", kpa)
    check("alice stores her key pair container", st == 204)
    st, _, _ = bob.req("POST", "/user/account/keypair", kpb)
    check("bob stores his RSA-4096 key pair container", st == 204)
    st, j, _ = alice.req("GET", "/user/account/keypair")
    check("the key pair comes back as stored", st == 200 and j == kpa)

    # room
    st, room, _ = alice.req("POST", "/nodes/rooms", {"name": "secret-room"})
    check("alice creates a room (manager)", st == 201 and room["role"] == "manage")
    rid = room["id"]
    st, j, _ = alice.req("PUT", "/nodes/rooms/%d/encrypt" % rid, {"isEncrypted": True})
    check("the empty room becomes encrypted", st == 200 and j["isEncrypted"])
    st, j, _ = bob.req("PUT", "/nodes/rooms/%d/encrypt" % rid, {"isEncrypted": False})
    check("a non-member cannot change it", st in (403, 404))
    st, j, _ = alice.req("POST", "/nodes/rooms/%d/users" % rid, {"items": [{"userName": "bob", "role": "read"}]})
    check("alice adds bob as a reader", st == 204)
    st, plainroom, _ = alice.req("POST", "/nodes/rooms", {"name": "plain-room"})

    # upload
    data = os.urandom(250000) + b"the secret plaintext marker 0123456789"
    with open(p("doc.bin"), "wb") as f:
        f.write(data)
    r = crypto("encrypt-file", p("doc.bin"), p("doc.enc"), "--file-key-out", p("doc.fk.json"))
    fk_plain = json.load(open(p("doc.fk.json")))
    r = crypto("encrypt-file-key", "--public-key", p("alice.public.json"), p("doc.fk.json"))
    fk_alice = json.loads(r.stdout)
    st, j, _ = alice.req("POST", "/nodes/files/uploads", {"parentId": rid, "name": "huge", "size": 61 * 2**30})
    check("a file over 60 GiB is refused up front: 413", st == 413 and "60 GiB" in j["message"], repr(j))
    st, j = upload(alice, rid, "doc.bin", p("doc.enc"), None)
    check("completing an upload into an encrypted room without fileKey: 400", st == 400 and "fileKey" in j["message"], repr(j))
    st, node = upload(alice, rid, "doc.bin", p("doc.enc"), fk_alice)
    check("alice uploads the encrypted file in 3 chunks", st == 201 and node["size"] == len(data), repr(node))
    nid = node["id"] if st == 201 else 0
    st, j, _ = alice.req("PUT", "/nodes/rooms/%d/encrypt" % rid, {"isEncrypted": False})
    check("a room with files cannot change encryption: 409, says why", st == 409 and "only while it is empty" in j["message"])
    st, j, _ = alice.req("POST", "/nodes/files/%d/copy_to" % nid, {"targetId": plainroom["id"]})
    check("copy from an encrypted to an unencrypted room is refused with a clear error",
          st == 400 and "between an encrypted and an unencrypted room" in j["message"], repr(j))
    st, j, _ = alice.req("POST", "/nodes/files/%d/move_to" % nid, {"targetId": plainroom["id"]})
    check("move likewise", st == 400 and "move" in j["message"])
    st, room2, _ = alice.req("POST", "/nodes/rooms", {"name": "second-secret"})
    alice.req("PUT", "/nodes/rooms/%d/encrypt" % room2["id"], {"isEncrypted": True})
    st, cp, _ = alice.req("POST", "/nodes/files/%d/copy_to" % nid, {"targetId": room2["id"]})
    st2, cfk, _ = alice.req("GET", "/nodes/files/%d/user_file_key" % (cp["id"] if st == 201 else 0))
    check("encrypted to encrypted copy is allowed and carries the copier's file key",
          st == 201 and cp["isEncrypted"] and st2 == 200 and cfk == fk_alice, "%r %r" % (cp, cfk))

    # bob has no key yet; alice distributes
    st, j, _ = bob.req("GET", "/nodes/files/%d/user_file_key" % nid)
    check("bob has no file key before distribution: 404", st == 404)
    st, mk, _ = alice.req("GET", "/nodes/missingFileKeys", query="?room_id=%d" % rid)
    check("missingFileKeys lists bob for the file, with his public key and alice's wrapped key",
          st == 200 and mk["range"]["total"] == 1 and mk["items"] == [{"userId": 2, "fileId": nid}] and
          mk["users"][0]["publicKeyContainer"]["version"] == "RSA-4096" and mk["files"][0]["fileKeyContainer"] == fk_alice,
          repr(mk)[:300])
    st, j, n = distribute(alice, "alice", "alice key pw", "?room_id=%d" % rid)
    check("alice distributes the key to bob", st == 204 and n == 1, "%r %r" % (st, j))
    st, mk, _ = alice.req("GET", "/nodes/missingFileKeys", query="?room_id=%d" % rid)
    check("nothing is missing afterwards", st == 200 and mk["range"]["total"] == 0)
    err = fetch_and_decrypt(bob, port, nid, "bob", "bob key pw", p("bob.out"))
    check("bob downloads (curl) and decrypts the file byte-exact", err is None and open(p("bob.out"), "rb").read() == data, err or "")

    # password loss: a new key pair, his keys are gone, alice distributes again
    st, _, _ = bob.req("DELETE", "/user/account/keypair")
    check("bob resets his key pair", st == 204)
    st, _, _ = bob.req("GET", "/nodes/files/%d/user_file_key" % nid)
    check("his wrapped file keys went with it", st == 404)
    kpb2 = keygen("bob2", "RSA-4096", "bob new pw")
    st, _, _ = bob.req("POST", "/user/account/keypair", kpb2)
    st, j, n = distribute(alice, "alice", "alice key pw", "?file_id=%d" % nid)
    check("alice re-distributes for bob's new key", st == 204 and n == 1)
    err = fetch_and_decrypt(bob, port, nid, "bob2", "bob new pw", p("bob2.out"))
    check("bob reads the file again with his new key pair", err is None and open(p("bob2.out"), "rb").read() == data, err or "")
    st, j, _ = bob.req("POST", "/nodes/files/keys", {"items": [{"userId": 1, "fileId": nid, "fileKey": fk_alice}]})
    check("a reader cannot overwrite keys (existing keys are ignored)", st == 204)
    st, j, _ = alice.req("GET", "/nodes/files/%d/user_file_key" % nid)
    check("alice's key is unchanged", st == 200 and j == fk_alice)

    # listing and cancelling an upload share: its creator or a room manager, no one else
    st, j, _ = alice.req("POST", "/shares/uploads", {"targetId": rid, "maxUploads": 3})
    check("alice creates an upload share", st == 201, repr(j))
    link = "/api/v1/public/shares/uploads/" + j["accessKey"]
    st, lst, _ = alice.req("GET", "/shares/uploads")
    mine = [it for it in (lst or {}).get("items", []) if it["accessKey"] == j["accessKey"]]
    check("GET /shares/uploads lists it with id, target, uses, limit, creator and link",
          st == 200 and len(mine) == 1 and mine[0]["targetId"] == rid and mine[0]["uploads"] == 0 and
          mine[0]["maxUploads"] == 3 and mine[0]["createdBy"] == "alice" and mine[0]["link"] == link and
          "expireAt" not in mine[0], repr(lst))
    sid = mine[0]["id"] if mine else 0
    carol = Client(port, ctx)
    st, j2, _ = anon.req("POST", "/auth/login", {"userName": "carol", "password": "carol-login-pw"})
    carol.token = j2 and j2.get("token")
    st, j2, _ = carol.req("GET", "/shares/uploads")
    st2, j3, _ = bob.req("GET", "/shares/uploads")
    check("someone else's shares are listed neither to a non-member nor to a reader",
          st == 200 and j2["items"] == [] and st2 == 200 and j3["items"] == [], "%r %r" % (j2, j3))
    st, j2, _ = carol.req("DELETE", "/shares/uploads/%d" % sid)
    check("a non-member cannot cancel it, nor learn it exists: 404", st == 404 and "no such upload share" in j2["message"])
    st, j2, _ = bob.req("DELETE", "/shares/uploads/%d" % sid)
    check("a reader cannot cancel it: 403 names who may", st == 403 and "creator or a room manager" in j2["message"])
    st, j2, _ = anon.req("POST", link[len("/api/v1"):], {"name": "late.bin"})
    up = (j2 or {}).get("uploadId", "")
    st, _, _ = alice.req("DELETE", "/shares/uploads/%d" % sid)
    st2, _, _ = anon.req("GET", link[len("/api/v1"):])
    st3, _, _ = anon.req("POST", link[len("/api/v1"):] + "/" + up, raw=b"z", query="?offset=0")
    check("the manager cancels it: the link and an upload begun through it answer 404",
          st == 204 and st2 == 404 and st3 == 404 and len(up) == 32, "%r %r %r %r" % (st, st2, st3, up))
    st, _, _ = alice.req("DELETE", "/shares/uploads/%d" % sid)
    st2, j2, _ = alice.req("GET", "/shares/uploads")
    check("cancelled means gone: 404 again, no longer listed", st == 404 and st2 == 200 and j2["items"] == [])

    # the scan: plaintext, the raw file key, its base64 and the key passwords appear nowhere
    srv_kill(srv, 15)
    key = base64.b64decode(fk_plain["key"])
    needles = {"plaintext": data[:64], "plaintext marker": b"the secret plaintext marker",
               "raw file key": key, "base64 file key": fk_plain["key"].encode(),
               "key password": b"alice key pw", "login password": b"alice-login-pw"}
    found = []
    for root, _, files in os.walk(p("state")):
        for fn in files:
            b = open(os.path.join(root, fn), "rb").read()
            for what, needle in needles.items():
                if needle in b:
                    found.append("%s in %s" % (what, fn))
    check("the server's whole state (db, WAL, blobs) holds no plaintext, file key, or password", not found, ", ".join(found))
    blob = open(os.path.join(p("state"), "blobs", str(nid)), "rb").read()
    check("the stored blob is the ciphertext, byte for byte", blob == open(p("doc.enc"), "rb").read())

    # kill -9 in the middle of an upload
    srv = start_server(conf)
    wait_port(port)
    st, j, _ = alice.req("POST", "/nodes/files/uploads", {"parentId": rid, "name": "half.bin"})
    up = j["uploadId"]
    st, j, _ = alice.req("POST", "/nodes/files/uploads/" + up, raw=b"x" * 50000, query="?offset=0")
    srv_kill(srv, 9)
    srv = start_server(conf)
    check("the server restarts after kill -9", wait_port(port))
    st, j, _ = alice.req("GET", "/nodes", query="?parent_id=%d" % rid)
    check("after kill -9 mid-upload no half file is visible", st == 200 and [n["name"] for n in j["items"]] == ["doc.bin"], repr(j))
    db = sqlite3.connect(os.path.join(p("state"), "databox.db"))
    check("the database passes integrity_check", db.execute("PRAGMA integrity_check").fetchone()[0] == "ok")
    db.close()
    st, j, _ = alice.req("POST", "/nodes/files/uploads/" + up, raw=b"y", query="?offset=0")
    check("the interrupted upload resumes only at its durable offset (409 names it)",
          st == 409 and "offset must be 50000" in j["message"], repr(j))
    st, j, _ = alice.req("POST", "/nodes/files/uploads/" + up, raw=b"y" * 10, query="?offset=50000")
    check("and continues from there", st == 200 and j["received"] == 50010)
    srv_kill(srv, 15)
    log = server_log()
    check_no_sanitizer("the server logged no sanitizer report", sanitizer_report(log))


run(main)
