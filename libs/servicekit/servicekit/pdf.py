"""HTML → PDF with WeasyPrint, off the eventlet hub: rendering a page takes
0.2–0.4 s of CPU, longer than a heartbeat should wait (STACK-NOTES trap 8),
so it runs in eventlet's thread pool. WeasyPrint is imported on first use:
a service that never renders does not pay for it."""
from __future__ import annotations

import io


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
            return tpool.execute(_render, html)
    except ImportError:
        pass
    return _render(html)


def text_of(pdf: bytes) -> str:
    """The text a PDF shows (tests compare it with the screen)."""
    from pypdf import PdfReader
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)
