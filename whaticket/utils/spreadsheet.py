"""Reading uploaded CSV and XLSX files into header-keyed records, row numbers kept."""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterator
from typing import Any

from whaticket.errors import AppError

#: A 5 MiB xlsx can inflate to far more rows than anyone imports at once.
UPLOAD_MAX_ROWS = 100_000


def header_key(text: Any) -> str:
    """ "Número", "E-mail " -> "numero", "email": lower case, accents and marks removed."""
    folded = unicodedata.normalize("NFKD", str(text or "")).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def _cell(value: Any) -> str:
    """A cell as text: spreadsheet numbers lose their ".0", None is ""."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_csv(content: bytes) -> Iterator[list[str]]:
    """Rows of a UTF-8 (BOM or not) or Windows-1252 CSV delimited by ";", "," or tab."""
    if b"\x00" in content:
        raise AppError("ERR_UNSUPPORTED_MEDIA_TYPE", 415)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel in Brazil saves "CSV" in Windows-1252; reading it beats rejecting it.
        try:
            text = content.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise AppError("ERR_UNSUPPORTED_MEDIA_TYPE", 415) from exc
    sample = "\n".join(text.splitlines()[:20])
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=";,\t")
        delimiter = dialect.delimiter
    except csv.Error:
        # One column, or too irregular to sniff: the header line decides.
        header = text.splitlines()[0] if text else ""
        delimiter = max(";,\t", key=header.count)
    return _checked(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _checked(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    """The reader's rows; a row csv cannot read (a field over its 128 KiB limit, a quote
    never closed before a NUL) is a 400 naming the file, not a 500."""
    try:
        yield from reader
    except csv.Error as exc:
        raise AppError("ERR_VALIDATION", 400, {"file": [f"Unreadable CSV: {exc}."]}) from exc


def _read_xlsx(content: bytes) -> Iterator[list[Any]]:
    """Rows of the first worksheet of an xlsx workbook (values, not formulas)."""
    from openpyxl import load_workbook

    if not content.startswith(b"PK\x03\x04") or not zipfile.is_zipfile(io.BytesIO(content)):
        raise AppError("ERR_UNSUPPORTED_MEDIA_TYPE", 415)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a zip that is no workbook
        raise AppError("ERR_UNSUPPORTED_MEDIA_TYPE", 415) from exc

    def rows() -> Iterator[list[Any]]:
        try:
            sheet = workbook.worksheets[0] if workbook.worksheets else None
            if sheet is None:
                return
            for row in sheet.iter_rows(values_only=True):
                yield list(row)
        except (KeyError, ValueError, SyntaxError, zipfile.BadZipFile, OSError) as exc:
            # A damaged sheet inside a valid zip: not a workbook we can read.
            raise AppError("ERR_UNSUPPORTED_MEDIA_TYPE", 415) from exc
        finally:
            workbook.close()

    return rows()


def records(
    rows: Iterator[list[Any]],
    headers: dict[str, set[str]],
    required: str = "number",
    max_rows: int = UPLOAD_MAX_ROWS,
) -> Iterator[tuple[int, dict[str, str]]]:
    """(spreadsheet row number, {name, number, email}) for each non-blank data row; more
    than `max_rows` of them is a 400 ERR_TOO_MANY_ROWS naming the cap."""
    columns: dict[str, int] | None = None
    count = 0
    for row_number, row in enumerate(rows, start=1):
        cells = [_cell(v) for v in row]
        if not any(cells):
            continue
        if columns is None:
            keys = [header_key(c) for c in cells]
            columns = {
                field: keys.index(alias)
                for field, aliases in headers.items()
                for alias in aliases
                if alias in keys
            }
            if required not in columns:
                aliases = ", ".join(sorted(headers[required]))
                raise AppError(
                    "ERR_VALIDATION", 400, {"file": [f"No {required} column ({aliases})."]}
                )
            continue
        count += 1
        if count > max_rows:
            raise AppError("ERR_TOO_MANY_ROWS", 400, {"file": [f"At most {max_rows} rows."]})
        record = {f: cells[i] if i < len(cells) else "" for f, i in columns.items()}
        yield row_number, record


def parse_upload(
    filename: str,
    content: bytes,
    headers: dict[str, set[str]],
    max_rows: int = UPLOAD_MAX_ROWS,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Records of an uploaded file, its type taken from the extension and checked on content."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext == "csv":
        return records(_read_csv(content), headers, max_rows=max_rows)
    if ext == "xlsx":
        return records(_read_xlsx(content), headers, max_rows=max_rows)
    raise AppError("ERR_UNSUPPORTED_MEDIA_TYPE", 415)
