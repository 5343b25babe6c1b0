"""What any client sends is made safe before it reaches Rasa or a store.

Lone surrogates crash the e5 featurizer inside Rasa, NUL bytes are refused by PostgreSQL, control
characters mean nothing to a person; deeply nested JSON exhausts the parser's recursion.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

MAX_JSON_DEPTH = 32
KEPT_CONTROLS = frozenset("\n\t")


class UnsafeJson(ValueError):
    """A body that is not JSON, or is nested deeper than any client of ours nests it."""


def clean_text(text: str) -> str:
    """``text`` without lone surrogates, NUL and other control characters (newlines and tabs stay)."""
    if text.isprintable():
        return text
    return "".join(ch for ch in text if _kept(ch))


def _kept(ch: str) -> bool:
    category = unicodedata.category(ch)
    if category == "Cs":  # a lone surrogate: no character at all
        return False
    return category != "Cc" or ch in KEPT_CONTROLS


def load_json(body: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse a request body; ``UnsafeJson`` for anything not JSON or nested past ``max_depth``."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise UnsafeJson("the body must be JSON") from None
    if _depth(data) > max_depth:
        raise UnsafeJson(f"the body is nested deeper than {max_depth} levels")
    return data


def _depth(data: Any) -> int:
    """Nesting of lists and objects, without recursion (the data may be as deep as the parser allowed)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict):
            values: Any = value.values()
        elif isinstance(value, list):
            values = value
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in values)
    return deepest
