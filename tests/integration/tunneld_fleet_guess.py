#!/usr/bin/python3
"""tunneld_fleet_guess.py - the fleet's throttling as a guesser meets it (docs/tunneld.md
"Throttling across the fleet"): one source address tries session numbers nobody holds,
spreading its attempts over the three relays of a fleet so that no single relay sees
enough of them to block it on its own. The fleet must count them together: after
unknown_rate guesses in all the address is blocked on every relay, and then even a join
with a right number (of a session another relay holds) is refused. The count is taken in
the same Redis step as the lookup, so not one miss more than unknown_rate gets through,
not even to a guesser sending all its attempts at once."""
import random
import threading

from lib_tun import H, check, check_no_sanitizer, cleanup, sanitizer_logs, test
from tunnel_client import act_join, act_register, follow
from lib_fleet import REDIS, Redis, relay

UNKNOWN_RATE = 6  # fleet-wide; each relay alone would allow as many per minute
fleet = {}


def attempt(r, number):
    """One JOIN through relay r: (answer name, its fields)."""
    x = r.conn()
    try:
        return x.join(number)
    finally:
        x.close()


def t_spread_guesser():
    a, b, c = fleet["a"], fleet["b"], fleet["c"]
    m = c.conn()
    n, kv = act_register(m)
    check("a master registers on relay c", n == "REGISTERED", str(kv))
    live = m.session
    wrong = [x for x in range(1000) if "%03d" % x != live]
    random.shuffle(wrong)
    answers = []
    # Two attempts per relay would be far below any relay's own unknown_rate; three rounds
    # (nine attempts, three per relay) must meet the fleet's block.
    for i in range(9):
        r = (a, b, c)[i % 3]
        nm, kv = attempt(r, "%03d" % wrong[i])
        answers.append((r.kv["listen"], nm, kv.get("code")))
    misses = [x for x in answers if x[2] == "no-such-session"]
    refused = [x for x in answers if x[2] == "throttled"]
    # The miss is counted (and the unknown_rate-th blocks) in the lookup's own Redis step,
    # before the answer: on one relay alone the limit would be three times as many.
    check("the guesser got at most unknown_rate (%d) 'no such session' answers over three relays"
          % UNKNOWN_RATE, len(misses) <= UNKNOWN_RATE, str(answers))
    check("and then was refused as throttled, on a relay that saw only %d of its guesses" % 3,
          len(refused) >= 1 and answers[-1][2] == "throttled", str(answers))
    # The block is the fleet's: through relays a and b (the session lives on c), even the
    # right number is refused now.
    for r in (a, b):
        nm, kv = attempt(r, live)
        check("relay %s refuses the blocked address a join with the right number"
              % r.kv["listen"], nm == "ERROR" and kv.get("code") == "throttled", "%s %s" % (nm, kv))


def t_parallel_guesser():
    """Another source (127.0.0.2) sends nine guesses over the three relays at once: had the
    count been written after the answer, every lookup would run before any count."""
    a, b, c = fleet["a"], fleet["b"], fleet["c"]
    conns = []
    for i in range(9):
        r = (a, b, c)[i % 3]
        conns.append(r.conn(source_ip="127.0.0.2"))
    answers = [None] * len(conns)

    def one(i):
        try:
            nm, kv = conns[i].join("%03d" % (500 + i))
            answers[i] = kv.get("code")
        except Exception as e:  # a closed connection is an answer too
            answers[i] = repr(e)
        finally:
            conns[i].close()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(conns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    misses = answers.count("no-such-session")
    check("nine guesses at once over three relays: at most unknown_rate (%d) misses" % UNKNOWN_RATE,
          misses <= UNKNOWN_RATE, str(answers))
    check("and every other one refused as throttled", answers.count("throttled") == len(conns) - misses,
          str(answers))


def t_redirected_join_counted_once():
    """A client (127.0.0.4) joining through relay a a session relay c holds is redirected
    to c: one join, so one count in the fleet's join counter (not one per relay it met)."""
    a, c = fleet["a"], fleet["c"]
    m = c.conn(source_ip="127.0.0.3")
    n, kv = act_register(m)
    assert n == "REGISTERED", kv
    cl, n, kv, hops = follow(H, a.port, act_join(m.session), source_ip="127.0.0.4")
    check("a join through the wrong relay is redirected and joins", n == "JOINED" and len(hops) == 1,
          "%s %s %s" % (n, kv, hops))
    key = "guess:j:04" + "7f000004" + "00" * 12
    check("the redirected join counts once in the fleet's join counter", rd.cli("GET", key) == "1",
          "%s = %r" % (key, rd.cli("GET", key)))
    cl.close()
    m.close()


if not REDIS:
    print("skip - tunneld fleet guesser: redis-server is not installed (mk/test-packages.txt)")
    raise SystemExit(0)
try:
    rd = Redis("redis-guess")
    for name in ("a", "b", "c"):
        fleet[name] = relay(name, rd, prefix="guess", unknown_rate=UNKNOWN_RATE, join_rate=1000,
                            block_time="10m")
    test(t_spread_guesser)
    test(t_parallel_guesser)
    test(t_redirected_join_counted_once)
    bad = sanitizer_logs()
    check_no_sanitizer("no sanitizer report in any tunneld log", bad)
finally:
    cleanup()
