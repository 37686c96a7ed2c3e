"""The standard Good Faith Estimate wording (CMS's model notice and GFE
disclaimer under the No Surprises Act, public-domain government text), kept
by version: an estimate stores the version it was issued with, so the words a
patient saw and signed under can always be shown again. A change of wording
is a new version; old versions are never edited."""
from __future__ import annotations

CURRENT = "cms-2022-1"

_RIGHT_TO_ESTIMATE = [
    "You have the right to receive a “Good Faith Estimate” explaining how much your "
    "medical care will cost.",
    "Under the law, health care providers need to give patients who don’t have insurance "
    "or who are not using insurance an estimate of the bill for medical items and services.",
    "You have the right to receive a Good Faith Estimate for the total expected cost of any "
    "non-emergency items or services. This includes related costs like medical tests, "
    "prescription drugs, equipment, and hospital fees.",
    "Make sure your health care provider gives you a Good Faith Estimate in writing at least "
    "1 business day before your medical service or item. You can also ask your health care "
    "provider, and any other provider you choose, for a Good Faith Estimate before you "
    "schedule an item or service.",
    "If you receive a bill that is at least $400 more than your Good Faith Estimate, you can "
    "dispute the bill.",
    "Make sure to save a copy or picture of your Good Faith Estimate.",
    "For questions or more information about your right to a Good Faith Estimate, visit "
    "www.cms.gov/nosurprises or call 1-800-985-3059.",
]

_DISCLAIMER = [
    "This Good Faith Estimate shows the costs of items and services that are reasonably "
    "expected for your health care needs for an item or service. The estimate is based on "
    "information known at the time the estimate was created.",
    "The Good Faith Estimate does not include any unknown or unexpected costs that may arise "
    "during treatment. You could be charged more if complications or special circumstances "
    "occur. If this happens, federal law allows you to dispute (appeal) the bill.",
    "If you are billed for more than this Good Faith Estimate, you have the right to dispute "
    "the bill. You may contact the health care provider or facility listed to let them know "
    "the billed charges are higher than the Good Faith Estimate. You can ask them to update "
    "the bill to match the Good Faith Estimate, ask to negotiate the bill, or ask if there is "
    "financial assistance available.",
    "You may also start a dispute resolution process with the U.S. Department of Health and "
    "Human Services (HHS). If you choose to use the dispute resolution process, you must "
    "start the dispute process within 120 calendar days (about 4 months) of the date on the "
    "original bill.",
    "There is a $25 fee to use the dispute process. If the agency reviewing your dispute "
    "agrees with you, you will have to pay the price on this Good Faith Estimate. If the "
    "agency disagrees with you and agrees with the health care provider or facility, you will "
    "have to pay the higher amount.",
    "To learn more and get a form to start the process, go to www.cms.gov/nosurprises or call "
    "1-800-985-3059.",
    "For questions or more information about your right to a Good Faith Estimate or the "
    "dispute process, visit www.cms.gov/nosurprises or call 1-800-985-3059.",
    "Keep a copy of this Good Faith Estimate in a safe place or take pictures of it. You may "
    "need it if you are billed a higher amount.",
]

# an estimate that is not a GFE (the patient uses insurance) says only this
_ESTIMATE_NOTE = [
    "This estimate shows the expected cost of the services listed, based on what is known "
    "today. It is not a bill and not a contract; what you are billed may differ.",
]

VERSIONS = {
    CURRENT: {"right_to_estimate": _RIGHT_TO_ESTIMATE, "disclaimer": _DISCLAIMER,
              "estimate_note": _ESTIMATE_NOTE},
}


def wording(version: str, kind: str) -> dict:
    """What an estimate of `kind` shows: the notice and disclaimer paragraphs."""
    words = VERSIONS.get(version) or VERSIONS[CURRENT]
    if kind == "gfe":
        return {"version": version, "right_to_estimate": list(words["right_to_estimate"]),
                "disclaimer": list(words["disclaimer"])}
    return {"version": version, "right_to_estimate": [], "disclaimer": list(words["estimate_note"])}
