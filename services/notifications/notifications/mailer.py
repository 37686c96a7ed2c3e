"""Email delivery. The service hands an `OutgoingEmail` to the injected
`Postman`, which builds one MIME message (text + HTML alternatives) and gives
it to the backend chosen by MAIL_BACKEND:

- `file` (default): an `.eml` file per message under MAIL_DIR (default
  `<var_dir>/mail/`), for a one-machine start;
- `smtp`: stdlib smtplib over a real socket (SMTP_HOST, SMTP_PORT,
  SMTP_USERNAME, SMTP_PASSWORD, SMTP_STARTTLS, SMTP_CA_FILE,
  SMTP_TIMEOUT_SECONDS). With STARTTLS on, the server's certificate is
  verified (system CAs, or SMTP_CA_FILE) before AUTH; a login over plain
  text is refused unless the server is on loopback;
- `ses`: Amazon SES through boto3 (`ses.py`), `send_raw_email` with the
  same MIME message (SES_REGION, SES_ENDPOINT_URL, SES_TIMEOUT_SECONDS;
  credentials from boto3's usual chain: environment, shared files, role).

A backend is any object with `send(message: EmailMessage) -> str | None`
(the provider's message id, or None to use our Message-ID).

Errors: TransientMailError (server unreachable, 4xx, throttling, our own
settings wrong) means "try again later"; PermanentMailError (5xx for this
recipient or this message, SES rejecting this message) means it will never
go through. Error texts carry SMTP codes or SES error codes only, never
addresses or the server's reply text."""
from __future__ import annotations

import os
import re
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Callable

from nameko.extensions import DependencyProvider

from servicekit import config
from servicekit.config import ConfigError

DEFAULT_MAIL_FROM = "billing@cairn.local"
_ENHANCED_STATUS = re.compile(rb"^\s*([245]\.\d{1,3}\.\d{1,3})")


class MailError(Exception):
    pass


class TransientMailError(MailError):
    """Try again later."""


class PermanentMailError(MailError):
    """This message to this recipient will never go through."""


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str
    sender_name: str
    reply_to: str = ""


def build_message(email: OutgoingEmail, mail_from: str, message_id: str) -> EmailMessage:
    message = EmailMessage()
    try:
        message["To"] = Address(addr_spec=email.to)
    except (ValueError, IndexError, HeaderParseError) as exc:
        raise PermanentMailError("recipient address is not valid") from exc
    message["From"] = Address(display_name=email.sender_name, addr_spec=mail_from)
    if email.reply_to:
        try:
            message["Reply-To"] = Address(addr_spec=email.reply_to)
        except (ValueError, IndexError, HeaderParseError):
            pass  # a bad clinic address must not stop the message
    message["Subject"] = email.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message


def _code(code: int, reply: bytes | str | None) -> str:
    """`550 5.1.1`: the basic and enhanced status, never the reply text
    (servers echo the address back)."""
    raw = reply.encode() if isinstance(reply, str) else (reply or b"")
    match = _ENHANCED_STATUS.match(raw)
    return f"{code} {match.group(1).decode()}" if match else str(code)


def _by_code(code: int, reply, what: str) -> MailError:
    if 500 <= code < 600:
        return PermanentMailError(f"{what}: {_code(code, reply)}")
    return TransientMailError(f"{what}: {_code(code, reply)}")


class SmtpBackend:
    def __init__(self, host: str, port: int, username: str = "", password: str = "",
                 starttls: bool = True, timeout: float = 30.0, ca_file: str = ""):
        self.host, self.port, self.timeout = host, port, timeout
        self.username, self.password, self.starttls = username, password, starttls
        self.ca_file = ca_file

    def tls_context(self) -> ssl.SSLContext:
        """Certificate and host name verified: system CAs, or SMTP_CA_FILE."""
        return ssl.create_default_context(cafile=self.ca_file or None)

    def send(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=self.tls_context())  # no STARTTLS offered: refused
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = min(exc.recipients.values(), key=lambda pair: pair[0])
            raise _by_code(code, reply, "recipient refused") from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPAuthenticationError,
                smtplib.SMTPNotSupportedError, smtplib.SMTPConnectError,
                smtplib.SMTPHeloError) as exc:
            # our side or the server as a whole: an operator fixes it and
            # replays; the recipient is not at fault
            raise TransientMailError(f"SMTP server refused us: {_describe(exc)}") from None
        except smtplib.SMTPResponseException as exc:  # DATA rejected (spam, size, ...)
            raise _by_code(exc.smtp_code, exc.smtp_error, "message refused") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientMailError(f"SMTP server unreachable: {type(exc).__name__}") from None
        return None


