"""A real SMTP server speaking TLS and wanting a login, for the mail transport tests.

Like smtp_sink.py it runs as its own process (aiosmtpd is asyncio; the tests run under
eventlet). It stores accepted messages the same way.

    python smtp_tls_sink.py <port> <outdir> <starttls|ssl> <certfile> <keyfile> <user> <password>
"""

import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from smtp_sink import Sink, serve


class Login:
    """Accepts exactly one user name and password (PLAIN or LOGIN)."""

    def __init__(self, user, password):
        self.user, self.password = user.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            self.user,
            self.password,
        )
        return AuthResult(success=ok, handled=False)


def main():
    port, outdir, mode, certfile, keyfile, user, password = sys.argv[1:8]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certfile, keyfile)
    common = {"hostname": "127.0.0.1", "port": int(port), "authenticator": Login(user, password), "auth_required": True}
    if mode == "ssl":
        # the whole connection is TLS, which aiosmtpd does not count as "TLS" for AUTH
        controller = Controller(Sink(outdir), ssl_context=context, auth_require_tls=False, **common)
    else:
        controller = Controller(Sink(outdir), tls_context=context, require_starttls=True, **common)
    serve(controller)


if __name__ == "__main__":
    main()
