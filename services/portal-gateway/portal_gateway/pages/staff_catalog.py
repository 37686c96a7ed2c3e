"""Settings for administrators: the service catalog (codes, fees, fees per
location, modifiers, place of service; deactivate without losing history)
and the billing providers. Invoicing owns both; after a change this copy
forgets its cached catalog at once and the others hear CatalogChanged."""
from __future__ import annotations

from nameko.exceptions import RemoteError
from portal_gateway.web import http

from servicekit.errors import InvalidFields, InvalidInput

from portal_gateway import forms, web
from portal_gateway.access import signed_in


def _refusal(error) -> dict:
    if isinstance(error, InvalidFields):
        return dict(error.errors)
    if isinstance(error, RemoteError) and error.exc_type in ("InvalidInput", "NotFound"):
        return {"form": error.value}
    raise error


def _dollars(cents: int | None) -> str:
    return "" if cents is None else f"{cents // 100}.{cents % 100:02d}"


def service_payload(form, locations) -> tuple[dict, dict]:
    """The service a settings form describes, and what the page could not read."""
    errors: dict[str, str] = {}
    try:
        fee = forms.cents(form.get("fee", ""), "the fee")
    except InvalidInput:
        errors["fee"] = "Enter the fee as an amount like 150.00."
        fee = 0
    fees = {}
    for location in locations:
        text = form.get(f"fee_{location['id']}", "").strip()
        try:
            fees[location["id"]] = forms.cents(text, "the fee") if text else None
        except InvalidInput:
            errors[f"fee_{location['id']}"] = (f"Enter the fee at {location['name']} as an amount "
                                               "like 150.00, or leave it empty.")
    return {"code": form.get("code", ""), "existing": bool(form.get("existing")),
            "description": form.get("description", ""), "fee": fee,
            "modifiers": form.get("modifiers", ""), "place_of_service": form.get("place_of_service", ""),
            "location_fees": fees}, errors


def service_form(service: dict) -> dict:
    form = {"code": service["code"], "description": service["description"],
            "fee": _dollars(service["fee"]), "modifiers": ", ".join(service["modifiers"]),
            "place_of_service": service["place_of_service"], "existing": "1"}
    for location_id, fee in service["location_fees"].items():
        form[f"fee_{location_id}"] = _dollars(fee)
    return form


PROVIDER_FIELDS = ("name", "credentials", "npi", "tax_id", "license")


class CatalogPages:

    @http("GET", "/staff/settings/catalog")
    @signed_in("staff", "org.admin")
    def catalog_page(self, request, session):
        services = self.invoicing.list_services.call_async(True)
        providers = self.invoicing.list_providers.call_async(True)
        return web.page("staff/catalog.html", session=session, services=services.result(),
                        providers=providers.result(), locations=self._organization()["locations"],
                        notice=request.args.get("notice", ""))

    @http("GET", "/staff/settings/catalog/<code>")
    @signed_in("staff", "org.admin")
    def service_page(self, request, session, code):
        service = None if code == "new" else self.invoicing.get_service(code)
        return self._service_form(session, service, service_form(service) if service else {}, {})

    @http("POST", "/staff/settings/catalog/<code>")
    @signed_in("staff", "org.admin")
    def save_service(self, request, session, code):
        locations = self._organization()["locations"]
        payload, errors = service_payload(request.form, locations)
        if code != "new":
            payload.update(code=code, existing=True)
        if not errors:
            try:
                self.invoicing.save_service(payload, session["subject_id"])
            except (InvalidFields, RemoteError) as refused:
                errors = _refusal(refused)
        if errors:
            service = None if code == "new" else {"code": code}
            return self._service_form(session, service, dict(request.form.items()), errors, 400)
        self._forget_catalog()
        return web.redirect("/staff/settings/catalog?notice=service")

    @http("POST", "/staff/settings/catalog/<code>/active")
    @signed_in("staff", "org.admin")
    def service_active(self, request, session, code):
        active = request.form.get("active") == "1"
        self.invoicing.set_service_active(code, active, session["subject_id"])
        self._forget_catalog()
        return web.redirect(f"/staff/settings/catalog?notice={'activated' if active else 'deactivated'}")

    @http("GET", "/staff/settings/providers/<provider_id>")
    @signed_in("staff", "org.admin")
    def provider_page(self, request, session, provider_id):
        provider = None
        if provider_id != "new":
            provider = next((p for p in self.invoicing.list_providers(True)
                             if p["id"] == provider_id), None)
            if provider is None:
                return web.error_page(404, "That provider was not found.", session=session,
                                      area="staff")
        return web.page("staff/provider_form.html", session=session, provider=provider,
                        form=dict(provider or {}), errors={})

    @http("POST", "/staff/settings/providers/<provider_id>")
    @signed_in("staff", "org.admin")
    def save_provider(self, request, session, provider_id):
        payload = {field: request.form.get(field, "") for field in PROVIDER_FIELDS}
        if provider_id != "new":
            payload["id"] = provider_id
        try:
            self.invoicing.save_provider(payload, session["subject_id"])
        except (InvalidFields, RemoteError) as refused:
            return web.page("staff/provider_form.html", status=400, session=session,
                            provider=None if provider_id == "new" else {"id": provider_id},
                            form=dict(request.form.items()), errors=_refusal(refused))
        self._forget_catalog()
        return web.redirect("/staff/settings/catalog?notice=provider")

    @http("POST", "/staff/settings/providers/<provider_id>/active")
    @signed_in("staff", "org.admin")
    def provider_active(self, request, session, provider_id):
        active = request.form.get("active") == "1"
        self.invoicing.set_provider_active(provider_id, active, session["subject_id"])
        self._forget_catalog()
        return web.redirect(f"/staff/settings/catalog?notice={'activated' if active else 'deactivated'}")

    def _service_form(self, session, service, form, errors, status=200):
        return web.page("staff/service_form.html", status=status, session=session, service=service,
                        form=form, errors=errors, locations=self._organization()["locations"])
