"""What the portal's Documents area and the staff Documents tab share: who
did it (`by`), a download leaving the gateway (a presigned address or the
bytes), the cap on a request's body, reading an uploaded file, and "not
found" for another client's id (a 404 page, the refusal audited)."""
from __future__ import annotations

import base64
import functools
import re
from urllib.parse import quote

from nameko.exceptions import RemoteError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from servicekit import config

from portal_gateway import portal_scope, web
from portal_gateway.access import actor_of

SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]")
DEFAULT_UPLOAD_MAX_BYTES = 10 * 1024 * 1024
MULTIPART_ROOM = 64 * 1024          # the form's other fields and the part headers
FORM_MAX_BYTES = 2 * 1024 * 1024    # a signature drawing and a typed name
ALLOWED_UPLOADS = ".pdf,.jpg,.jpeg,.png,.heic,application/pdf,image/jpeg,image/png,image/heic"
NOT_FOUND = "We could not find that document."
DATA_URL = re.compile(r"^data:image/png;base64,[A-Za-z0-9+/=]+$")


def by_of(session: dict) -> dict:
    """Who did it, as the documents service wants it."""
    return {"kind": session["kind"], "id": session["subject_id"], "name": session.get("name", "")}


def upload_max_bytes(settings) -> int:
    try:
        return int(config.setting(settings, "UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_MAX_BYTES))
    except (TypeError, ValueError):
        return DEFAULT_UPLOAD_MAX_BYTES


def too_large_words(limit: int) -> str:
    return f"This file is larger than {max(1, limit // (1024 * 1024))} MB."


def is_not_found(error) -> bool:
    return isinstance(error, RemoteError) and error.exc_type == "NotFound"


def field_errors(error) -> dict | None:
    """{field: words} of a refusal the person can fix (InvalidFields crosses
    RPC as itself; InvalidInput and Conflict as RemoteError), else None."""
    errors = getattr(error, "errors", None)
    if isinstance(errors, dict) and errors:
        return dict(errors)
    if isinstance(error, RemoteError) and error.exc_type in ("InvalidInput", "InvalidFields"):
        return {"form": error.value}
    return None


def download(reply: dict) -> Response:
    """A presigned address: 302 to it (it names nothing of the client's).
    The bytes (local disk): an attachment, never cached."""
    if reply.get("url"):
        return Response("", status=302, headers={**web.SECURITY_HEADERS, "Location": reply["url"]})
    return Response(base64.b64decode(reply.get("content_b64") or ""),
                    mimetype=reply.get("content_type") or "application/octet-stream",
                    headers={**web.SECURITY_HEADERS, "Cache-Control": "no-store",
                             "Content-Disposition": attachment(reply.get("filename") or "")})


def attachment(name: str) -> str:
    """An attachment's header: an ASCII name for every browser, and the
    person's own (accents, other scripts) for those that read filename*."""
    name = "".join(ch for ch in name if ch.isprintable()).strip() or "document"
    plain = SAFE_NAME.sub("-", name) or "document"
    if plain == name:
        return f'attachment; filename="{plain}"'
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def audited_download(gateway, request, session, reply: dict, client_id, action="document.read"):
    gateway.clients.record_access(actor_of(session, request), action, client_id)
    return download(reply)


def deny(gateway, request, session, client_id, area: str):
    """Another client's id (or none at all): audited, then the same 404 as a
    missing one, so a guess tells nothing."""
    gateway.clients.record_access(actor_of(session, request), "denied:document.read", client_id,
                                  outcome="denied")
    return web.error_page(404, NOT_FOUND, session=session, area=area)


def not_found_is_denied(area: str, client_of=None):
    """Under @signed_in: a NotFound from the documents service becomes the
    404 page, and the refusal is audited against the client in question (the
    portal's acting-for client, or the staff page's)."""
    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, request, session, **kwargs):
            try:
                return method(self, request, session=session, **kwargs)
            except RemoteError as error:
                if not is_not_found(error):
                    raise
                client_id = kwargs.get("client_id") or session.get("acting_for")
                return deny(self, request, session, client_id, area)
        return wrapper
    return decorate


def capped(limit_of):
    """Outside @signed_in (which reads the form for its CSRF check): refuse a
    body over the limit before a byte of it is read (werkzeug's
    max_content_length), with a page that says why."""
    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, request, **kwargs):
            limit = limit_of(self)
            request.max_content_length = limit
            if request.content_length is not None and request.content_length > limit:
                return too_large(limit)
            try:
                return method(self, request, **kwargs)
            except RequestEntityTooLarge:
                return too_large(limit)
        return wrapper
    return decorate


def too_large(limit: int) -> Response:
    response = web.error_page(413, too_large_words(limit - MULTIPART_ROOM) + " Go back and choose a "
                              "smaller file.")
    response.headers["Connection"] = "close"
    return response


def upload_limit(gateway) -> int:
    return upload_max_bytes(gateway.settings) + MULTIPART_ROOM


def form_limit(gateway) -> int:
    return FORM_MAX_BYTES


def read_upload(request, field: str, limit: int) -> tuple[str, str | None, str | None]:
    """(filename, content_b64, error): the chosen file, or the words for its field."""
    upload = request.files.get(field)
    if upload is None or not upload.filename:
        return "", None, "Choose a file to upload."
    content = upload.read(limit + 1)
    if not content:
        return upload.filename, None, "This file is empty. Choose another."
    if len(content) > limit:
        return upload.filename, None, too_large_words(limit)
    return upload.filename, base64.b64encode(content).decode("ascii"), None


def drawing_of(form) -> str:
    """A drawn signature as the pad left it (a PNG data URL), or ""."""
    drawing = (form.get("drawing") or "").strip()
    return drawing if DATA_URL.match(drawing) else ""


CONTACTS_READ_ONLY = portal_scope.DOCUMENTS_READ_ONLY


def acts_for_the_client(method):
    """Under @signed_in("portal"): signing, uploading and answering are the
    client's (or a guardian's); a third-party contact (a session with a
    narrower `scope`, see portal_scope) is refused and the refusal audited."""
    @functools.wraps(method)
    def wrapper(self, request, session, **kwargs):
        if session.get("scope", "full") != "full":
            self.clients.record_access(actor_of(session, request), "denied:document.write",
                                       session.get("acting_for"), outcome="denied")
            return web.error_page(403, CONTACTS_READ_ONLY, session=session, area="portal")
        return method(self, request, session=session, **kwargs)
    return wrapper
