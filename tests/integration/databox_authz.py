#!/usr/bin/python3
"""databox authorization, tested as the attacker over HTTPS against a real server:
an upload share outliving its creator's write role (review item 11.8), an upload begun
through a dead upload share finished through another live one (11.9), a `write` member
moving someone else's file out of a shared room (11.10), a reader publishing a public
download share (11.11). Each check is what the attacker tries; the answer must be a
refusal, and the legitimate variant next to it must still work."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_test import check_no_sanitizer, sanitizer_report  # noqa: E402
from lib_dbx import (Client, add_user, check, crypto, fail, free_port, keygen, make_certs, p, run,  # noqa: E402
                     server_log, start_server, tls_ctx, upload, wait_for, wait_port, write_conf)

PW = {"alice": "alice-login-pw", "bob": "bob-login-pw", "carol": "carol-login-pw"}


def enc_file(name, size, pubs):
    """A fresh ciphertext file and its file key wrapped for each (userId, public key file)."""
    with open(p(name), "wb") as f:
        f.write(os.urandom(size))
    crypto("encrypt-file", p(name), p(name + ".enc"), "--file-key-out", p(name + ".fk"))
    keys = []
    for uid, pub in pubs:
        r = crypto("encrypt-file-key", "--public-key", pub, p(name + ".fk"))
        keys.append({"userId": uid, "fileKey": json.loads(r.stdout)})
    return open(p(name + ".enc"), "rb").read(), keys


def share_upload(anon, link, name, data, keys, link2=None):
    """An anonymous upload through link (chunks and completion through link2 if given)."""
    st, j, _ = anon.req("POST", link, {"name": name})
    if st != 201:
        return st, j
    up = j["uploadId"]
    tail = (link2 or link) + "/" + up
    st, j, _ = anon.req("POST", tail, raw=data, query="?offset=0")
    if st != 200:
        return st, j
    st, j, _ = anon.req("PUT", tail, {"userFileKeyList": {"items": keys}})
    return st, j


def upload_share(cl, target, **kw):
    body = {"targetId": target}
    body.update(kw)
    st, j, _ = cl.req("POST", "/shares/uploads", body)
    return (j["link"][len("/api/v1"):], j["accessKey"]) if st == 201 else (None, None)


def share_id(cl, key):
    st, j, _ = cl.req("GET", "/shares/uploads")
    return [it["id"] for it in j["items"] if it["accessKey"] == key][0]


def main():
    if not make_certs():
        fail("test certificates could be made")
        return
    port = free_port()
    conf = write_conf(port)
    for u in ("alice", "bob", "carol"):
        add_user(conf, u, PW[u])
    start_server(conf)
    if not wait_port(port):
        fail("databox serve listens", server_log()[-500:])
        return
    ctx = tls_ctx()
    cl = {u: Client(port, ctx) for u in PW}
    for u in PW:
        cl[u].login(u, PW[u])
    anon = Client(port, ctx)
    alice, bob, carol = cl["alice"], cl["bob"], cl["carol"]
    kpa = keygen("alice", "A", "alice key pw")
    kpb = keygen("bob", "A", "bob key pw")
    alice.req("POST", "/user/account/keypair", kpa)
    bob.req("POST", "/user/account/keypair", kpb)
    st, room, _ = alice.req("POST", "/nodes/rooms", {"name": "shared"})
    rid = room["id"]
    alice.req("PUT", "/nodes/rooms/%d/encrypt" % rid, {"isEncrypted": True})
    st, _, _ = alice.req("POST", "/nodes/rooms/%d/users" % rid,
                         {"items": [{"userName": "bob", "role": "write"}, {"userName": "carol", "role": "read"}]})
    check("setup: alice's encrypted room with bob (write) and carol (read)", st == 204)
    apub = p("alice.public.json")
    data, keys = enc_file("drop.bin", 5000, [(1, apub)])

    # 11.8: bob's upload share, then bob is demoted to read
    link, key = upload_share(bob, rid)
    link2, key2 = upload_share(bob, rid)
    st, j = share_upload(anon, link, "before.bin", data, keys)
    check("bob's upload share works while bob may write", st == 201, "%r %r" % (st, j))
    st, j, _ = anon.req("POST", link, {"name": "half.bin"})
    half = (j or {}).get("uploadId", "")
    alice.req("POST", "/nodes/rooms/%d/users" % rid, {"items": [{"userName": "bob", "role": "read"}]})
    st1, _, _ = anon.req("GET", link)
    st2, j2 = share_upload(anon, link, "after.bin", data, keys)
    st3, _, _ = anon.req("POST", link + "/" + half, raw=data, query="?offset=0")
    st4, _, _ = anon.req("PUT", link + "/" + half, {"userFileKeyList": {"items": keys}})
    check("after bob's demotion to read his upload share is dead: info, new upload, chunk and completion 404",
          (st1, st2, st3, st4) == (404, 404, 404, 404), "%r %r %r %r %r" % (st1, st2, j2, st3, st4))
    st, lst, _ = alice.req("GET", "/nodes", query="?parent_id=%d" % rid)
    names = [n["name"] for n in lst["items"]]
    check("nothing arrived through it after the demotion", "after.bin" not in names and "half.bin" not in names,
          repr(names))
    alice.req("POST", "/nodes/rooms/%d/users" % rid, {"items": [{"userName": "bob", "role": "write"}]})
    st, j = share_upload(anon, link2, "again.bin", data, keys)
    check("promoted back to write, the share works again (the check is made at every use)", st == 201,
          "%r %r" % (st, j))

    # 11.9: an upload begun through a share that is then cancelled (or expires) cannot be
    # continued or completed through another live share of the same creator
    st, j, _ = anon.req("POST", link, {"name": "stolen.bin"})
    up = j["uploadId"]
    st, _, _ = anon.req("POST", link + "/" + up, raw=data[:1000], query="?offset=0")
    st, _, _ = bob.req("DELETE", "/shares/uploads/%d" % share_id(bob, key))
    check("bob cancels the share an upload was begun through", st == 204)
    st1, j1, _ = anon.req("POST", link2 + "/" + up, raw=data[1000:], query="?offset=1000")
    st2, j2, _ = anon.req("PUT", link2 + "/" + up, {"userFileKeyList": {"items": keys}})
    check("the upload of a cancelled share cannot be continued or completed through bob's other live share: 404",
          st1 == 404 and st2 == 404, "%r %r %r %r" % (st1, j1, st2, j2))
    link3, key3 = upload_share(bob, rid, expireAt=int(time.time()) + 2)
    st, j, _ = anon.req("POST", link3, {"name": "late.bin"})
    up3 = (j or {}).get("uploadId", "")
    st, _, _ = anon.req("POST", link3 + "/" + up3, raw=data[:1000], query="?offset=0")
    check("an upload begins through a share that expires in 2 s", st == 200 and len(up3) == 32)
    wait_for(lambda: anon.req("GET", link3)[0] == 404, secs=10)
    st1, _, _ = anon.req("POST", link3 + "/" + up3, raw=data[1000:], query="?offset=1000")
    st2, _, _ = anon.req("POST", link2 + "/" + up3, raw=data[1000:], query="?offset=1000")
    st3, _, _ = anon.req("PUT", link2 + "/" + up3, {"userFileKeyList": {"items": keys}})
    check("once it expired, neither it nor another live share continues or completes that upload: 404",
          (st1, st2, st3) == (404, 404, 404), "%r %r %r" % (st1, st2, st3))
    st, j, _ = bob.req("POST", "/nodes/files/uploads/" + up3, raw=data[1000:], query="?offset=1000")
    check("nor does bob's own login (the upload belongs to its share)", st == 404, "%r %r" % (st, j))
    st, j = share_upload(anon, link2, "fine.bin", data, keys)
    check("a whole upload through a live share still works", st == 201, "%r %r" % (st, j))

    # 11.10: bob (write) moves alice's file out of the shared room into his own room
    st, node = upload(alice, rid, "alice.bin", p("drop.bin.enc"), keys[0]["fileKey"])
    fid = node["id"]
    st, broom, _ = bob.req("POST", "/nodes/rooms", {"name": "bobs"})
    bob.req("PUT", "/nodes/rooms/%d/encrypt" % broom["id"], {"isEncrypted": True})
    st, j, _ = bob.req("POST", "/nodes/files/%d/move_to" % fid, {"targetId": broom["id"]})
    st2, n2, _ = alice.req("GET", "/nodes/%d" % fid)
    check("a write member cannot move the manager's file out of the room: 403, the file stays",
          st == 403 and st2 == 200 and n2["roomId"] == rid, "%r %r %r" % (st, j, n2))
    st, cp, _ = bob.req("POST", "/nodes/files/%d/copy_to" % fid, {"targetId": broom["id"]})
    st2, n2, _ = alice.req("GET", "/nodes/%d" % fid)
    check("copying it out is allowed and keeps the source", st == 201 and st2 == 200 and n2["roomId"] == rid,
          "%r %r" % (st, cp))
    st, folder, _ = bob.req("POST", "/nodes/folders", {"parentId": rid, "name": "sorted"})
    st, j, _ = bob.req("POST", "/nodes/files/%d/move_to" % fid, {"targetId": folder["id"]})
    check("a write member still moves a file within the room", st == 200 and j["parentId"] == folder["id"], repr(j))
    bdata, bkeys = enc_file("bob.bin", 3000, [(2, p("bob.public.json"))])
    st, bnode = upload(bob, rid, "bob.bin", p("bob.bin.enc"), bkeys[0]["fileKey"])
    st, j, _ = bob.req("POST", "/nodes/files/%d/move_to" % bnode["id"], {"targetId": broom["id"]})
    check("bob moves his own file out of the room", st == 200 and j["roomId"] == broom["id"], repr(j))
    st, j, _ = alice.req("POST", "/nodes/files/%d/move_to" % fid, {"targetId": broom["id"]})
    check("a manager of the source not a member of the target: refused by the target (404/403)",
          st in (403, 404), repr(j))

    # 11.11: carol (read) publishes a public download share of the room's file
    skp = keygen("share", "A", "share pw")
    r = crypto("encrypt-file-key", "--public-key", p("share.public.json"), p("drop.bin.fk"))
    body = {"nodeId": fid, "keyPair": skp, "fileKey": json.loads(r.stdout)}
    st, j, _ = carol.req("POST", "/shares/downloads", body)
    check("a read-only member cannot create a public download share: 403 names the role",
          st == 403 and "write" in j["message"], "%r %r" % (st, j))
    st, j, _ = bob.req("POST", "/shares/downloads", body)
    check("a write member can", st == 201, "%r %r" % (st, j))
    log = server_log()
    check_no_sanitizer("the server logged no sanitizer report", sanitizer_report(log))


run(main)
