"""Templates: jinja2, autoescaped for HTML and not for plain text; a missing
variable is an error, not an empty string."""
from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("notifications", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), disabled_extensions=("txt",),
                                     default_for_string=True, default=True),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render(kind: str, context: dict) -> tuple[str, str]:
    """(plain text, HTML) for a kind of message."""
    env = environment()
    return (env.get_template(f"{kind}.txt").render(context),
            env.get_template(f"{kind}.html").render(context))
