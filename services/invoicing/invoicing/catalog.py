"""The service catalog and the billing providers: administrators add and
change them; nothing is ever deleted (a deactivated service or provider is
not offered for new invoices, and old invoices keep showing it). Every change
records `CatalogChanged`, a broadcast that makes every gateway copy read the
catalog again. The caller commits."""
from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicekit.db import utcnow
from servicekit.errors import InvalidFields, NotFound
from servicekit.outbox import record_event

from invoicing import schemas
from invoicing.models import BillingProvider, LocationFee, ServiceItem

SOURCE = "invoicing"


def changed(session: Session, part: str) -> None:
    record_event(session, SOURCE, "CatalogChanged", {"part": part})


def list_services(session: Session, include_inactive: bool = False) -> list[dict]:
    query = select(ServiceItem).order_by(ServiceItem.code)
    if not include_inactive:
        query = query.where(ServiceItem.active)
    items = session.scalars(query).all()
    fees: dict[str, dict] = {}
    for fee in session.scalars(select(LocationFee)):
        fees.setdefault(fee.code, {})[fee.location_id] = fee.fee
    return [schemas.service_out(item, fees.get(item.code)) for item in items]


def service_of(session: Session, item: ServiceItem) -> dict:
    fees = {fee.location_id: fee.fee for fee in session.scalars(
        select(LocationFee).where(LocationFee.code == item.code))}
    return schemas.service_out(item, fees)


def get_service(session: Session, code) -> dict:
    return service_of(session, _service(session, code))


def _service(session: Session, code) -> ServiceItem:
    item = session.get(ServiceItem, str(code or "").strip().upper())
    if item is None:
        raise NotFound("That service is not in the catalog.")
    return item


def save_service(session: Session, payload) -> ServiceItem:
    """Add a service, or change one (its code stays: old invoices name it).
    `location_fees` ({location id: cents, or None for the default fee}), if
    given, are set in the same transaction."""
    data = schemas.service_input(payload)
    fees = payload.get("location_fees") or {}
    if not isinstance(fees, dict) or not all(
            fee is None or (isinstance(fee, int) and not isinstance(fee, bool)
                            and 0 <= fee <= 99_999_999) for fee in fees.values()):
        raise InvalidFields({"location_fees": "Enter each location's fee as an amount like "
                                              "150.00, or leave it empty."})
    item = session.get(ServiceItem, data["code"])
    if item is None:
        if payload.get("existing"):
            raise NotFound("That service is not in the catalog.")
        item = ServiceItem(code=data["code"], active=True)
        session.add(item)
    elif not payload.get("existing"):
        raise InvalidFields({"code": f"{data['code']} is already in the catalog. Change it in "
                                     "the list below."})
    item.description, item.fee = data["description"], data["fee"]
    item.modifiers, item.place_of_service = ",".join(data["modifiers"]), data["place_of_service"]
    item.updated_at = utcnow()
    session.flush()
    for location_id, fee in fees.items():
        set_location_fee(session, item.code, location_id, fee, announce=False)
    changed(session, "service")
    return item


def set_service_active(session: Session, code, active: bool) -> ServiceItem:
    item = _service(session, code)
    item.active, item.updated_at = bool(active), utcnow()
    changed(session, "service")
    return item


def set_location_fee(session: Session, code, location_id, fee, announce: bool = True) -> ServiceItem:
    """The service's fee at one location (None: its default fee applies there)."""
    item = _service(session, code)
    location_id = str(location_id or "").strip()
    if not location_id or len(location_id) > 40:
        raise InvalidFields({"location_id": "Pick a location."})
    current = session.get(LocationFee, (item.code, location_id))
    if fee is None:
        if current is not None:
            session.delete(current)
    else:
        if isinstance(fee, bool) or not isinstance(fee, int) or not 0 <= fee <= 99_999_999:
            raise InvalidFields({"fee": "Enter the fee as an amount like 150.00."})
        if current is None:
            session.add(LocationFee(code=item.code, location_id=location_id, fee=fee))
        else:
            current.fee = fee
    item.updated_at = utcnow()
    session.flush()
    if announce:
        changed(session, "location_fee")
    return item


def list_providers(session: Session, include_inactive: bool = False) -> list[dict]:
    query = select(BillingProvider).order_by(BillingProvider.name)
    if not include_inactive:
        query = query.where(BillingProvider.active)
    return [schemas.provider_out(provider) for provider in session.scalars(query)]


def save_provider(session: Session, payload) -> BillingProvider:
    data = schemas.provider_input(payload)
    if data["id"]:
        provider = session.get(BillingProvider, data["id"])
        if provider is None:
            raise NotFound("That provider was not found.")
    else:
        provider = BillingProvider(id=f"prv_{secrets.token_hex(6)}", active=True)
        session.add(provider)
    for field in ("name", "credentials", "npi", "tax_id", "license", "staff_id"):
        setattr(provider, field, data[field])
    changed(session, "provider")
    return provider


def set_provider_active(session: Session, provider_id, active: bool) -> BillingProvider:
    provider = session.get(BillingProvider, str(provider_id or ""))
    if provider is None:
        raise NotFound("That provider was not found.")
    provider.active = bool(active)
    changed(session, "provider")
    return provider
