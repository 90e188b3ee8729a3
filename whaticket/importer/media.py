"""Media files of the old backend's public folder, copied under MEDIA_ROOT/<company>/.

The old backend keeps a message's file as `public/<mediaUrl>` (forks: also
`public/company<id>/<mediaUrl>`; quick messages under `public/quickMessage/`). A copy goes
to `MEDIA_ROOT/<our company id>/imported/<kind>/<digest>-<name>`: the digest of the old
path makes the destination the same on every run, so a second run finds the file there
and an interrupted one never leaves two copies.

A row written without its file (no --media, or the file missing from the public folder)
is marked `PENDING` in the map; a later run with --media copies the file and points that
row at it (`attach`): the row is not written again, and a row edited here meanwhile keeps
its edits (only its media columns are set).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.importer.context import Context, Step
from whaticket.importer.mapping import Mapped
from whaticket.importer.source import opt_text
from whaticket.services.platform import media as media_service

#: The map's note on a written row whose file was not copied (a --media run retries it).
PENDING = "media not copied yet"
#: The errors a message keeps while its file is not copied (cleared when it is).
NOT_COPIED = "media not imported"
MISSING = "media file missing in the old backend"


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
        return None, display, NOT_COPIED
    source = _find(Path(media_dir), name, old_company_id, extra)
    if source is None:
        ctx.report.media["missing in the old public folder"] += 1
        return None, display, MISSING
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


def pending(stored: str | None, path: str | None) -> str | None:
    """`PENDING` when a row names a file that was not copied (else None): `Context.written`
    keeps it in the map for a later --media run."""
    return PENDING if stored and stored.strip() and path is None else None


def attach(
    ctx: Context,
    step: Step,
    seen: list[tuple[dict[str, Any], Mapped]],
    model: Any,
    column: str,
    kind: str,
    extra: tuple[str, ...] | Callable[[dict[str, Any]], tuple[str, ...]] = (),
    *,
    old_company: Callable[[dict[str, Any]], object] | None = None,
    path_attr: str = "media_path",
    name_attr: str | None = "media_name",
    frozen: Callable[[Any, dict[str, Any]], str | None] | None = None,
) -> None:
    """Rows written before whose file was not copied (`PENDING` in the map): copy the file
    named by the old row's `column` and point our row (`model`) at it.

    `extra` (folders to look in, or a function of the old row giving them) and
    `old_company` (default: the row's companyId) say where the old file is, as the step's
    insert looked; `path_attr`/`name_attr` are our row's columns. `frozen(our row, old row)`
    names why our row must stay as it is (e.g. a campaign started here since): it is left
    without the file and no longer waits for it."""
    todo = [(row, m) for row, m in seen if m.reason == PENDING and m.new_id is not None]
    if not todo:
        return
    ours = {
        obj.id: obj
        for obj in db.session.scalars(
            sa.select(model).where(model.id.in_([m.new_id for _, m in todo]))
        )
    }
    settled: list[str] = []
    for row, m in todo:
        obj = ours.get(m.new_id)
        if obj is None:  # deleted here since: nothing to point at the file
            settled.append(step.old_id(row))
            continue
        why = frozen(obj, row) if frozen is not None else None
        if why is not None:
            ctx.report.note(step.table, "note", step.old_id(row), f"{why}: file not attached")
            settled.append(step.old_id(row))
            continue
        path, name, _ = copy(
            ctx,
            obj.company_id,
            old_company(row) if old_company is not None else row.get("companyId"),
            row.get(column),
            kind,
            extra(row) if callable(extra) else extra,
        )
        if path is None:  # still missing: stays pending (counted by `copy`)
            continue
        setattr(obj, path_attr, path)
        if name_attr is not None:
            # The name the old row gave the file, else the file's own (as on insert).
            shown = getattr(obj, name_attr) or opt_text(row.get("mediaName"), 255) or name
            setattr(obj, name_attr, shown)
        if getattr(obj, "media_error", None) in (NOT_COPIED, MISSING):
            obj.media_error = None
        settled.append(step.old_id(row))
        ctx.report.media["attached to rows imported before"] += 1
    db.session.flush()
    ctx.maps.settle(step.table, settled)
