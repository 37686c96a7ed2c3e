"""The New estimate form as an RPC payload. The gateway only reshapes what
was typed; invoicing checks every field at once and names each problem next
to its field (`line2_service`, `scheduled_on`, …)."""
from __future__ import annotations

from servicekit import clock

ESTIMATE_ROWS = 6
KINDS = [("gfe", "Good Faith Estimate (self-pay or uninsured)"),
         ("estimate", "Estimate (using insurance)")]
CHANNELS = {"portal": ["portal"], "email": ["email"], "both": ["portal", "email"]}


def _units(text: str):
    text = (text or "").strip() or "1"
    return int(text) if text.isascii() and text.isdigit() and len(text) < 6 else text


def estimate_payload(form, client_id: str) -> dict:
    lines = []
    for row in range(1, ESTIMATE_ROWS + 1):
        code = form.get(f"line{row}_service", "").strip()
        if not code:
            continue
        lines.append({"row": row, "service_code": code,
                      "units": _units(form.get(f"line{row}_units", "1")),
                      "expected_on": form.get(f"line{row}_date", "").strip()})
    return {"client_id": client_id, "kind": form.get("kind", ""),
            "provider_id": form.get("provider_id", ""), "location_id": form.get("location_id", ""),
            "diagnosis_codes": form.get("diagnosis_codes", ""),
            "requested_by_patient": form.get("requested_by_patient") == "yes",
            "scheduled_on": form.get("scheduled_on", ""), "memo": form.get("memo", ""),
            "lines": lines}


def blank_form() -> dict:
    return {"kind": "gfe", "scheduled_on": clock.today().isoformat()}


def channels(choice: str) -> list[str] | None:
    return CHANNELS.get(choice)


def signer(form, ip: str, user_agent: str) -> dict:
    return {"typed_name": form.get("typed_name", ""), "ip": ip, "user_agent": user_agent[:300]}