def _describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return _code(exc.smtp_code, exc.smtp_error)
    return type(exc).__name__


class FileBackend:
    """One `.eml` per message, readable only by the service's user."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", str(message["Message-ID"]).strip("<>"))
        path = self.directory / f"{time.time_ns()}-{stem}.eml"
        tmp = path.with_suffix(".tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(message.as_bytes())
            tmp.rename(path)
        except OSError as exc:
            raise TransientMailError(f"cannot write mail file: {type(exc).__name__}") from None
        return None


Get = Callable[..., object]  # get(NAME, default) -> the setting


def _flag(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _file_backend(get: Get) -> FileBackend:
    return FileBackend(Path(get("MAIL_DIR") or config.var_dir() / "mail"))


_LOOPBACK = ("localhost", "127.0.0.1", "::1")


def _smtp_backend(get: Get) -> SmtpBackend:
    backend = SmtpBackend(host=str(get("SMTP_HOST", "localhost")),
                          port=int(get("SMTP_PORT", 587)),
                          username=str(get("SMTP_USERNAME") or ""),
                          password=str(get("SMTP_PASSWORD") or ""),
                          starttls=_flag(get("SMTP_STARTTLS", "1")),
                          timeout=float(get("SMTP_TIMEOUT_SECONDS", 30)),
                          ca_file=str(get("SMTP_CA_FILE") or ""))
    if backend.username and not backend.starttls and backend.host not in _LOOPBACK:
        raise ConfigError("SMTP_USERNAME is set but SMTP_STARTTLS is off: the password would "
                          "cross the network in clear (allowed only for a loopback SMTP_HOST)")
    return backend


def _ses_backend(get: Get):
    from notifications.ses import backend_from_settings  # boto3 only when SES is chosen
    return backend_from_settings(get)


BACKENDS: dict[str, Callable[[Get], object]] = {
    "file": _file_backend, "smtp": _smtp_backend, "ses": _ses_backend}


class Postman:
    """What a worker gets: `send(email, key)` -> the provider's message id.
    The Message-ID is derived from `key` (the delivery id), so a resend after
    a crash carries the same Message-ID and mail clients fold duplicates."""

    def __init__(self, backend, mail_from: str = DEFAULT_MAIL_FROM):
        self.backend = backend
        self.mail_from = mail_from
        self.domain = mail_from.rpartition("@")[2] or "cairn.local"

    def send(self, email: OutgoingEmail, key: str) -> str:
        message_id = f"<{key}@{self.domain}>"
        provider_id = self.backend.send(build_message(email, self.mail_from, message_id))
        return provider_id or message_id


def postman_from_settings(get: Get) -> Postman:
    name = str(get("MAIL_BACKEND", "file")).strip().lower()
    if name not in BACKENDS:
        raise ConfigError(f"MAIL_BACKEND must be one of {', '.join(sorted(BACKENDS))}, not {name!r}")
    return Postman(BACKENDS[name](get), str(get("MAIL_FROM", DEFAULT_MAIL_FROM)))


class Mailer(DependencyProvider):
    """Injects a `Postman` configured from the nameko config / CAIRN_* env."""

    def setup(self):
        container_config = self.container.config
        self.postman = postman_from_settings(
            lambda name, default=None: config.setting(container_config, name, default))

    def get_dependency(self, worker_ctx) -> Postman:
        return self.postman
