"""Two gateway copies, each caching session checks and the organization for
a few seconds: what one copy learns (a sign-out, a role change, new clinic
details) reaches the other at once through broadcast events, so caching
never lets an ended session back in."""
import urllib.request

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from tests.fixtures.stack import Browser
from tests.support.processes import free_port, wait_until

ADMIN = ("admin@demo.cairn.test", "demo-staff-2026!")
BILLER = ("biller@demo.cairn.test", "demo-staff-2026!")


@pytest.fixture(scope="module")
def second_copy(cairn):
    port = free_port()
    cairn.stack.start_copy("portal-gateway", "portal-gateway-2", web_port=port)
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: _healthy(url), timeout=30, what="the second gateway copy")
    return url


def _healthy(url):
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def on(url, browser):
    """The same signed-in browser, talking to another copy."""
    other = Browser(url)
    other.cookies.update(browser.cookies)
    return other


def test_signing_out_on_one_copy_ends_the_session_on_every_copy(cairn, second_copy):
    here = cairn.sign_in("portal", "jordan@demo.cairn.test", "demo-portal-2026")
    there = on(second_copy, here)
    assert there.get("/portal").status_code == 200   # now cached on the second copy
    here.post("/portal/logout", data={"csrf": here.csrf("/portal")})
    wait_until(lambda: there.get("/portal", allow_redirects=False).status_code == 303,
               timeout=5, what="the second copy to forget the session")
    assert there.get("/portal", allow_redirects=False).headers["Location"] == "/portal/login"


def test_a_new_role_applies_on_every_copy_without_signing_in_again(cairn, second_copy):
    biller = cairn.staff(*BILLER)
    there = on(second_copy, biller)
    assert there.get("/staff/clients/cl_demo_sam/financial").status_code == 200
    with ClusterRpcProxy({"AMQP_URI": cairn.stack.env["CAIRN_AMQP_URI"]}) as rpc:
        rpc.clients.update_staff({"kind": "staff", "id": "st_demo_admin", "ip": "127.0.0.1"},
                                 "st_demo_biller", {"role": "clinician"})
    wait_until(lambda: there.get("/staff/clients/cl_demo_sam/financial").status_code == 403,
               timeout=5, what="the second copy to see the new role")


def test_new_clinic_details_show_on_every_copy(cairn, second_copy):
    patient = on(second_copy, cairn.sign_in("portal", "avery@demo.cairn.test", "demo-portal-2026"))
    assert "Hours changed" not in patient.get("/portal").text   # organization now cached there
    admin = cairn.staff(*ADMIN)
    saved = admin.post("/staff/settings/organization", data={
        "csrf": admin.csrf("/staff/settings"), "welcome_message": "Hours changed for the holidays."})
    assert saved.status_code == 200 and "Hours changed" in admin.get("/staff/settings").text
    wait_until(lambda: "Hours changed" in patient.get("/portal").text, timeout=5,
               what="the second copy to show the new welcome message")


def test_a_catalog_change_shows_on_every_copy(cairn, second_copy):
    admin = cairn.staff(*ADMIN)
    there = on(second_copy, admin)
    form = "/staff/clients/cl_demo_sam/invoices/new"
    assert "H0001 · Alcohol" in there.get(form).text            # the catalog now cached there
    csrf = admin.csrf("/staff/settings/catalog")
    admin.post("/staff/settings/catalog/H0001/active", data={"csrf": csrf, "active": "0"})
    admin.post("/staff/settings/providers/new", data={"csrf": csrf, "name": "Dana Cho",
                                                      "credentials": "PsyD"})
    wait_until(lambda: "H0001 · Alcohol" not in there.get(form).text, timeout=5,
               what="the second copy to stop offering a deactivated service")
    assert "Dana Cho, PsyD" in there.get(form).text
    assert "Deactivated" in admin.get("/staff/settings/catalog").text
    admin.post("/staff/settings/catalog/H0001/active", data={"csrf": csrf, "active": "1"})
