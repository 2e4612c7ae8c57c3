"""lib_dbx.py - what databox's Python server tests share: TAP-style checks, a temporary
directory, loopback ports, a `databox serve` over HTTPS with the test CA, users, an
http.client-based API client, and `databox crypto` for every key and file operation."""
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_test import ok, fail, check, skip, failed, free_port, wait_port  # noqa: E402,F401
import lib_test  # noqa: E402

SEALBOX = os.environ["SEALBOX"]
TOP = os.environ.get("TOP", os.path.join(os.path.dirname(__file__), "..", ".."))
CERTS = os.path.join(TOP, "build", "test-certs")
T = tempfile.mkdtemp(prefix="sealbox-dbxtest.")
procs = []


def p(n):
    return os.path.join(T, n)


def wait_for(cond, secs=20, step=0.1):
    """lib_test.wait_for with databox's longer default."""
    return lib_test.wait_for(cond, secs, step)


def crypto(*args, pw=None):
    env = dict(os.environ)
    env.pop("DATABOX_PASSWORD", None)
    if pw is not None:
        env["DATABOX_PASSWORD"] = pw
    return subprocess.run([SEALBOX, "databox", "crypto"] + list(args), capture_output=True, env=env,
                          stdin=subprocess.DEVNULL)


class Client:
    def __init__(self, port, ctx):
        self.port, self.ctx, self.token = port, ctx, None

    def req(self, method, path, body=None, raw=None, query=""):
        c = http.client.HTTPSConnection("localhost", self.port, context=self.ctx, timeout=20)
        h = {}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        c.request(method, "/api/v1" + path + query, body=data, headers=h)
        r = c.getresponse()
        out = r.read()
        c.close()
        try:
            j = json.loads(out) if out else None
        except ValueError:
            j = None
        return r.status, j, out

    def login(self, name, pw):
        st, j, _ = self.req("POST", "/auth/login", {"userName": name, "password": pw})
        self.token = j.get("token") if st == 200 and j else None
        return st


def make_certs():
    return subprocess.run(["sh", os.path.join(TOP, "tests", "data", "mkcerts.sh")],
                          capture_output=True).returncode == 0


def tls_ctx():
    return ssl.create_default_context(cafile=os.path.join(CERTS, "ca.pem"))


def write_conf(port, extra=""):
    conf = p("databox.ini")
    with open(conf, "w") as f:
        f.write("[databox]\nlisten = 127.0.0.1:%d\ntls_cert = %s/server.pem\ntls_key = %s/server.key\n"
                "state_dir = %s/state\npassword_iterations = 1000\nlogin_max_failures = 3\n"
                "%s" % (port, CERTS, CERTS, T, extra if "max_chunk" in extra else "max_chunk = 1M\n" + extra))
    return conf


def add_user(conf, name, pw):
    with open(p(name + ".login"), "w") as f:
        f.write(pw + "\n")
    return subprocess.run([SEALBOX, "databox", "admin", "-c", conf, "user", "add", name, "--password-file",
                           p(name + ".login")], capture_output=True)


def start_server(conf, preexec=None, env=None):
    log = open(p("server.log"), "ab")
    pr = subprocess.Popen([SEALBOX, "databox", "serve", "-d", "-c", conf], stdout=log, stderr=log,
                          preexec_fn=preexec, env=env)
    procs.append(pr)
    return pr


def srv_kill(pr, sig):
    try:
        os.kill(pr.pid, sig)
        pr.wait(5)
    except (OSError, subprocess.TimeoutExpired):
        pass


def server_log():
    return open(p("server.log"), errors="replace").read()


def rss_kb(pid):
    """VmRSS of process pid in KiB, -1 if /proc does not say"""
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def serve_alice(extra=""):
    """A server with write_conf(extra) and the user alice logged in, with the checks a
    scenario starts with: (port, server process, alice's Client), or None after a failed
    check."""
    if not make_certs():
        fail("test certificates could be made")
        return None
    pw = "alice-login-pw"
    port = free_port()
    conf = write_conf(port, extra)
    add_user(conf, "alice", pw)
    srv = start_server(conf)
    if not wait_port(port):
        fail("databox serve listens", server_log()[-500:])
        return None
    cl = Client(port, tls_ctx())
    check("alice logs in", cl.login("alice", pw) == 200)
    return port, srv, cl


def upload(cl, parent, name, encfile, fk_json, chunk=100000):
    st, j, _ = cl.req("POST", "/nodes/files/uploads", {"parentId": parent, "name": name})
    if st != 201:
        return st, j
    uid = j["uploadId"]
    data = open(encfile, "rb").read()
    off = 0
    while True:
        part = data[off:off + chunk]
        st, j, _ = cl.req("POST", "/nodes/files/uploads/" + uid, raw=part, query="?offset=%d" % off)
        if st != 200:
            return st, j
        off += len(part)
        if off >= len(data):
            break
    body = {"fileKey": fk_json} if fk_json is not None else {}
    st, j, _ = cl.req("PUT", "/nodes/files/uploads/" + uid, body)
    return st, j


def keygen(name, version, pw):
    r = crypto("keygen", "--version", version, "--iterations", "1000", "--out", p(name), pw=pw)
    if r.returncode != 0:
        return None
    return {"privateKeyContainer": json.load(open(p(name + ".private.json"))),
            "publicKeyContainer": json.load(open(p(name + ".public.json")))}


def wjson(name, obj):
    with open(p(name), "w") as f:
        json.dump(obj, f)
    return p(name)


def run(main):
    """Runs main(); a crash is a failure with its reason; stops the servers, removes T and
    exits 1 if any check failed."""
    try:
        main()
    except Exception as e:  # noqa: BLE001
        import traceback
        traceback.print_exc()
        fail("scenario ran to the end", repr(e))
    finally:
        for pr in procs:
            if pr.poll() is None:
                pr.kill()
                pr.wait()
        shutil.rmtree(T, ignore_errors=True)
    sys.exit(1 if failed() else 0)


def build_sync_shim():
    """Builds tests/integration/shim/slow_sync.c (LD_PRELOAD: slow or failing syncs) into
    the test's directory; its path, or None after a failed check."""
    shim = p("slow_sync.so")
    cc = subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", shim,
                         os.path.join(TOP, "tests", "integration", "shim", "slow_sync.c"), "-ldl"],
                        capture_output=True)
    if not check("the slow-sync shim builds", cc.returncode == 0, cc.stderr.decode(errors="replace")):
        return None
    return shim
