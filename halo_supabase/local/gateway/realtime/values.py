"""PostgreSQL text values to the typed JSON Realtime sends (what `realtime.cast` produces)."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["to_json"]

_INTEGERS = frozenset({"int2", "int4", "int8", "oid"})
_FLOATS = frozenset({"float4", "float8", "numeric"})


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return text
    # NaN and infinities are not JSON numbers; Realtime sends them as strings too.
    return value if value == value and value not in (float("inf"), float("-inf")) else text


def _array(text: str, element: str) -> Any:
    """A one-dimensional array literal (`{a,"b c",NULL}`); anything fancier stays text."""
    if not (text.startswith("{") and text.endswith("}")) or "{" in text[1:-1]:
        return text
    items: list[Any] = []
    body, i, current, quoted, was_quoted = text[1:-1], 0, "", False, False
    if not body:
        return []
    while i < len(body):
        char = body[i]
        if quoted:
            if char == "\\":
                i += 1
                current += body[i]
            elif char == '"':
                quoted = False
            else:
                current += char
        elif char == '"':
            quoted = was_quoted = True
        elif char == ",":
            items.append(
                None if current == "NULL" and not was_quoted else to_json(element, current)
            )
            current, was_quoted = "", False
        else:
            current += char
        i += 1
    items.append(None if current == "NULL" and not was_quoted else to_json(element, current))
    return items


def to_json(type_name: str, text: str | None) -> Any:
    if text is None:
        return None
    if type_name in _INTEGERS or type_name in _FLOATS:
        return _number(text)
    if type_name == "bool":
        return text == "t"
    if type_name in ("json", "jsonb"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    if type_name.startswith("_"):
        return _array(text, type_name[1:])
    return text
