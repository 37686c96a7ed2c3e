"""PDFs render in tpool threads; several at once, while greenlets log, must
neither hang the hub nor fail ("Cannot switch to a different thread": a
green lock taken from a thread), and each must come out whole."""
import logging

import eventlet

from servicekit import pdf

PAGE = "<html><body><h1>Statement</h1>" + "<p>Balance due $125.00</p>" * 100 + "</body></html>"


def test_pdfs_render_at_once_while_others_log():
    log = logging.getLogger("cairn.test.chatter")
    log.setLevel(logging.INFO)
    done = []

    def chatter():
        while not done:
            log.info("a greenlet logging while PDFs render")
            eventlet.sleep(0.001)

    pool = eventlet.GreenPool()
    pool.spawn(chatter)
    with eventlet.Timeout(90):
        pdfs = list(pool.imap(lambda _: pdf.render(PAGE), range(6)))
    done.append(True)
    pool.waitall()
    assert all(doc.startswith(b"%PDF-") for doc in pdfs)
    assert all("Balance due $125.00" in pdf.text_of(doc) for doc in pdfs)
