"""Strict JSON: what a request body, an uploaded form or a stored value may be.

One reading for every JSON text the service accepts, so that what a client or a process owner
wrote is exactly what is stored, on SQLite and PostgreSQL alike:
- valid JSON only: no NaN or Infinity, no number beyond a float, no name twice in one object
  (which value was meant is anyone's guess, and one of them would be silently dropped);
- nested at most `MAX_DEPTH` levels, so no later step can run out of stack on it;
- `bad_text` finds any text holding a NUL or an unpaired surrogate: neither database stores
  them, and no real text contains them.

`is_plain` says whether a Python value (a diagram's `param()` default, say) is JSON of the same
kind, so it is stored and read back unchanged.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

MAX_DEPTH = 64
TOO_DEEP = f"it is nested more than {MAX_DEPTH} levels deep"
FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
_ESCAPED_FORBIDDEN = re.compile(r"\\u(0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


class JsonTextError(ValueError):
    """The text is not JSON this service accepts; `reason` says why, naming no content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _refuse_constant(name: str) -> Any:
    raise JsonTextError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonTextError("a number is too large")
    return value


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                shown = json.dumps(name[:40])  # escaped: shows no raw control character
                raise JsonTextError(f"the name {shown} appears twice in one object")
            seen.add(name)
    return obj


def loads(text: str) -> Any:
    """Parse JSON text strictly, or raise JsonTextError saying why."""
    try:
        value = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            object_pairs_hook=_unique_names,
        )
    except json.JSONDecodeError as exc:  # its msg names a position, never the content
        raise JsonTextError(f"{exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except JsonTextError:
        raise
    except ValueError as exc:  # an integer with too many digits
        raise JsonTextError(str(exc).split(";")[0]) from None
    except RecursionError:
        raise JsonTextError(TOO_DEEP) from None
    # JSON nests no deeper than it has brackets, so most texts need no walk
    if text.count("[") + text.count("{") > MAX_DEPTH and _deeper_than(value, MAX_DEPTH):
        raise JsonTextError(TOO_DEEP)
    return value


def could_hold_bad_text(text: str) -> bool:
    """Whether JSON text may hold a NUL or unpaired surrogate (only as a \\u escape)."""
    return _ESCAPED_FORBIDDEN.search(text) is not None


def _deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            inner = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in inner if isinstance(child, dict | list))
    return False


def pointer_part(key: Any) -> str:
    """One JSON Pointer reference token."""
    return str(key).replace("~", "~0").replace("/", "~1")


def bad_text(value: Any) -> Iterator[str]:
    """JSON Pointers to every string or key holding a forbidden character (keys: the parent)."""
    stack: list[tuple[Any, str]] = [(value, "#")]
    while stack:
        item, at = stack.pop()
        if isinstance(item, str):
            if FORBIDDEN.search(item):
                yield at
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and FORBIDDEN.search(key):
                    yield at
                else:
                    stack.append((child, f"{at}/{pointer_part(key)}"))
        elif isinstance(item, list | tuple):
            stack.extend((child, f"{at}/{index}") for index, child in enumerate(item))


def is_plain(value: Any, depth: int = 0) -> bool:
    """Whether a Python value is JSON that stores and reads back as itself.

    Text (without a NUL or unpaired surrogate), a whole or finite number, True, False, None,
    a list of such values, or a dict of them with text keys; nested at most `MAX_DEPTH` levels.
    A tuple, a set, bytes or a dict with number keys would come back changed or not at all.
    """
    if depth > MAX_DEPTH:
        return False
    if value is None or isinstance(value, bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return FORBIDDEN.search(value) is None
    if isinstance(value, list):
        return all(is_plain(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(
            isinstance(key, str) and FORBIDDEN.search(key) is None and is_plain(item, depth + 1)
            for key, item in value.items()
        )
    return False
