"""A throw-away SMTP server for the mail tests (aiosmtpd), never for production.

Accepts every message and writes it to DIR/<n>.eml (the raw bytes as received, after lines
`X-Test-Rcpt: a@b, c@d` with the envelope recipients, `X-Test-Login: yes|no` and
`X-Test-Peer: host:port`, the client's end of the connection, so tests can see reuse). Recipients whose address contains
"tempfail" get `451 4.3.0`, those containing "reject" get `550 5.1.1`, so tests can see both
kinds of failure. AUTH PLAIN/LOGIN is offered without TLS; only USER/PASSWORD succeed.
"""
import argparse
import asyncio
import itertools
import os
import signal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER = b"desk"
PASSWORD = b"Desk-Pass-4821"


class Handler:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "tempfail" in address:
            return "451 4.3.0 Mailbox busy, try again later"
        if "reject" in address:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        path = os.path.join(self.directory, f"{n:05}.eml")
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(f"X-Test-Rcpt: {', '.join(envelope.rcpt_tos)}\r\n".encode())
            f.write(f"X-Test-Login: {session.authenticated and 'yes' or 'no'}\r\n".encode())
            peer = session.peer if isinstance(session.peer, tuple) else (str(session.peer), 0)
            f.write(f"X-Test-Peer: {peer[0]}:{peer[1]}\r\n".encode())
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, path)
        return "250 2.0.0 Message accepted"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER and auth_data.password == PASSWORD
    # handled=False: the server answers 535 itself (handled=True would leave the client waiting).
    return AuthResult(success=ok, handled=False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    controller = Controller(
        Handler(args.dir),
        hostname="127.0.0.1",
        port=args.port,
        authenticator=authenticator,
        auth_require_tls=False,
        auth_required=False,
    )
    controller.start()
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        loop.run_until_complete(stop.wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
