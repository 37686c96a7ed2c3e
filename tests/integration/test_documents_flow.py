"""The documents service in the running stack: the demo clinic's handbook
and resources, an upload staff then find, and an invoice sent by staff kept
as the PDF invoicing rendered (InvoiceSent -> queued -> fetched -> stored)."""
import base64

from nameko.standalone.rpc import ClusterRpcProxy

from servicekit.pdf import text_of
from tests.support.processes import wait_until

STACK_ENV = {"CAIRN_KEPT_PDF_POLL_SECONDS": "0.5", "CAIRN_KEPT_PDF_DELAY_SECONDS": "0"}
FORM = {"location_id": "loc_main", "payment_type": "private_pay", "line1_service": "90834",
        "line1_units": "1"}
PDF = b"%PDF-1.4\n% an insurance card\n%%EOF\n"


def rpc(cairn):
    return ClusterRpcProxy({"AMQP_URI": cairn.stack.env["CAIRN_AMQP_URI"]}, timeout=30)


def test_demo_documents_an_upload_and_a_kept_invoice(cairn):
    with rpc(cairn) as services:
        documents = services.documents
        assert documents.handbook()["filename"] == "Cedar Ridge client handbook.pdf"
        handbook = base64.b64decode(documents.open_handbook()["content_b64"])
        assert "Client handbook" in text_of(handbook)
        assert sorted(r["kind"] for r in documents.list_resources()) == ["file", "link", "survey"]

        portal = {"kind": "portal", "id": "pa_demo_jordan", "name": "Jordan Okafor"}
        uploaded = documents.upload("cl_demo_jordan", "card.pdf", base64.b64encode(PDF).decode(),
                                    portal, "documents-flow-1")
        assert [d["id"] for d in documents.list_documents("cl_demo_jordan")] == [uploaded["id"]]

        staff = cairn.staff()
        csrf = staff.csrf("/staff/clients/cl_demo_jordan/invoices/new")
        created = staff.post("/staff/clients/cl_demo_jordan/invoices", data={**FORM, "csrf": csrf})
        invoice_id = created.url.rsplit("/", 1)[1]
        staff.post(f"/staff/invoices/{invoice_id}/send", data={"channel": "email", "csrf": csrf})
        number = cairn.invoice(invoice_id)["number"]

        kept = wait_until(lambda: [k for k in documents.list_kept_pdfs("cl_demo_jordan")
                                   if k["ref_id"] == invoice_id], timeout=60,
                          what="the sent invoice's PDF to be kept")
        [pdf] = kept
        assert pdf["kind"] == "invoice" and pdf["filename"].endswith(".pdf")
        opened = documents.open_kept_pdf(pdf["id"], "cl_demo_jordan")
        assert number in text_of(base64.b64decode(opened["content_b64"]))
        assert documents.list_kept_pdfs("cl_demo_avery") == []
