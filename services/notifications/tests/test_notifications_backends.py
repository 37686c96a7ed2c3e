"""Mail backends over real sockets: SMTP with STARTTLS and AUTH against
aiosmtpd, Amazon SES through the real boto3 client against moto's server."""
from __future__ import annotations

import email
import email.policy

import boto3
import pytest
from nameko.testing.services import worker_factory
from sqlalchemy import select

from servicekit.cache import TtlCache
from servicekit.config import ConfigError

from notifications.mailer import (OutgoingEmail, PermanentMailError, TransientMailError,
                                  postman_from_settings)
from notifications.ses import SesBackend
from notifications.models import Delivery
from notifications.service import NotificationsService
from notifications.settings import NotificationSettings

import notifications_fakes as fakes

SETTINGS = NotificationSettings(public_url="http://portal.test")
OUTGOING = OutgoingEmail(to="alice@demo.test", subject="Your payment receipt", text="hi",
                         html="<p>hi</p>", sender_name="Patient Billing Office")


def postman(**settings):
    return postman_from_settings(lambda name, default=None: settings.get(name, default))


def parse(raw: bytes | str) -> email.message.EmailMessage:
    raw = raw.encode() if isinstance(raw, str) else raw
    return email.message_from_bytes(raw, policy=email.policy.default)


# ---- SMTP -----------------------------------------------------------------

def smtp_settings(server, **extra):
    return {"MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": server.port,
            "SMTP_USERNAME": server.USER, "SMTP_PASSWORD": server.PASSWORD,
            "SMTP_TIMEOUT_SECONDS": 5, **extra}


def test_notifications_smtp_starttls_then_auth(secure_smtp, tls_cert):
    server = secure_smtp(tls_cert)
    message_id = postman(**smtp_settings(server, SMTP_CA_FILE=tls_cert[0])).send(OUTGOING, "ntf_1")
    [(raw, session)] = server.received()
    assert session == {"tls": True, "login": server.USER, "rcpt": ["alice@demo.test"]}
    assert parse(raw)["Message-ID"] == message_id == "<ntf_1@cairn.local>"


def test_notifications_smtp_certificate_is_verified(secure_smtp, tls_cert):
    server = secure_smtp(tls_cert)  # self-signed: unknown to the system CAs
    with pytest.raises(TransientMailError, match="SSLCertVerificationError"):
        postman(**smtp_settings(server)).send(OUTGOING, "ntf_1")
    assert server.received() == []


def test_notifications_smtp_no_login_offered_before_starttls(secure_smtp, tls_cert):
    server = secure_smtp(tls_cert)
    with pytest.raises(TransientMailError, match="SMTPNotSupportedError"):
        postman(**smtp_settings(server, SMTP_STARTTLS="0")).send(OUTGOING, "ntf_1")
    assert server.received() == []


def test_notifications_smtp_auth(secure_smtp):
    server = secure_smtp()  # AUTH without TLS: allowed only because it is loopback
    postman(**smtp_settings(server, SMTP_STARTTLS="0")).send(OUTGOING, "ntf_1")
    [(_, session)] = server.received()
    assert (session["tls"], session["login"]) == (False, server.USER)


def test_notifications_smtp_wrong_password_is_transient_and_says_no_more(secure_smtp):
    server = secure_smtp()
    with pytest.raises(TransientMailError) as caught:
        postman(**smtp_settings(server, SMTP_STARTTLS="0", SMTP_PASSWORD="wrong")).send(
            OUTGOING, "ntf_1")
    assert str(caught.value) == "SMTP server refused us: 535 5.7.8"
    assert server.received() == []


def test_notifications_smtp_login_in_clear_to_a_remote_host_is_refused():
    with pytest.raises(ConfigError, match="SMTP_STARTTLS is off"):
        postman(MAIL_BACKEND="smtp", SMTP_HOST="mail.example.org", SMTP_USERNAME="u",
                SMTP_PASSWORD="p", SMTP_STARTTLS="0")


