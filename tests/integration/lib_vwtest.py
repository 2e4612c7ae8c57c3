"""lib_vwtest.py - what the viewer's Python tests (viewer_sas, viewer_shell,
viewer_interop) share: TAP-style checks, loopback ports, and a run() that turns a crash
into a failure and always stops the processes the test started."""
import socket
import subprocess
import sys
import time

procs = []  # started processes (subprocess.Popen): stopped by run() whatever happens
failed = 0


def ok(cond, name):
    global failed
    print(("ok - " if cond else "not ok - ") + name, flush=True)
    if not cond:
        failed += 1


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, tries=200):
    for _ in range(tries):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def run(name, main, tmp):
    """Runs main(), stops procs, removes tmp and exits 1 if any check failed."""
    global failed
    try:
        main()
    except Exception as e:  # a crash must be a failure, with the reason
        print("not ok - %s crashed: %r" % (name, e))
        failed += 1
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(5)
            except Exception:
                p.kill()
        subprocess.run(["rm", "-rf", tmp])
    sys.exit(1 if failed else 0)
