"""smtpbench.py - the relay benchmark's load generator and sink (Python stdlib asyncio only).

Postfix's own smtp-source/smtp-sink cannot be used: neither speaks STARTTLS. These two
do, and the run script uses the very same generator and sink for mailgw and for Postfix.

  smtpbench.py sink PORT CERT KEY COUNTFILE
      An SMTP server offering STARTTLS and PIPELINING that accepts every message and
      keeps no content, only a count: COUNTFILE holds "DELIVERED TLS_SESSIONS PLAINTEXT_MESSAGES"
      and is rewritten (atomically) at most every 0.1 s while it changes. Prints "ready".
  smtpbench.py relay HOST PORT N CONC PER
      N small messages over CONC parallel sessions, PER messages per session; every session
      does EHLO, STARTTLS, EHLO, and pipelines MAIL/RCPT/DATA when PIPELINING is offered.
      Prints how many were accepted (250 after the data) and how fast.
  smtpbench.py submit HOST PORT N CONC USER PASSFILE
      Authenticated submission: N sessions (CONC at a time), each EHLO, STARTTLS, EHLO,
      AUTH PLAIN (USER, the password from PASSFILE), one message, QUIT. Prints how many
      were accepted and how many sessions per second."""
import asyncio
import base64
import os
import ssl
import sys
import time


# ---------------------------------------------------------------- sink

class SinkState:
    def __init__(self):
        self.delivered = 0
        self.tls = 0
        self.plain = 0


async def sink_session(st, ctx, reader, writer):
    tls = False
    try:
        writer.write(b"220 sink.bench.test ESMTP\r\n")
        while True:
            line = await reader.readline()
            if not line:
                break
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                if verb == b"HELO":
                    writer.write(b"250 sink.bench.test\r\n")
                elif tls:
                    writer.write(b"250-sink.bench.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
                else:
                    writer.write(b"250-sink.bench.test\r\n250-PIPELINING\r\n"
                                 b"250-8BITMIME\r\n250 STARTTLS\r\n")
            elif verb == b"STAR" and not tls:
                writer.write(b"220 2.0.0 go ahead\r\n")
                await writer.drain()
                await writer.start_tls(ctx)
                tls = True
                st.tls += 1
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                writer.write(b"250 2.0.0 ok\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                # The data ends with CRLF.CRLF; what follows belongs to the next command.
                await reader.readuntil(b"\r\n.\r\n")
                st.delivered += 1
                if not tls:
                    st.plain += 1
                writer.write(b"250 2.0.0 sunk\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 2.0.0 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"502 5.5.2 not here\r\n")
            if writer.transport.get_write_buffer_size() > 65536:
                await writer.drain()
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def sink_main(port, cert, key, countfile):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    st = SinkState()
    srv = await asyncio.start_server(lambda r, w: sink_session(st, ctx, r, w),
                                     "127.0.0.1", port, backlog=1024, limit=1 << 20)
    print("ready", flush=True)
    last = None
    async with srv:
        while True:
            now = (st.delivered, st.tls, st.plain)
            if now != last:
                with open(countfile + ".tmp", "w") as f:
                    f.write("%d %d %d\n" % now)
                os.rename(countfile + ".tmp", countfile)
                last = now
            await asyncio.sleep(0.1)


# ---------------------------------------------------------------- generator

async def reply(reader):
    """One (possibly multi-line) reply: (code, text of all lines)."""
    lines = []
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("connection closed")
        lines.append(line)
        if line[3:4] != b"-":
            return int(line[:3]), b"".join(lines)


async def expect(reader, code):
    c, text = await reply(reader)
    if c != code:
        raise ConnectionError("expected %d, got %r" % (code, text[:80]))
    return text


async def gen_session(host, port, ctx, sid, per, st, auth=None):
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 16)
    try:
        await expect(reader, 220)
        writer.write(b"EHLO load.bench.test\r\n")
        caps = await expect(reader, 250)
        if b"STARTTLS" not in caps:
            raise ConnectionError("no STARTTLS offered")
        writer.write(b"STARTTLS\r\n")
        await expect(reader, 220)
        await writer.start_tls(ctx)
        writer.write(b"EHLO load.bench.test\r\n")
        caps = await expect(reader, 250)
        pipe = b"PIPELINING" in caps
        if auth:
            writer.write(b"AUTH PLAIN " + auth + b"\r\n")
            await expect(reader, 235)
        for k in range(per):
            env = [b"MAIL FROM:<load@sender.example>\r\n", b"RCPT TO:<sink@bench.example>\r\n",
                   b"DATA\r\n"]
            body = (b"From: load@sender.example\r\nTo: sink@bench.example\r\n"
                    b"Subject: bench %d/%d\r\n\r\nsmall body\r\n.\r\n" % (sid, k))
            if pipe:
                writer.write(b"".join(env))
                await expect(reader, 250)
                await expect(reader, 250)
                await expect(reader, 354)
            else:
                for cmd, code in zip(env, (250, 250, 354)):
                    writer.write(cmd)
                    await expect(reader, code)
            writer.write(body)
            await expect(reader, 250)
            st["sent"] += 1
        writer.write(b"QUIT\r\n")
        await reply(reader)
    finally:
        writer.close()


async def gen_main(host, port, n, conc, per, auth=None):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    sessions = (n + per - 1) // per
    st = {"next": 0, "sent": 0, "err": 0, "why": ""}

    async def worker():
        while st["next"] < sessions:
            i = st["next"]
            st["next"] += 1
            count = min(per, n - i * per)
            try:
                await asyncio.wait_for(gen_session(host, port, ctx, i, count, st, auth), 120)
            except (OSError, ConnectionError, asyncio.TimeoutError, ssl.SSLError) as e:
                st["err"] += 1
                st["why"] = str(e) or type(e).__name__

    t0 = time.time()
    await asyncio.gather(*(worker() for _ in range(conc)))
    dt = time.time() - t0
    print("accepted %d of %d in %.2f s (%.1f %s/s in), %d session errors%s" % (
        st["sent"], n, dt, st["sent"] / dt, "sessions" if auth else "msg", st["err"],
        " (last: %s)" % st["why"] if st["err"] else ""), flush=True)


if __name__ == "__main__":
    a = sys.argv
    if a[1] == "sink":
        try:
            asyncio.run(sink_main(int(a[2]), a[3], a[4], a[5]))
        except KeyboardInterrupt:
            pass
    elif a[1] == "relay":
        asyncio.run(gen_main(a[2], int(a[3]), int(a[4]), int(a[5]), int(a[6])))
    elif a[1] == "submit":
        with open(a[7]) as f:
            pw = f.readline().rstrip("\n")
        cred = base64.b64encode(("\0%s\0%s" % (a[6], pw)).encode())
        asyncio.run(gen_main(a[2], int(a[3]), int(a[4]), int(a[5]), 1, cred))
    else:
        sys.exit("usage: smtpbench.py sink|relay|submit ...")
