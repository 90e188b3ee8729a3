"""Public API v1 schemas: the stable shapes third parties read, and the change-feed arguments
every list takes (`cursor`, `updatedSince`, `limit`)."""

from __future__ import annotations

from marshmallow import fields, validate

from whaticket.schemas.base import BaseSchema, Int
from whaticket.schemas.fields import Timestamp

#: Records per page when the caller names no limit, and the most it may ask for.
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class FeedArgsSchema(BaseSchema):
    """A change feed's query: `cursor` (from the previous page; wins over `updatedSince`),
    `updatedSince` (ISO time; no offset: UTC) and `limit`."""

    cursor = fields.String(validate=validate.Length(min=1, max=500))
    updated_since = Timestamp()
    limit = Int(load_default=DEFAULT_LIMIT, min=1, max=MAX_LIMIT)


class FeedPageSchema(BaseSchema):
    """What every feed page carries besides its records."""

    #: Whether this scan has more pages: call again with `nextCursor` until it is false.
    has_more = fields.Boolean()
    #: The next page, or (when `hasMore` is false) the start of the next scan: keep it to
    #: fetch later what changes meanwhile.
    next_cursor = fields.String()
