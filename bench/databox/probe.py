#!/usr/bin/python3
"""probe.py PORT CA TOKEN STOPFILE: a second client's small request (GET
/api/v1/user/account on one kept-alive HTTPS connection) over and over until STOPFILE
exists; prints its median and worst latency in ms. Run beside a large upload, it shows
whether the server's loop stalls while chunks complete (fdatasync, SQLite commit)."""
import http.client, os, ssl, sys, time

port, ca, token, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
c = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=60)
lat = []
while not os.path.exists(stop):
    t0 = time.monotonic()
    c.request("GET", "/api/v1/user/account", headers={"Authorization": "Bearer " + token})
    r = c.getresponse()
    r.read()
    lat.append((time.monotonic() - t0) * 1000)
    time.sleep(0.005)
lat.sort()
if lat:
    print("%d requests, median %.1f ms, worst %.1f ms" % (len(lat), lat[len(lat) // 2], lat[-1]))
else:
    print("no requests")
