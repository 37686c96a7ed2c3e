"""The demo clinic's payment history, made through the running services (so
Stripe, invoicing and payments agree): Avery Lindqvist has a Visa on file as
the default, and Jordan Okafor has a bank payment that is still clearing.
Safe to run again: every step is keyed, and skipped when already done.

    python deploy/local/demo_payments.py      (make run does this itself)"""
from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import sys  # noqa: E402

from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from servicekit import config  # noqa: E402

FRONT_DESK = {"kind": "staff", "id": "st_demo_frontdesk", "ip": "127.0.0.1"}
JORDAN = {"kind": "portal", "id": "pa_demo_jordan", "client_id": "cl_demo_jordan",
          "ip": "127.0.0.1"}
INVOICE = {"location_id": "loc_main", "payment_type": "private_pay",
           "discount": {"kind": "none"}, "lines": [{"service_code": "90834", "units": 1}]}


def card_on_file(rpc) -> str:
    if rpc.payments.list_saved_methods("cl_demo_avery"):
        return "already on file"
    rpc.payments.save_method(FRONT_DESK, "cl_demo_avery", {
        "payment_method": "pm_card_visa", "make_default": True,
        "request_key": "demo-avery-visa-on-file"})
    return "saved"


def bank_payment_clearing(rpc) -> str:
    if rpc.payments.list_payments("cl_demo_jordan"):
        return "already made"
    invoice = rpc.invoicing.create_invoice({**INVOICE, "client_id": "cl_demo_jordan"},
                                           FRONT_DESK["id"])
    rpc.invoicing.send_invoice(invoice["id"], "portal", FRONT_DESK["id"])
    payment = rpc.payments.pay_in_portal(JORDAN, "cl_demo_jordan", {
        "allocations": [{"invoice_id": invoice["id"], "amount": invoice["total"]}],
        "payment_method": "pm_usBankAccount_success", "user_agent": "Cairn demo",
        "request_key": "demo-jordan-bank-payment"})
    return payment["status"]


def main() -> int:
    with ClusterRpcProxy({"AMQP_URI": config.amqp_uri()}, timeout=60) as rpc:
        avery, jordan = card_on_file(rpc), bank_payment_clearing(rpc)
    print(f"payments: demo Visa for Avery Lindqvist {avery}; Jordan Okafor's bank payment "
          f"{jordan}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
