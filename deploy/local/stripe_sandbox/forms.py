"""Decode Stripe's form encoding and coerce parameter values.

The SDK flattens nested params the Rails way: `metadata[invoice_id]=x`,
`payment_method_types[0]=card`, `expand[]=x`; booleans are `true`/`false`.
`parse` rebuilds the nesting (digit-keyed dicts become lists).
"""
import re
from urllib.parse import parse_qsl

from . import errors

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")
_INT = re.compile(r"^-?\d+$")


def pairs(raw):
    return parse_qsl(raw or "", keep_blank_values=True)


def parse(raw):
    root = {}
    for key, value in pairs(raw):
        match = _KEY.match(key)
        if not match:
            raise errors.invalid(f"Invalid parameter name: {key}", key)
        parts = [match.group(1)] + _PART.findall(match.group(2))
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part or str(len(node)), {})
            if not isinstance(node, dict):
                raise errors.invalid(f"Invalid hash: {key}", parts[0])
        last = parts[-1] or str(len(node))
        if isinstance(node.get(last), dict):
            raise errors.invalid(f"Invalid hash: {key}", parts[0])
        node[last] = value
    return _listify(root)


def _listify(node):
    if not isinstance(node, dict):
        return node
    node = {k: _listify(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node):
        return [node[k] for k in sorted(node, key=int)]
    return node


def integer(params, name, *, required=False, minimum=None):
    value = params.get(name)
    if value is None:
        if required:
            raise errors.missing_param(name)
        return None
    if not isinstance(value, str) or not _INT.match(value):
        raise errors.invalid(f"Invalid integer: {value}", name,
                             "parameter_invalid_integer")
    number = int(value)
    if minimum is not None and number < minimum:
        raise errors.invalid(
            f"This value must be greater than or equal to {minimum}.", name,
            "parameter_invalid_integer")
    return number


def boolean(params, name, default=False):
    value = params.get(name)
    if value is None:
        return default
    if value in ("true", "false"):
        return value == "true"
    raise errors.invalid(f"Invalid boolean: {value}", name)


def string(params, name, *, required=False, choices=None):
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise errors.missing_param(name)
        return None
    if not isinstance(value, str):
        raise errors.invalid(f"Invalid string: {value!r}", name)
    if choices and value not in choices:
        raise errors.invalid(
            f"Invalid {name}: must be one of {', '.join(choices)}", name)
    return value


def metadata(params, current=None):
    """Metadata merged into `current`; "" unsets a key, metadata="" all."""
    value = params.get("metadata")
    result = dict(current or {})
    if value is None:
        return result
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise errors.invalid("Invalid hash", "metadata")
    for key, item in value.items():
        if not isinstance(item, str):
            raise errors.invalid("Invalid metadata value", f"metadata[{key}]")
        if len(key) > 40 or len(item) > 500:
            raise errors.invalid(
                "Metadata keys are limited to 40 characters and values to "
                "500 characters.", f"metadata[{key}]")
        if item == "":
            result.pop(key, None)
        else:
            result[key] = item
    if len(result) > 50:
        raise errors.invalid("Metadata can have at most 50 keys.", "metadata")
    return result


def string_list(params, name):
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, list):
        raise errors.invalid(f"Invalid array: {name}", name)
    return value


_RANGE = {"gt": lambda a, b: a > b, "gte": lambda a, b: a >= b,
          "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b}


def created_filter(params, name="created"):
    """A predicate on a `created` timestamp from `created=<int>` or
    `created[gte|gt|lte|lt]=<int>`."""
    value = params.get(name)
    if value is None or value == "":
        return lambda created: True
    if isinstance(value, str):
        exact = integer(params, name)
        return lambda created: created == exact
    if not isinstance(value, dict):
        raise errors.invalid(f"Invalid {name}", name)
    bounds = []
    for key, item in value.items():
        if key not in _RANGE:
            raise errors.invalid(f"Received unknown parameter: {name}[{key}]",
                                 f"{name}[{key}]")
        bounds.append((_RANGE[key], integer(value, key)))
    return lambda created: all(test(created, bound) for test, bound in bounds)


def hash_param(params, name):
    value = params.get(name)
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise errors.invalid(f"Invalid hash: {name}", name)
    return value


def billing_details(params):
    """`billing_details[name|email|phone|address[...]]` as a plain dict."""
    value = hash_param(params, "billing_details")
    result = {}
    for key in ("name", "email", "phone"):
        if isinstance(value.get(key), str) and value[key] != "":
            result[key] = value[key]
    address = value.get("address")
    if isinstance(address, dict):
        result["address"] = {k: v for k, v in address.items()
                             if isinstance(v, str) and v != ""}
    return result
