"""What people type into forms becomes exact cents and basis points."""
import pytest
from werkzeug.datastructures import MultiDict

from portal_gateway.forms import basis_points, cents, form_from_invoice, invoice_payload
from servicekit.errors import InvalidInput


@pytest.mark.parametrize("typed, expected", [("12.5", 1250), ("$1,0", None), ("0.05", 5), ("20", 2000),
                                             (" $7.10 ", 710), ("1.999", None), ("-3", None), ("abc", None)])
def test_dollars_become_cents_without_floats(typed, expected):
    if expected is None:
        with pytest.raises(InvalidInput):
            cents(typed, "price")
    else:
        assert cents(typed, "price") == expected


@pytest.mark.parametrize("typed, expected", [("10", 1000), ("12.5", 1250), ("33.33%", 3333), ("x", None)])
def test_percentages_become_basis_points(typed, expected):
    if expected is None:
        with pytest.raises(InvalidInput):
            basis_points(typed, "discount")
    else:
        assert basis_points(typed, "discount") == expected


def test_editing_an_invoice_keeps_every_line_price_and_the_discount():
    invoice = {"location_id": "loc_1", "payment_type": "sliding_scale", "memo": "", "due_on": None,
               "discount": {"kind": "percent", "value": 1250},
               "lines": [{"service_code": "90834", "units": 1, "unit_price": 9000},
                         {"service_code": "90853", "units": 2, "unit_price": 6005}]}
    payload = invoice_payload(MultiDict(form_from_invoice(invoice)), "cl_1")
    assert payload["lines"] == [{"service_code": "90834", "units": 1, "unit_price": 9000},
                                {"service_code": "90853", "units": 2, "unit_price": 6005}]
    assert payload["discount"] == {"kind": "percent", "value": 1250}
