"""An SMTP server on loopback that wants a login (and, given a certificate,
STARTTLS before it), keeping each accepted message as `<n>.eml` with a
`<n>.json` beside it saying whether the session was TLS and who logged in.

    python smtp_secure.py PORT DIRECTORY USER PASSWORD [CERT KEY]
"""
import json
import ssl
import sys
import time
import warnings
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Keep:
    def __init__(self, directory: Path):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):
        stem = self.directory / str(time.time_ns())
        login = session.auth_data.login.decode() if session.authenticated else None
        stem.with_suffix(".json").write_text(json.dumps(
            {"tls": session.ssl is not None, "login": login, "rcpt": envelope.rcpt_tos}))
        stem.with_suffix(".eml").write_bytes(envelope.original_content)
        return "250 Message accepted for delivery"


class Authenticator:
    def __init__(self, user: str, password: str):
        self.user, self.password = user.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == self.user
              and auth_data.password == self.password)
        # handled=False: aiosmtpd answers a failure with "535 5.7.8 …" itself
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def main() -> None:
    warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
    port, directory, user, password = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    directory.mkdir(parents=True, exist_ok=True)
    tls = {}
    if len(sys.argv) > 6:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(sys.argv[5], sys.argv[6])
        tls = {"tls_context": context, "require_starttls": True}
    controller = Controller(Keep(directory), hostname="127.0.0.1", port=port,
                            authenticator=Authenticator(user, password), auth_required=True,
                            auth_require_tls=bool(tls), **tls)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
