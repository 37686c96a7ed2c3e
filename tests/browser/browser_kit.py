"""What every browser test checks of a page, and how it reaches Stripe's
card and bank form (an iframe, as Stripe's own Payment Element is)."""
from __future__ import annotations

import os
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

SHOTS = Path(os.environ.get("CAIRN_SCREENSHOTS", "/tmp/cairn-browser-screenshots"))
_axe = Axe()


def check_page(page, name: str) -> None:
    """No serious or critical axe-core violations, no sideways scrolling at
    the page's width; a full-page screenshot is kept for a person to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name.replace(' ', '-')}.png"), full_page=True)
    width = page.viewport_size["width"]
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{name}: {scroll}px wide in a {width}px window"
    violations = [(v["id"], v["help"], len(v["nodes"])) for v in _axe.run(page).response["violations"]
                  if v["impact"] in ("serious", "critical")]
    assert violations == [], f"{name}: {violations}"


def stripe_form(page):
    """Stripe's form inside the page (the sandbox plays Stripe's part)."""
    return page.frame_locator('iframe[title="Secure payment form"]')
