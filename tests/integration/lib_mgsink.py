"""lib_mgsink.py - a downstream SMTP server for mailgw's tests, built on aiosmtpd.

  lib_mgsink.py PORT MODE OUTDIR CERT KEY
MODE: plain    no STARTTLS
      starttls STARTTLS offered (the test certificate)
      broken   STARTTLS offered, but the handshake fails (TLS 1.0 only)
      require  STARTTLS offered and required before MAIL (530 otherwise)
      reject   every RCPT gets 550 5.1.1
      users    like plain, but RCPT is taken only for local parts starting with "ok"
               (550 5.1.1 for the others), each RCPT logged to OUTDIR/rcpts.log: the
               next hop of mailgw's callout tests
      slow     like plain, but waits 3 s after the data before storing it; a client
               that is gone by then gets nothing stored (so a killed mailgw must retry);
               OUTDIR/events.log gets "data" when the data is in, "gone" when the
               client left before the 250
Every accepted message is written to OUTDIR/N.eml, preceded by one line
"X-Sink: tls=VERSION cipher=CIPHER from=<..> to=<..> conn=PORT" (tls=none in
plaintext; PORT is the client's source port, so messages that share a value came
over one connection).
Prints "ready" once listening."""
import asyncio
import os
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, out, mode):
        self.out, self.mode, self.n = out, mode, 0

    def note(self, what):
        """One line in OUTDIR/events.log, for a test to wait on (slow mode)."""
        with open(os.path.join(self.out, "events.log"), "a") as f:
            f.write(what + "\n")

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.mode == "users":   # every probe, so a test can count them
            with open(os.path.join(self.out, "rcpts.log"), "a") as f:
                f.write("%s from=<%s>\n" % (address, envelope.mail_from))
        if self.mode == "reject" or (self.mode == "users" and not address.lower().startswith("ok")):
            return "550 5.1.1 <%s>: no such user here" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.mode == "slow":
            self.note("data")   # the message is here, its 250 is not sent yet
            await asyncio.sleep(3)  # slow on purpose: the next hop is still working on it
            if server.transport is None or server.transport.is_closing():
                self.note("gone")
                return "451 4.3.0 client went away"
        so = server.transport.get_extra_info("ssl_object")
        tls = "tls=%s cipher=%s" % (so.version(), so.cipher()[0]) if so else "tls=none"
        self.n += 1
        path = os.path.join(self.out, "%d.eml" % self.n)
        with open(path + ".tmp", "wb") as f:
            f.write(("X-Sink: %s from=<%s> to=%s conn=%s\r\n" % (
                tls, envelope.mail_from, ",".join("<%s>" % r for r in envelope.rcpt_tos),
                session.peer[1] if session.peer else "?")).encode())
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 sunk %d" % self.n


class Ctl(Controller):
    def __init__(self, handler, port, mode, ctx):
        self.mode, self.ctx = mode, ctx
        super().__init__(handler, hostname="127.0.0.1", port=port)

    def factory(self):
        if self.mode in ("plain", "reject", "slow", "users"):
            return SMTP(self.handler)
        return SMTP(self.handler, tls_context=self.ctx, require_starttls=(self.mode == "require"))


def main():
    port, mode, out, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
    os.makedirs(out, exist_ok=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if mode == "broken":
        # An offer the client can never accept: mailgw requires TLS 1.2 or later.
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    c = Ctl(Sink(out, mode), port, mode, ctx)
    c.start()
    print("ready", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
