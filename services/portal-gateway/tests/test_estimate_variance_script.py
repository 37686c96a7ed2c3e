"""The invoice form's Good Faith Estimate warning script
(static/estimate_variance.js), run by node against a stand-in page: it asks
/staff/clients/<id>/estimate-variance with the chosen provider and what the
running total adds (an edit: only what it adds to what the invoice already
billed), shows the answer, and asks nothing without a provider."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

NODE = shutil.which("node")
SCRIPT = Path(__file__).parents[1] / "portal_gateway" / "static" / "estimate_variance.js"
RUNNER = """
const [script, provider, total, already] = process.argv.slice(1);
const asked = [], listeners = {};
const box = {innerHTML: "", getAttribute: name => ({"data-url": "/staff/clients/cl_1/estimate-variance",
                                                     "data-already-billed": already})[name]};
const form = {
  querySelector: sel => sel === "[data-gfe-variance]" ? box : sel === "#provider_id" ? {value: provider}
                        : sel === '[data-total="total"]' ? {textContent: total} : null,
  addEventListener: (kind, fn) => { listeners[kind] = fn; }};
global.window = global;
global.document = {getElementById: id => id === "invoice-form" ? form : null};
global.setTimeout = fn => fn();
global.clearTimeout = () => {};
global.fetch = url => { asked.push(url); return Promise.resolve({ok: true, text: () =>
  Promise.resolve('<p data-testid="gfe-warning">over</p>')}); };
require(script);
listeners.input();                          // the same total again: not asked twice
setImmediate(() => process.stdout.write(JSON.stringify({asked, shown: box.innerHTML})));
"""


def run(provider, total, already="0"):
    done = subprocess.run([NODE, "-e", RUNNER, str(SCRIPT), provider, total, already],
                          capture_output=True, text=True, timeout=30, check=True)
    return json.loads(done.stdout)


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_the_script_asks_with_the_provider_and_what_the_total_adds():
    shown = run("prv_demo_rivera", "$1,234.56")
    assert shown["asked"] == ["/staff/clients/cl_1/estimate-variance?provider_id=prv_demo_rivera"
                              "&proposed=1234.56"]
    assert shown["shown"] == '<p data-testid="gfe-warning">over</p>'
    edit = run("prv_demo_rivera", "$1,234.56", already="100000")
    assert edit["asked"][0].endswith("&proposed=234.56")
    lower = run("prv_demo_rivera", "$5.00", already="100000")
    assert lower["asked"][0].endswith("&proposed=0.00")
    assert run("", "$1,234.56") == {"asked": [], "shown": ""}
