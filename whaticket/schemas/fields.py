"""Custom fields: Node-style UTC timestamps, lenient dates, ids that may arrive as ""."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from flask import has_request_context
from flask_jwt_extended import get_current_user
from marshmallow import ValidationError, fields

from whaticket.utils.office_hours import zone_of


def client_zone() -> tzinfo:
    """The zone an offset-less time from the client is read in: its company's wall clock.

    The SaaS forms send local times without an offset (a `datetime-local` input, moment's
    "YYYY-MM-DD HH:mm:ss"), meaning the clock of the company the caller works for. Outside
    an authenticated request there is no such company, and a naive time stays UTC.
    """
    if not has_request_context():
        return UTC
    try:
        user = get_current_user()
    except RuntimeError:  # no token was verified for this request
        return UTC
    company = getattr(user, "company", None)
    return zone_of(company.timezone) if company is not None else UTC


def timestamp(value: Any) -> str | None:
    """A datetime as the Node API wrote it ("2024-01-02T03:04:05.678Z"); a date as ISO.

    The one formatter of `Timestamp` and of the pages that build their JSON from rows.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class Timestamp(fields.Field):
    """Dumps aware datetimes as "2024-01-02T03:04:05.678Z" (what the Node API sent);
    loads ISO datetimes or plain dates. An explicit offset or "Z" is honoured; a value
    without one is a wall-clock time (a date: its midnight) of the caller's company
    (`client_zone`). Loaded values are aware UTC."""

    default_error_messages = {"invalid": "Not a valid date or datetime."}

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return timestamp(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, str) and value.strip():
            text = value.strip().replace("Z", "+00:00")
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError:
                try:
                    parsed = datetime.combine(date.fromisoformat(text[:10]), time())
                except ValueError as exc:
                    raise self.make_error("invalid") from exc
        else:
            raise self.make_error("invalid")
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=client_zone())
        return parsed.astimezone(UTC)


class NullableId(fields.Integer):
    """An optional foreign-key id: "", null and 0 all mean "none" (the SPA sends them)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        super().__init__(strict=False, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int | None:
        if value in ("", None, 0, "0"):
            return None
        result = super()._deserialize(value, attr, data, **kwargs)
        if result is not None and result < 0:
            raise ValidationError("Must be a positive id.")
        return result


class StrippedText(fields.String):
    """A short text: surrounding blanks dropped; blank or null is stored as null."""

    def __init__(self, max_length: int, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        super().__init__(**kwargs)
        self.max_length = max_length

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if len(text) > self.max_length:
            raise ValidationError(f"Longer than maximum length {self.max_length}.")
        return text or None


class TrimmedText(fields.String):
    """A required-content text: surrounding blanks dropped, then 1 to `max_length` chars."""

    def __init__(self, max_length: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not 1 <= len(text) <= self.max_length:
            raise ValidationError(f"Length must be between 1 and {self.max_length}.")
        return text
