"""Errors an RPC caller is expected to handle. The class name is the code the
caller sees (`RemoteError.exc_type`); the message names the problem."""
from nameko.exceptions import deserialize_to_instance


class CairnError(Exception):
    http_status = 400


class InvalidInput(CairnError):
    http_status = 400


@deserialize_to_instance
class InvalidFields(InvalidInput):
    """Several fields are wrong at once: {field: words for the person}. It
    crosses RPC as itself (not a bare RemoteError), so a page can put each
    message next to its field."""

    def __init__(self, errors: dict):
        errors = {str(field): str(message) for field, message in dict(errors).items()}
        super().__init__(errors)
        self.errors = errors

    def __str__(self) -> str:
        return " ".join(self.errors.values())


class NotFound(CairnError):
    http_status = 404


class Conflict(CairnError):
    http_status = 409


class Gone(CairnError):
    http_status = 410


class PaymentDeclined(CairnError):
    http_status = 402


class Unauthorized(CairnError):
    http_status = 401


class Forbidden(CairnError):
    http_status = 403


class TooManyAttempts(CairnError):
    """Too many tries in a short time (card testing, guessing): wait or call."""
    http_status = 429


class ServiceUnavailable(CairnError):
    http_status = 503


class RpcTimeout(ServiceUnavailable):
    """The service asked did not answer in time; nothing can be assumed about
    what it did, so the caller must be safe to retry."""


EXPECTED = (InvalidInput, InvalidFields, NotFound, Conflict, Gone, PaymentDeclined, Unauthorized, Forbidden,
            TooManyAttempts, ServiceUnavailable, RpcTimeout)
HTTP_STATUS = {cls.__name__: cls.http_status for cls in EXPECTED}
