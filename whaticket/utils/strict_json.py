"""Strict JSON for request bodies: what the stdlib parses but nothing downstream can keep.

`json.loads` accepts three things that later fail far from the input, as a 500: a body
nested past the interpreter's recursion limit (RecursionError), a lone UTF-16 surrogate
("\\ud800", which no database or UTF-8 encoder accepts) and the non-standard constants
NaN/Infinity. `loads` refuses them all with `InvalidJSONError` (a ValueError).
`StrictJSONProvider` makes it the app's JSON parser, so every body read through
`request.get_json` gets the same guard, and `StrictRequest` answers a body it refuses with
400 ERR_INVALID_JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Request
from flask.json.provider import DefaultJSONProvider

from whaticket.errors import AppError

#: Deepest nesting a body may have. Provider payloads and our own are under 15 levels.
MAX_DEPTH = 100

# A JSON escape of a UTF-16 surrogate (\ud800-\udfff): paired, it is one emoji; alone, junk.
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


class InvalidJSONError(ValueError):
    """A body that is not JSON we can store: malformed, too deep, or not valid Unicode."""


def _reject_constant(name: str) -> Any:
    """json's `parse_constant` hook: NaN, Infinity and -Infinity are not JSON."""
    raise InvalidJSONError(f"{name} is not a JSON value")


def _may_need_walk(raw: str | bytes | bytearray) -> tuple[bool, bool]:
    """(may hold a lone surrogate, may nest deeper than MAX_DEPTH), cheaply from the text."""
    if isinstance(raw, (bytes, bytearray)):
        try:
            # Strict UTF-8 refuses encoded surrogates (json.loads itself lets them pass).
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            return True, True
    else:
        text = raw
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return True, True
    surrogate = _ESCAPED_SURROGATE.search(text) is not None
    deep = text.count("[") + text.count("{") > MAX_DEPTH
    return surrogate, deep


def check(data: Any, *, surrogates: bool = True, depth: bool = True) -> None:
    """Raise InvalidJSONError when `data` nests deeper than MAX_DEPTH or holds a lone surrogate."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, str):
            if surrogates:
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError as exc:
                    raise InvalidJSONError("lone surrogate in a string") from exc
            continue
        if isinstance(value, dict):
            children: Any = [*value.keys(), *value.values()]
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth and level > MAX_DEPTH:
            raise InvalidJSONError(f"nested deeper than {MAX_DEPTH} levels")
        stack.extend((child, level + 1) for child in children)


def loads(raw: str | bytes | bytearray, **kwargs: Any) -> Any:
    """Parse a request body; InvalidJSONError when malformed, too deep or not valid Unicode."""
    kwargs.setdefault("parse_constant", _reject_constant)
    try:
        data = json.loads(raw, **kwargs)
    except RecursionError as exc:
        raise InvalidJSONError(f"nested deeper than {MAX_DEPTH} levels") from exc
    except UnicodeDecodeError as exc:
        raise InvalidJSONError("not UTF-8") from exc
    surrogates, deep = _may_need_walk(raw)
    if surrogates or deep:
        check(data, surrogates=surrogates, depth=deep)
    return data


class StrictJSONProvider(DefaultJSONProvider):
    """The app's JSON provider: parses with `loads` above (dumps as Flask does)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse strictly; `request.get_json` turns InvalidJSONError into a 400."""
        return loads(s, **kwargs)


class StrictRequest(Request):
    """The app's request: a body `get_json` cannot parse is 400 ERR_INVALID_JSON."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        """A wrong content type stays Flask's 415; an unparsable body is our 400."""
        if e is None:
            return super().on_json_loading_failed(e)
        raise AppError("ERR_INVALID_JSON", 400) from e
