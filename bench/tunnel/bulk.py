"""bulk.py - the tunnel benches' bulk figure: master -> client DATA frames of 64 KiB through
a relay, as fast as the relay forwards them (plaintext test payload: the relay's own cost)."""
import os
import threading
import time

from tunnel_client import T, encode


class Sock:
    """A plain socket where bulk() wants a connection (the socat comparison)."""

    def __init__(self, s):
        self.s = s
        self.id = 2


def bulk(m, c, mb):
    """Sends mb MiB from master connection m to client connection c (joined, id 2): the
    bytes received and the seconds it took."""
    payload = os.urandom(65536 - 64)
    nframes = mb * 1024 * 1024 // len(payload)
    frames = b"".join(encode(T["DATA"], 1, getattr(c, "id", None) or 2, payload, seq=i + 2)
                      for i in range(16))
    got = [0]
    want = nframes // 16 * len(frames)

    def sink():
        c.s.settimeout(30)
        n = 0
        while n < want:
            d = c.s.recv(1 << 20)
            if not d:
                break
            n += len(d)
        got[0] = n

    th = threading.Thread(target=sink)
    t0 = time.time()
    th.start()
    for _ in range(nframes // 16):
        m.s.sendall(frames)
    th.join()
    return got[0], time.time() - t0
