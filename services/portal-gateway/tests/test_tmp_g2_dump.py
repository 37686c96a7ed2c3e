
import pathlib
import re
import importlib.util, sys
spec = importlib.util.spec_from_file_location("g2pages", "/work/wt/docpages/services/portal-gateway/tests/test_gateway_document_pages.py")
mod = importlib.util.module_from_spec(spec); sys.modules["g2pages"] = mod; spec.loader.exec_module(mod)
gateway = mod.gateway

PAGES = [("portal", "/portal/documents"), ("portal", "/portal/documents/forms"), ("portal", "/portal/documents/forms/fa_1"),
         ("portal", "/portal/documents/forms/fa_2"), ("portal", "/portal/documents/surveys"), ("portal", "/portal/documents/notes"),
         ("portal", "/portal/documents/notes/no_1"), ("portal", "/portal/documents/consents"), ("portal", "/portal/documents/consents/co_1"),
         ("portal", "/portal/documents/consents/co_3"), ("portal", "/portal/documents/consents/co_3/revoke"),
         ("portal", "/portal/documents/resources"), ("portal", "/portal/documents/upload"),
         ("clinician", "/staff/clients/cl_1/documents"), ("front", "/staff/clients/cl_1/documents"),
         ("clinician", "/staff/clients/cl_1/documents/forms/fa_2"), ("clinician", "/staff/clients/cl_1/documents/notes/no_1"),
         ("clinician", "/staff/clients/cl_1/documents/consents/co_3/revoke"), ("admin", "/staff/settings/resources")]

def test_dump(gateway):
    out = pathlib.Path("/tmp/g2/html"); out.mkdir(exist_ok=True)
    for who, url in PAGES:
        r = mod.get(gateway + url, who)
        assert r.status_code == 200, url
        (out / (who + url.replace("/", "_") + ".html")).write_text(r.text)
    r = mod.post(gateway + "/portal/documents/forms/fa_1", data={"a-1": "1"})
    (out / "portal_form_errors.html").write_text(r.text)
    r = mod.post(gateway + "/portal/documents/consents/co_2", data={"typed_name": ""})
    (out / "portal_consent_errors.html").write_text(r.text)
    r = mod.post(gateway + "/staff/clients/cl_1/documents/consents", "front", data={"template_key": "roi"})
    (out / "staff_consent_errors.html").write_text(r.text)
