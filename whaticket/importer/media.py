"""Media files of the old backend's public folder, copied under MEDIA_ROOT/<company>/.

The old backend keeps a message's file as `public/<mediaUrl>` (forks: also
`public/company<id>/<mediaUrl>`; quick messages under `public/quickMessage/`). A copy goes
to `MEDIA_ROOT/<our company id>/imported/<kind>/<digest>-<name>`: the digest of the old
path makes the destination the same on every run, so a second run finds the file there
and an interrupted one never leaves two copies.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from urllib.parse import unquote

from whaticket.importer.context import Context
from whaticket.services.platform import media as media_service


def _old_name(value: str) -> str:
    """The file name a row stores: a bare name, a path, or a URL ending in /public/<name>."""
    value = unquote(value.strip())
    if "/public/" in value:
        value = value.split("/public/", 1)[1]
    return value.lstrip("/")


def _find(root: Path, name: str, old_company_id: object, extra: tuple[str, ...]) -> Path | None:
    """The old file, looked for where the old backends put it (never outside `root`)."""
    root = root.resolve()
    for folder in ("", f"company{old_company_id}", *extra):
        candidate = (root / folder / name).resolve()
        if candidate.is_relative_to(root) and candidate.is_file():
            return candidate
    return None


def copy(
    ctx: Context,
    company_id: int,
    old_company_id: object,
    stored: str | None,
    kind: str,
    extra: tuple[str, ...] = (),
) -> tuple[str | None, str | None, str | None]:
    """Copy one old file for our company: (path under the company folder, file name,
    error). Without --media the row keeps its name and the error says why it has no file."""
    if not stored or not stored.strip():
        return None, None, None
    name = _old_name(stored)
    display = media_service.sanitize_filename(Path(name).name)
    media_dir = ctx.options.media_dir
    if not media_dir:
        ctx.report.media["not copied (no --media)"] += 1
        return None, display, "media not imported"
    source = _find(Path(media_dir), name, old_company_id, extra)
    if source is None:
        ctx.report.media["missing in the old public folder"] += 1
        return None, display, "media file missing in the old backend"
    digest = hashlib.sha1(str(source).encode()).hexdigest()[:16]
    rel = f"imported/{kind}/{digest}-{display}"
    if ctx.options.dry_run:
        ctx.report.media["would copy"] += 1
        return rel, display, None
    target = media_service.company_root(company_id) / rel
    if target.is_file() and target.stat().st_size == source.stat().st_size:
        ctx.report.media["already copied"] += 1
        return rel, display, None
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    shutil.copyfile(source, partial)
    partial.replace(target)  # atomic: a crash never leaves a half file under the real name
    ctx.report.media["copied"] += 1
    return rel, display, None
