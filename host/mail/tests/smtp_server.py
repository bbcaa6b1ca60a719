#!/usr/bin/env python3
"""A throwaway SMTP server on 127.0.0.1 for tovor-mail's tests.

Prints the port it listens on as the first line of stdout, then serves until
killed. Every accepted message lands in OUT_DIR as <n>.eml (the bytes as
received) and <n>.json ({"mail_from": ..., "rcpt_tos": [...]}).

aiosmtpd's Controller cannot listen on port 0 (it connects to the configured
port to check the server is up), so the SMTP protocol is served straight from
an asyncio server, which reports the port the kernel picked.
"""

import argparse
import asyncio
import json
import logging
import os
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Recorder:
    def __init__(self, out_dir, reject_rcpt, tempfail_first):
        self.out_dir = out_dir
        self.reject_rcpt = {address.lower() for address in reject_rcpt}
        self.tempfail_left = tempfail_first
        self.delivered = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject_rcpt:
            return "550 5.1.1 Mailbox unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.tempfail_left > 0:
            self.tempfail_left -= 1
            return "451 4.3.0 Temporary failure, try again later"
        self.delivered += 1
        stem = os.path.join(self.out_dir, str(self.delivered))
        with open(stem + ".eml", "wb") as eml:
            eml.write(envelope.original_content or envelope.content)
        sidecar = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}
        # Written last and renamed into place, so a reader that sees the .json
        # also sees the whole .eml.
        with open(stem + ".json.tmp", "w", encoding="utf-8") as meta:
            json.dump(sidecar, meta)
        os.replace(stem + ".json.tmp", stem + ".json")
        return f"250 OK queued as {self.delivered}"


def authenticator_for(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        # handled=False makes aiosmtpd answer the failure itself (535 5.7.8).
        return AuthResult(success=ok, handled=False)

    return authenticate


async def serve(args):
    os.makedirs(args.out_dir, exist_ok=True)
    handler = Recorder(args.out_dir, args.reject_rcpt, args.tempfail_first)
    smtp_options = {"hostname": "tovor-test-smtp"}
    if args.auth:
        user, _, password = args.auth.partition(":")
        smtp_options.update(
            authenticator=authenticator_for(user, password),
            auth_required=True,
            # Plain-text AUTH is fine on loopback; it keeps the tests free of certificates.
            auth_require_tls=False,
        )
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, **smtp_options), host="127.0.0.1", port=args.port
    )
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    async with server:
        await server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--auth", metavar="USER:PASSWORD", help="require AUTH PLAIN/LOGIN")
    parser.add_argument(
        "--reject-rcpt", action="append", default=[], metavar="ADDRESS",
        help="answer 550 to RCPT TO for this address (repeatable)",
    )
    parser.add_argument(
        "--tempfail-first", type=int, default=0, metavar="N",
        help="answer 451 to the first N DATA commands",
    )
    args = parser.parse_args()
    # aiosmtpd warns about plain-text AUTH and its own deprecations on every run;
    # in a test that is noise around the output that matters.
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
