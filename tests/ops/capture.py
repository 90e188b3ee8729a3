"""Capture every log line of the process, as the JSON and the text handlers write them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from whaticket.ops.logs import JsonFormatter


class Captured:
    """What was logged: the JSON lines and the text lines."""

    def __init__(self) -> None:
        self.json_stream = io.StringIO()
        self.text_stream = io.StringIO()

    def text(self) -> str:
        """Everything, both formats, as one string to grep."""
        return self.json_stream.getvalue() + "\n" + self.text_stream.getvalue()

    def lines(self) -> list[dict]:
        """The JSON lines, parsed (each must be one object)."""
        return [json.loads(line) for line in self.json_stream.getvalue().splitlines() if line]


@contextmanager
def all_logs() -> Iterator[Captured]:
    """Root handlers at DEBUG in both formats for the block (the levels put back after)."""
    captured = Captured()
    as_json = logging.StreamHandler(captured.json_stream)
    as_json.setFormatter(JsonFormatter())
    as_text = logging.StreamHandler(captured.text_stream)
    as_text.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(as_json)
    root.addHandler(as_text)
    try:
        yield captured
    finally:
        root.removeHandler(as_json)
        root.removeHandler(as_text)
        root.setLevel(level)
