"""What every browser test checks of a page, and how it reaches Stripe's
card and bank form (an iframe, as Stripe's own Payment Element is)."""
from __future__ import annotations

import os
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

REPO = Path(__file__).resolve().parents[2]
# var/ is git-ignored: the screenshots are for a person to look at, never committed
SHOTS = Path(os.environ.get("CAIRN_SCREENSHOTS", REPO / "var" / "browser-screenshots"))
WIDTHS = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}
_axe = Axe()


def check_page(page, name: str) -> None:
    """No serious or critical axe-core violations, no sideways scrolling at
    the page's width; a full-page screenshot is kept for a person to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name.replace(' ', '-')}.png"), full_page=True)
    width = page.viewport_size["width"]
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{name}: {scroll}px wide in a {width}px window: {too_wide(page, width)}"
    violations = [(v["id"], v["help"], len(v["nodes"])) for v in _axe.run(page).response["violations"]
                  if v["impact"] in ("serious", "critical")]
    assert violations == [], f"{name}: {violations}"


def too_wide(page, width: int) -> list[str]:
    """The innermost elements reaching past the window's right edge (to fix)."""
    return page.evaluate("""width => [...document.querySelectorAll('body *')]
        .filter(el => el.getBoundingClientRect().right > width + 1
                      && ![...el.children].some(c => c.getBoundingClientRect().right > width + 1))
        .slice(0, 5).map(el => el.outerHTML.slice(0, 160))""", width)


def check_page_at_both_widths(page, name: str) -> None:
    """check_page at a desktop's 1280 px and a phone's 390 px (screenshots
    `<name>-1280.png` and `<name>-390.png`), then back to the page's own size."""
    own = page.viewport_size
    try:
        for width, size in WIDTHS.items():
            page.set_viewport_size(size)
            check_page(page, f"{name}-{width}")
    finally:
        page.set_viewport_size(own)


def portal_menu(page, item: str) -> None:
    """Follow the portal's left main menu to `item`, opening it with the
    Menu button first where it is folded away (a phone)."""
    button = page.get_by_role("button", name="Menu")
    if button.is_visible() and button.get_attribute("aria-expanded") == "false":
        button.click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name=item, exact=True).click()


def tab_to(page, locator, limit: int = 80) -> None:
    """Press Tab, as a keyboard user does, until `locator` has the focus
    (fails if it is never reached: not focusable, hidden or behind a trap)."""
    for _ in range(limit):
        if locator.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{locator} never got the focus in {limit} presses of Tab")


def stripe_form(page):
    """Stripe's form inside the page (the sandbox plays Stripe's part)."""
    return page.frame_locator('iframe[title="Secure payment form"]')
