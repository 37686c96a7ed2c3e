"""The invoice form's running totals (static/invoice_form.js) are the
server's (invoicing/domain.py): the same invoices, priced by both, agree to
the cent on every line, discount and total — or both refuse."""
import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

domain = pytest.importorskip("invoicing.domain")
NODE = shutil.which("node")
SCRIPT = Path(__file__).parents[1] / "portal_gateway" / "static" / "invoice_form.js"
RUNNER = """
const math = require(process.argv[1]);
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = cases.map(c => {
  const lines = c.lines.map(l => ({units: l.units, price: l.price, fee: BigInt(l.fee), discount: l.discount}));
  const r = math.priceInvoice(lines, c.kind, c.value);
  if (r.problem) { return {problem: r.problem}; }
  return {subtotal: Number(r.subtotal), line_discounts: Number(r.lineDiscounts),
          invoice_discount: Number(r.invoiceDiscount), total: Number(r.total),
          nets: r.nets.map(Number)};
});
process.stdout.write(JSON.stringify(out));
"""


def _typed_money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _case(rng: random.Random) -> dict:
    lines = []
    for _ in range(rng.randint(1, 12)):
        units, price = rng.randint(1, 9), rng.choice([0, 1, 99, 3333, 6000, 15000, rng.randint(0, 99_999)])
        typed = rng.random() < 0.5
        amount = units * price
        discount = rng.choice(["", f"{rng.randint(0, 100)}%", f"{rng.randint(0, 99)}.{rng.randint(0, 99):02d}%",
                               _typed_money(rng.randint(0, amount + 50))])
        lines.append({"units": str(units), "price": _typed_money(price) if typed else "",
                      "fee": price, "discount": discount})
    kind = rng.choice(["none", "percent", "fixed"])
    value = {"none": "", "percent": f"{rng.randint(0, 100)}.{rng.randint(0, 99):02d}",
             "fixed": _typed_money(rng.randint(0, 200_000))}[kind]
    return {"lines": lines, "kind": kind, "value": value}


def _server(case: dict) -> dict:
    def discount_of(text, amount_kind):
        if not text:
            return domain.Discount()
        if text.endswith("%"):
            whole, _, frac = text[:-1].partition(".")
            return domain.Discount("percent", int(whole) * 100 + int((frac or "0").ljust(2, "0")))
        whole, _, frac = text.partition(".")
        return domain.Discount("fixed", int(whole) * 100 + int(frac.ljust(2, "0")))
    lines = [domain.Line("x", "x", int(l["units"]), l["fee"], discount_of(l["discount"], None))
             for l in case["lines"]]
    if case["kind"] == "percent":
        whole, _, frac = case["value"].partition(".")
        discount = domain.Discount("percent", int(whole) * 100 + int(frac.ljust(2, "0")))
    elif case["kind"] == "fixed":
        discount = discount_of(case["value"], None)
    else:
        discount = domain.Discount()
    try:
        totals = domain.price(lines, discount)
    except domain.RuleBroken as refused:
        return {"problem": " ".join(refused.errors.values())}
    return {"subtotal": totals.subtotal, "line_discounts": totals.line_discounts,
            "invoice_discount": totals.invoice_discount, "total": totals.total,
            "nets": [p.net for p in totals.lines]}


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_the_page_and_the_server_price_every_invoice_alike():
    rng = random.Random(8)
    cases = [_case(rng) for _ in range(600)]
    ran = subprocess.run([NODE, "-e", RUNNER, str(SCRIPT)], input=json.dumps(cases),
                         capture_output=True, text=True, timeout=60, check=True)
    page = json.loads(ran.stdout)
    refused = 0
    for case, mine in zip(cases, page):
        theirs = _server(case)
        if "problem" in theirs or "problem" in mine:
            refused += 1
            assert ("problem" in theirs) == ("problem" in mine), (case, mine, theirs)
            continue
        assert mine == theirs, case
    assert 0 < refused < len(cases) / 2        # both kinds of case were tried
