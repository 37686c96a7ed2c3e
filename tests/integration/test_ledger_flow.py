"""The ledger over real sockets: a biller takes cash with some left as credit,
writes off part of the invoice (confirming first), applies the credit to a
second invoice, and the Financial tab shows the balance, the aging and every
movement with its running balance."""
import re

import pytest

from tests.fixtures.stack import Browser
from tests.integration.test_invoice_flow import create_invoice
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration

CLIENT = "cl_demo_sam"
BILLER = ("biller@demo.cairn.test", "demo-staff-2026!")


def figure(page: str, name: str) -> str:
    return re.search(rf'data-testid="{name}">([^<]+)<', page).group(1)


def test_cash_with_credit_a_write_off_and_credit_applied_show_in_the_ledger(cairn):
    biller: Browser = cairn.staff(*BILLER)
    first = create_invoice(biller, CLIENT)                              # $243.00
    csrf = biller.csrf(f"/staff/clients/{CLIENT}/collect")
    paid = biller.post(f"/staff/clients/{CLIENT}/collect", data={
        "csrf": csrf, "invoice": first, f"amount_{first}": "100.00", "credit": "20.00",
        "method": "cash", "request_key": "ledger-flow-cash-1"})
    assert "/staff/payments/" in paid.url
    financial = f"/staff/clients/{CLIENT}/financial"
    wait_until(lambda: figure(biller.get(financial).text, "client-credit") == "$20.00",
               timeout=20, what="the credit left by the cash payment")

    form = biller.get(f"/staff/clients/{CLIENT}/adjustments/new?invoice={first}").text
    key = re.search(r'name="request_key" value="([^"]+)"', form).group(1)
    fields = {"csrf": csrf, "invoice": first, "choice": "write_off", "amount": "30",
              "reason": "Courtesy write-off", "request_key": key}
    confirm = biller.post(f"/staff/clients/{CLIENT}/adjustments", data=fields)
    assert "Write off $30.00 on INV-" in confirm.text
    done = biller.post(f"/staff/clients/{CLIENT}/adjustments", data={**fields, "confirmed": "yes"})
    assert done.url.endswith("notice=written-off"), re.findall(
        r'(?:role="alert"|class="field-error"[^>]*)>([^<]+)', done.text)
    assert "Written off." in done.text
    again = biller.post(f"/staff/clients/{CLIENT}/adjustments", data={**fields, "confirmed": "yes"})
    assert figure(again.text, "client-balance") == "$113.00"          # the same key: once

    second = create_invoice(biller, CLIENT)
    page = biller.get(f"/staff/clients/{CLIENT}/credit").text
    key = re.search(r'name="request_key" value="([^"]+)"', page).group(1)
    too_much = biller.post(f"/staff/clients/{CLIENT}/credit", data={
        "csrf": csrf, "invoice": second, "amount": "25", "request_key": key})
    assert too_much.status_code == 400 and "apply at most that" in too_much.text
    applied = biller.post(f"/staff/clients/{CLIENT}/credit", data={
        "csrf": csrf, "invoice": second, "amount": "", "request_key": key})
    assert "Credit applied to the invoice." in applied.text
    page = applied.text
    assert figure(page, "client-credit") == "$0.00"
    assert figure(page, "client-balance") == "$336.00"                # 113 + 243 − 20
    assert figure(page, "aging-current") == "$336.00"
    ledger = re.search(r'data-testid="ledger">(.*?)</table>', page, re.S).group(1)
    rows = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", ledger, re.S)[1:]]
    kinds = [row.split(" ", 1)[1].split(" ·")[0] for row in rows]
    assert [k.split(" INV-")[0].split(" Account")[0] for k in kinds] == [
        "Charge", "Payment", "Credit", "Write-off", "Charge", "Credit applied"]
    assert rows[-1].endswith("$336.00")
    writes = cairn.sql("invoicing", "select kind, amount, reason from invoice_adjustments")
    assert [(w.kind, w.amount, w.reason) for w in writes] == [
        ("write_off", -3000, "Courtesy write-off")]