def test_notifications_smtp_without_starttls_support_is_refused(smtp_capture):
    # STARTTLS wanted, server does not offer it: never falls back to plain text
    with pytest.raises(TransientMailError, match="SMTPNotSupportedError"):
        postman(MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_capture.port,
                SMTP_TIMEOUT_SECONDS=5).send(OUTGOING, "ntf_1")
    assert smtp_capture.messages() == []


# ---- Amazon SES (moto's server) -------------------------------------------

def ses_settings(server, **extra):
    return {"MAIL_BACKEND": "ses", "SES_REGION": "us-east-1", "SES_ENDPOINT_URL": server.url,
            "MAIL_FROM": "billing@cedar.test", "SES_TIMEOUT_SECONDS": 5, **extra}


def verify_sender(server, address="billing@cedar.test"):
    ses = boto3.client("ses", region_name="us-east-1", endpoint_url=server.url)
    ses.verify_email_identity(EmailAddress=address)


def test_notifications_ses_sends_the_receipt_through_boto3(moto_ses, session, world):
    verify_sender(moto_ses)
    worker = worker_factory(NotificationsService, db=session, relay=None,
                            mailer=postman(**ses_settings(moto_ses)), settings=SETTINGS,
                            clients=fakes.Clients(world), invoicing=fakes.Invoicing(world),
                            payments=fakes.Payments(world), organizations=TtlCache(300))
    worker.on_payment_captured(fakes.payment_captured())

    [sent] = moto_ses.sent_raw_emails()
    assert sent["source"] == "billing@cedar.test" and "alice@demo.test" in sent["destinations"]
    message = parse(sent["raw_data"])
    assert message["Subject"] == "Your payment receipt"
    assert str(message["From"]) == "Patient Billing Office <billing@cedar.test>"
    assert "$45.50" in message.get_body(("plain",)).get_content()
    row = session.scalars(select(Delivery)).one()
    assert (row.status, row.provider_message_id) == ("sent", sent["id"])  # SES's MessageId


def test_notifications_ses_unverified_sender_is_transient(moto_ses):
    with pytest.raises(TransientMailError) as caught:
        postman(**ses_settings(moto_ses)).send(OUTGOING, "ntf_1")
    assert str(caught.value) == "SES refused us: MessageRejected (identity not verified)"
    assert moto_ses.sent_raw_emails() == []


@pytest.mark.parametrize("code, text, error", [
    ("MessageRejected", "Email address is not verified.", TransientMailError),
    ("MessageRejected", "Message length exceeds 10485760 bytes", PermanentMailError),
    ("InvalidParameterValue", "Missing domain", PermanentMailError),
    ("Throttling", "Maximum sending rate exceeded.", TransientMailError),
    ("AccountSendingPausedException", "Sending paused", TransientMailError),
    ("InternalFailure", "", TransientMailError)])
def test_notifications_ses_errors_are_classified_by_code(code, text, error):
    # moto cannot be made to answer every one of these; the mapping is pure
    from botocore.exceptions import ClientError
    exc = ClientError({"Error": {"Code": code, "Message": f"{text} <alice@demo.test>"}},
                      "SendRawEmail")
    mapped = SesBackend._error(exc)
    assert type(mapped) is error and code in str(mapped) and "alice" not in str(mapped)


def test_notifications_ses_unreachable_is_transient(moto_ses):
    from tests.support.processes import free_port
    with pytest.raises(TransientMailError, match="SES unreachable"):
        postman(**ses_settings(moto_ses, SES_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}",
                               SES_TIMEOUT_SECONDS=1)).send(OUTGOING, "ntf_1")


def test_notifications_ses_needs_a_region(moto_ses):  # the fixture leaves boto3 none
    with pytest.raises(ConfigError, match="SES_REGION"):
        postman(MAIL_BACKEND="ses")


def test_notifications_unknown_backend_is_a_config_error():
    with pytest.raises(ConfigError, match="file, ses, smtp"):
        postman(MAIL_BACKEND="carrier-pigeon")
