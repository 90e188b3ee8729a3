"""Media storage: files under MEDIA_ROOT/<company_id>/, size and type limits, serving.

Every file lives at `MEDIA_ROOT/<company_id>/<subdir>/<YYYY>/<MM>/<uuid hex>-<name>`;
rows store the path relative to the company folder (never absolute), so a company's
files can only ever be reached through its own id. Their signed public URLs are built by
`whaticket.utils.media_urls`.
"""

from __future__ import annotations

import mimetypes
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from werkzeug.utils import secure_filename

from whaticket.db import after_commit, utcnow
from whaticket.errors import AppError

#: Longest stored file name (the uuid prefix comes on top of it).
MAX_NAME_LENGTH = 120
#: A subdirectory: plain segments only, so it can never climb out of the company folder.
_SUBDIR_RE = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
#: Types served inline; everything else downloads (SVG can carry scripts, so it downloads).
_INLINE_MAJORS = ("image/", "audio/", "video/")
_NEVER_INLINE = frozenset({"image/svg+xml"})


@dataclass(frozen=True)
class StoredMedia:
    """A stored file: `path` is relative to MEDIA_ROOT/<company_id>."""

    path: str
    name: str
    mimetype: str
    media_type: str
    size: int


def company_root(company_id: int) -> Path:
    """The company's media folder (resolved; not necessarily existing yet)."""
    return (Path(current_app.config["MEDIA_ROOT"]) / str(int(company_id))).resolve()


def base_type(mimetype: str | None) -> str:
    """`type/subtype` lowercased, parameters dropped ("audio/ogg; codecs=opus" -> "audio/ogg")."""
    return (mimetype or "").split(";", 1)[0].strip().lower()


