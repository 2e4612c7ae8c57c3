#!/usr/bin/python3
"""A TCP forwarder the viewer's resume tests can kill: listens on 127.0.0.1:LPORT and
pipes every connection to 127.0.0.1:TPORT. One process and one select loop, so SIGKILL
drops every link at once (both sides see the close) and SIGSTOP freezes them all while
the sockets stay open (a silently dead path). SIGUSR1 freezes only the links open now
(kept open, nothing passes, nothing is closed) and goes on forwarding new ones: a path
that broke silently while a new one works (a Wi-Fi change, a NAT rebind)."""
import select
import signal
import socket
import sys


def main():
    lport, tport = int(sys.argv[1]), int(sys.argv[2])
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", lport))
    ls.listen(16)
    peer = {}
    frozen = []  # sockets of frozen links: referenced so they stay open, never read

    def freeze(signum, frame):
        frozen.extend(peer)
        peer.clear()
    signal.signal(signal.SIGUSR1, freeze)
    while True:
        try:
            r, _, _ = select.select([ls] + list(peer), [], [])
        except InterruptedError:
            continue
        for s in r:
            if s is ls:
                a, _ = ls.accept()
                try:
                    b = socket.create_connection(("127.0.0.1", tport))
                except OSError:
                    a.close()
                    continue
                peer[a], peer[b] = b, a
                continue
            if s not in peer:
                continue
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            o = peer[s]
            if data:
                try:
                    o.sendall(data)  # blocking: backpressure passes through
                    continue
                except OSError:
                    pass
            for x in (s, o):
                peer.pop(x, None)
                x.close()


if __name__ == "__main__":
    main()
