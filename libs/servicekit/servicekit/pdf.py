"""HTML → PDF with WeasyPrint, off the eventlet hub: rendering a page takes
0.2–0.4 s of CPU, longer than a heartbeat should wait (STACK-NOTES trap 8),
so it runs in eventlet's thread pool. WeasyPrint is imported on first use:
a service that never renders does not pay for it."""
from __future__ import annotations

import io
import logging

# A render runs in a tpool (OS) thread, and any lock eventlet made green that
# it takes there — the logging module's and its handlers' locks, taken when
# WeasyPrint or fontTools log or create a logger while importing a module
# on first use — fails with "greenlet.error: Cannot switch to a different
# thread" when a greenlet holds it at that moment; the hub then stops
# answering (two PDFs rendered at once hung invoicing). So their records
# never reach the shared handlers (errors surface as exceptions), and the
# first render of a process runs on the hub, importing what rendering needs
# there (a second or so, once).
for _name in ("weasyprint", "fontTools"):
    _logger = logging.getLogger(_name)
    _logger.setLevel(logging.ERROR)
    _logger.propagate = False
    _logger.addHandler(logging.NullHandler())
_WARM_UP = ("<!doctype html><html><head><style>body { font-family: sans-serif; }</style></head>"
            "<body><h1>Cairn</h1><p><b>warm</b> <i>up</i> 0123456789 $ &amp; &#233;</p>"
            "<table><tr><td>1</td></tr></table></body></html>")
_warmed = False
_warm_lock = None


def _render(html: str) -> bytes:
    from weasyprint import HTML
    buffer = io.BytesIO()
    HTML(string=html).write_pdf(buffer)
    return buffer.getvalue()


def render(html: str) -> bytes:
    """The PDF of a self-contained HTML page (inline CSS, data: images)."""
    try:
        from eventlet import patcher, tpool
        if patcher.is_monkey_patched("thread"):
            _warm_up()
            return tpool.execute(_render, html)
    except ImportError:
        pass
    return _render(html)


def _warm_up() -> None:
    """One greenlet renders, the others wait: an import interrupted by a
    switch would show them a half-initialised module."""
    global _warmed, _warm_lock
    if _warmed:
        return
    if _warm_lock is None:
        from eventlet.semaphore import Semaphore
        _warm_lock = Semaphore(1)
    with _warm_lock:
        if not _warmed:
            _render(_WARM_UP)      # on the hub, once: imports happen here, not in a thread
            _warmed = True


def text_of(pdf: bytes) -> str:
    """The text a PDF shows (tests compare it with the screen)."""
    from pypdf import PdfReader
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)
