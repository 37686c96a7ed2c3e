"""Amazon SES through boto3 (MAIL_BACKEND=ses): the v1 API's
`send_raw_email` with the MIME message the other backends send, so the text
and HTML parts, From name and Reply-To are identical. Settings: SES_REGION,
SES_ENDPOINT_URL (tests: moto's server on loopback), SES_TIMEOUT_SECONDS;
credentials come from boto3's usual chain (environment, shared files, an
instance or task role), never from Cairn's configuration."""
from __future__ import annotations

from email.message import EmailMessage

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoRegionError

from servicekit.config import ConfigError

from notifications.mailer import MailError, PermanentMailError, TransientMailError


class SesBackend:
    """Amazon SES (v1 API) through a boto3 client: the raw MIME message, so
    SES sends exactly what the other backends would. Returns SES's MessageId.
    (SES sets its own Message-ID header on the mail it delivers.)"""

    # SES errors about our account or settings, not this message: retry later
    _OURS = {"MailFromDomainNotVerified", "MailFromDomainNotVerifiedException",
             "ConfigurationSetDoesNotExist", "ConfigurationSetDoesNotExistException",
             "AccountSendingPausedException", "ConfigurationSetSendingPausedException",
             "AccessDenied", "AccessDeniedException", "UnrecognizedClientException",
             "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken"}
    _MESSAGE = {"MessageRejected", "InvalidParameterValue"}

    def __init__(self, client):
        self.client = client

    def send(self, message: EmailMessage) -> str:
        source = message["From"].addresses[0].addr_spec
        destinations = [address.addr_spec for address in message["To"].addresses]
        try:
            response = self.client.send_raw_email(Source=source, Destinations=destinations,
                                                  RawMessage={"Data": message.as_bytes()})
        except ClientError as exc:
            raise self._error(exc) from None
        except BotoCoreError as exc:  # endpoint unreachable, timeouts, no credentials
            raise TransientMailError(f"SES unreachable: {type(exc).__name__}") from None
        return response["MessageId"]

    @classmethod
    def _error(cls, exc) -> MailError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "Unknown")
        text = str(error.get("Message") or "").lower()
        if code == "MessageRejected" and ("not verified" in text or "authority" in text):
            # our sender identity is not verified (or, in the SES sandbox, the
            # recipient): an operator verifies it and replays the dead letters
            return TransientMailError(f"SES refused us: {code} (identity not verified)")
        if code in cls._OURS:
            return TransientMailError(f"SES refused us: {code}")
        if code in cls._MESSAGE:
            return PermanentMailError(f"SES rejected the message: {code}")
        return TransientMailError(f"SES error: {code}")  # throttling, service errors, ...


def backend_from_settings(get) -> SesBackend:
    timeout = float(get("SES_TIMEOUT_SECONDS", 30))
    try:
        client = boto3.session.Session().client(
            "ses", region_name=get("SES_REGION") or None,
            endpoint_url=get("SES_ENDPOINT_URL") or None,
            config=Config(connect_timeout=timeout, read_timeout=timeout,
                          retries={"mode": "standard", "max_attempts": 3}))
    except NoRegionError:
        raise ConfigError("MAIL_BACKEND=ses needs SES_REGION (or an AWS region configured)") from None
    return SesBackend(client)