def sniff_mimetype(data: bytes) -> str | None:
    """The MIME type the first bytes reveal (JPEG/PNG/GIF/WEBP/PDF/OGG/MP3/MP4), else None."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"ID3"):
        return "audio/mpeg"
    # MPEG audio frame sync: 11 set bits, then a non-reserved layer (ADTS AAC has layer 0).
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return "audio/mpeg"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return "audio/mp4"
        if brand == b"qt  ":
            return "video/quicktime"
        return "video/mp4"
    return None


def detect_mimetype(data: bytes, declared: str | None) -> str:
    """The content's type when the bytes tell it, else the declared one (or octet-stream).

    The declared value wins when it agrees with the sniffed one (keeps codec parameters),
    and for audio in an MP4 container (browsers record voice notes as audio/mp4).
    """
    declared_base = base_type(declared)
    sniffed = sniff_mimetype(data)
    if sniffed is None:
        return declared_base or "application/octet-stream"
    if declared_base == sniffed:
        return declared.strip() if declared else sniffed
    if sniffed in ("video/mp4", "audio/mp4") and declared_base.startswith("audio/"):
        return declared_base
    return sniffed


def media_type_of(mimetype: str) -> str:
    """The Message.media_type for a MIME type: image, video, audio or application."""
    major = base_type(mimetype).split("/", 1)[0]
    return major if major in ("image", "video", "audio") else "application"


def type_allowed(mimetype: str) -> bool:
    """True when MEDIA_ALLOWED_TYPES accepts `mimetype` ("type/*" entries match a major)."""
    value = base_type(mimetype)
    for allowed in current_app.config["MEDIA_ALLOWED_TYPES"]:
        allowed = allowed.strip().lower()
        if allowed == value or (allowed.endswith("/*") and value.startswith(allowed[:-1])):
            return True
    return False


def validate(data: bytes, mimetype: str | None) -> str:
    """Check size and type limits; return the effective MIME type (413/415 AppErrors)."""
    if len(data) > int(current_app.config["MEDIA_MAX_BYTES"]):
        raise AppError("ERR_FILE_TOO_LARGE", 413)
    effective = detect_mimetype(data, mimetype)
    if not type_allowed(effective):
        raise AppError("ERR_UNSUPPORTED_MEDIA_TYPE", 415)
    return effective


def sanitize_filename(filename: str | None, mimetype: str | None = None) -> str:
    """A safe single-segment file name, with an extension matching the type when it lacks one."""
    name = secure_filename(filename or "")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if not stem:
        # "", ".." or a name made only of unsafe characters: use a neutral name.
        stem = "file"
    if not ext and mimetype:
        guessed = mimetypes.guess_extension(base_type(mimetype)) or ""
        ext = guessed.lstrip(".")
    stem = stem[: MAX_NAME_LENGTH - len(ext) - 1]
    return f"{stem}.{ext}" if ext else stem


def save(
    company_id: int,
    data: bytes,
    filename: str | None,
    mimetype: str | None,
    subdir: str = "messages",
) -> StoredMedia:
    """Store `data` for the company after checking limits; return where and what it is."""
    if not _SUBDIR_RE.match(subdir):
        raise ValueError(f"invalid media subdir {subdir!r}")
    return write(company_id, data, filename, validate(data, mimetype), subdir)


def write(
    company_id: int, data: bytes, filename: str | None, mimetype: str, subdir: str
) -> StoredMedia:
    """Store `data` as it is, its limits checked by the caller (`save` checks the upload
    limits; an import keeps the spreadsheet it has already read)."""
    if not _SUBDIR_RE.match(subdir):
        raise ValueError(f"invalid media subdir {subdir!r}")
    name = sanitize_filename(filename, mimetype)
    now = utcnow()
    rel = f"{subdir}/{now:%Y}/{now:%m}/{uuid.uuid4().hex}-{name}"
    root = company_root(company_id)
    target = (root / rel).resolve()
    if not target.is_relative_to(root):  # defence in depth: the parts are already safe
        raise AppError("ERR_NOT_FOUND", 404)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "xb") as fh:  # "x": a uuid collision must never overwrite a file
        fh.write(data)
    return StoredMedia(
        path=rel,
        name=name,
        mimetype=mimetype,
        media_type=media_type_of(mimetype),
        size=len(data),
    )


def absolute_path(company_id: int, rel: str) -> Path:
    """The file of `rel` inside the company folder; 404 when outside it or missing."""
    if not rel or "\x00" in rel or "\\" in rel or rel.startswith("/"):
        raise AppError("ERR_NOT_FOUND", 404)
    root = company_root(company_id)
    try:
        target = (root / rel).resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # symlink loops, bad names
        raise AppError("ERR_NOT_FOUND", 404) from exc
    # resolve() has followed "..", symlinks and the like: check where it really points.
    if not target.is_relative_to(root) or target == root or not target.is_file():
        raise AppError("ERR_NOT_FOUND", 404)
    return target


def delete(company_id: int, rel: str) -> bool:
    """Remove a stored file; True when it existed."""
    try:
        path = absolute_path(company_id, rel)
    except AppError:
        return False
    path.unlink(missing_ok=True)
    return True


def serving_mimetype(path: Path) -> str:
    """The type to serve a stored file as: from its bytes, else its name; octet-stream
    when that is not an accepted upload type (a renamed .html never renders as HTML)."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    guessed = mimetypes.guess_type(path.name)[0]
    mimetype = detect_mimetype(head, guessed)
    return mimetype if type_allowed(mimetype) else "application/octet-stream"


def is_inline(mimetype: str) -> bool:
    """True for types a browser may display in place (images, audio, video; not SVG)."""
    value = base_type(mimetype)
    return value.startswith(_INLINE_MAJORS) and value not in _NEVER_INLINE


def replace(
    row: Any,
    company_id: int,
    data: bytes,
    filename: str | None,
    mimetype: str | None,
    subdir: str,
) -> StoredMedia:
    """Store a file as `row`'s media (media_path/media_name); the file it replaces is
    deleted only after the commit, so a rolled-back request keeps it."""
    stored = save(company_id, data, filename, mimetype, subdir=subdir)
    old = row.media_path
    row.media_path, row.media_name = stored.path, stored.name
    if old:
        after_commit(lambda: delete(company_id, old))
    return stored
