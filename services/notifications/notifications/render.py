"""Templates: jinja2, autoescaped for HTML and not for plain text; a missing
variable is an error, not an empty string. `render_message(kind, context)`
gives the subject and both bodies of any kind in `domain.KINDS`."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from notifications.domain import KINDS, subject_for


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("notifications", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), disabled_extensions=("txt",),
                                     default_for_string=True, default=True),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render(template: str, context: dict) -> tuple[str, str]:
    """(plain text, HTML) of one template."""
    env = environment()
    return (env.get_template(f"{template}.txt").render(context),
            env.get_template(f"{template}.html").render(context))


def render_message(kind: str, context: dict) -> Rendered:
    """Subject (from the neutral `sender_name` in the context, never the
    clinic's name) and bodies for a kind of message."""
    text, html = render(KINDS[kind].template, context)
    return Rendered(subject_for(kind, context["sender_name"]), text, html)
