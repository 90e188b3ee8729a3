"""AppError: a business error the services raise, with its ERR_ code and HTTP status.

The bottom of the package: adapters, services and views all raise it, so this module
imports nothing (no Flask, no database). `whaticket/api/errors.py` renders it as
`{"error": "ERR_..."}`; `whaticket/error_codes.py` lists every code and what it means.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """A business error: an ERR_ code, an HTTP status and optional field details."""

    def __init__(
        self,
        code: str,
        status: int = 400,
        fields: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.fields = fields
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body of this error."""
        out: dict[str, Any] = {"error": self.code}
        if self.fields:
            out["fields"] = self.fields
        return out


class TextError(AppError):
    """An error whose `error` is a text a screen parses instead of an ERR_ code.

    The SaaS NewTicketModal `JSON.parse`s `error` of a refused `POST /tickets` to find the
    contact's open ticket, so that one answer carries the ticket as JSON text; `code`
    still names the error for API clients and logs.
    """

    def __init__(self, code: str, text: str, status: int = 400) -> None:
        super().__init__(code, status)
        self.text = text

    def body(self) -> dict[str, Any]:
        """`{"error": <text>, "code": "ERR_..."}`."""
        return {"error": self.text, "code": self.code}
