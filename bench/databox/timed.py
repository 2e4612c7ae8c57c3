#!/usr/bin/python3
"""bench/databox/timed.py - the databox benchmark's stopwatch.

A timed row must time the transfer and nothing of the harness. Until 2026-12-04 three
of the four databox rows did not: `databox upload` and `databox download` ran under a
python3 wrapper (for the peak RSS) started inside the timer, and the curl chunk row
parsed the create reply with python3, ran sixteen `stat`s and started three curl
processes inside it, while nginx's rows timed one curl. On this VM /usr/bin/python3
takes 20-40 ms to start and a curl process 10-60 ms, against 0.35-0.5 s for the
256 MiB transfer itself. Now:
- curl's rows (nginx's PUT and GET, the curl download) are curl's own `time_total`
  (-w), in the shell;
- the chunk row is the sum of the `time_total`s of its requests: create, every chunk,
  complete (one connection for the chunks, as one curl's PUT is one);
- the databox client's rows time its whole process (start, login state, key unlock
  and all), here, from a process started before the clock.

  timed.py run CMD [ARG...]
      runs CMD (stdout to /dev/null) and prints "SECONDS PEAK_RSS_KIB"
  timed.py chunks API AUTH_HEADER CACERT ROOM_ID NAME CHUNK_FILE...
      the chunk API the way a client without databox uses it: create the upload, POST
      every chunk file in order (streamed from the file, as nginx's PUT is), complete
      it; prints "SECONDS", the requests' summed time_total
Exits 1 with a line on stderr when a child fails.
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time


def fail(msg):
    sys.stderr.write("timed.py: %s\n" % msg)
    sys.exit(1)


def run(argv):
    t0 = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.DEVNULL)
    t1 = time.perf_counter()
    if r.returncode != 0:
        fail("%s exited %d" % (argv[0], r.returncode))
    print("%.6f %d" % (t1 - t0, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))


def curl_time(out):
    """the time_total lines curl's -w wrote, summed"""
    try:
        return sum(float(x) for x in out.split())
    except ValueError:
        fail("curl -w said %r" % out[:200])


def chunks(api, auth, cacert, room, name, files):
    sizes = [os.path.getsize(f) for f in files]
    base = ["curl", "-s", "-S", "-f", "--cacert", cacert, "-H", auth, "-w", "%{time_total}\\n"]
    fd, body = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    fd, cfg = tempfile.mkstemp(suffix=".cfg")
    os.close(fd)
    try:
        r = subprocess.run(base + ["-o", body, "-d", json.dumps({"parentId": int(room), "name": name}),
                                   api + "/nodes/files/uploads"], stdout=subprocess.PIPE, text=True)
        spent = curl_time(r.stdout)
        try:
            with open(body) as f:
                up = json.load(f)["uploadId"]
        except (OSError, ValueError, KeyError):
            fail("the create failed (curl exited %d)" % r.returncode)
        lines = []
        off = 0
        for f, n in zip(files, sizes):
            if lines:
                lines.append("next")
            lines += ['url = "%s/nodes/files/uploads/%s?offset=%d"' % (api, up, off),
                      'upload-file = "%s"' % f, 'request = "POST"', 'header = "Expect:"',
                      "output = /dev/null", 'cacert = "%s"' % cacert, 'header = "%s"' % auth,
                      'header = "Content-Type: application/octet-stream"',
                      "silent", "show-error", "fail", 'write-out = "%{time_total}\\n"']
            off += n
        with open(cfg, "w") as c:
            c.write("\n".join(lines) + "\n")
        r = subprocess.run(["curl", "-K", cfg], stdout=subprocess.PIPE, text=True)
        if r.returncode != 0:
            fail("curl -K (the chunks) exited %d" % r.returncode)
        spent += curl_time(r.stdout)
        r = subprocess.run(base + ["-o", "/dev/null", "-X", "PUT", "-d", "{}",
                                   api + "/nodes/files/uploads/" + up], stdout=subprocess.PIPE, text=True)
        if r.returncode != 0:
            fail("the complete exited %d" % r.returncode)
        spent += curl_time(r.stdout)
    finally:
        for path in (body, cfg):
            os.unlink(path)
    print("%.6f" % spent)


def main():
    a = sys.argv[1:]
    if len(a) >= 2 and a[0] == "run":
        run(a[1:])
    elif len(a) >= 7 and a[0] == "chunks":
        chunks(a[1], a[2], a[3], a[4], a[5], a[6:])
    else:
        fail("usage: timed.py run CMD... | chunks API AUTH CACERT ROOM NAME CHUNK...")


if __name__ == "__main__":
    main()
