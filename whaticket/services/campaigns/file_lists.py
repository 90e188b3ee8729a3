"""File lists (SaaS "Files"): named media sets a campaign sends; CRUD, uploads, events.

Option files are stored under MEDIA_ROOT/<company_id>/file-lists/<listId>/ and removed only
after the change that drops them commits, so a rolled-back request never loses a file.
Events go out as `company{cid}-file` (no dash): the name the SaaS frontend listens for.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.db import after_commit
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import FileList, FileListOption
from whaticket.realtime import rooms
from whaticket.realtime.emit import emit
from whaticket.schemas.file_lists import FileListSchema
from whaticket.services.platform import media
from whaticket.utils.pagination import paginate, search_filter
from whaticket.utils.queries import get_owned, value_taken

PAGE_SIZE = 20


def media_subdir(list_id: int) -> str:
    """Where a list's files are stored, under MEDIA_ROOT/<company_id>/."""
    return f"file-lists/{int(list_id)}"


def event_name(company_id: int) -> str:
    """`company{cid}-file`, without the dash, as the SaaS frontend listens."""
    return f"company{company_id}-file"


def payload(record: FileList) -> dict[str, Any]:
    """The list (with options and signed URLs) as events carry it."""
    return FileListSchema().dump(record)


def _emit(company_id: int, data: dict[str, Any]) -> None:
    emit(event_name(company_id), data, rooms.mainchannel(company_id))


def _emit_delete(company_id: int, list_id: int) -> None:
    # fileListId is our contract; fileId is what the SaaS server sent: both, so either
    # frontend build drops the row.
    _emit(company_id, {"action": "delete", "fileListId": list_id, "fileId": list_id})


def _delete_files_after_commit(company_id: int, paths: list[str]) -> None:
    for path in paths:
        after_commit(lambda path=path: media.delete(company_id, path))


# -- queries ----------------------------------------------------------------------


def get_file_list(company_id: int, list_id: int) -> FileList:
    """A list of the company; another company's list is 404 like a missing one."""
    return get_owned(FileList, list_id, company_id, "ERR_FILE_LIST_NOT_FOUND")


def _search(stmt: sa.Select, search: str) -> sa.Select:
    search = (search or "").strip()
    return stmt.where(search_filter(search, FileList.name)) if search else stmt


def list_file_lists(
    company_id: int, search: str, page_number: int
) -> tuple[list[FileList], int, bool]:
    """A page (20, by name) of the company's lists with their options."""
    stmt = _search(sa.select(FileList).where(FileList.company_id == company_id), search)
    return paginate(stmt.order_by(FileList.name, FileList.id), page_number, PAGE_SIZE)


def list_all(company_id: int, search: str = "") -> list[FileList]:
    """Every list of the company, by name, searched on the name (the campaign picker)."""
    stmt = _search(sa.select(FileList).where(FileList.company_id == company_id), search)
    return list(db.session.scalars(stmt.order_by(FileList.name, FileList.id)))


# -- create / update / delete -----------------------------------------------------


def _check_name(company_id: int, name: str, exclude_id: int | None = None) -> None:
    """Names are unique per company (any case): 400 ERR_DUPLICATED_FILE_LIST."""
    where = (FileList.company_id == company_id,)
    if value_taken(FileList.name, name, exclude_id=exclude_id, where=where):
        raise AppError("ERR_DUPLICATED_FILE_LIST", 400, {"name": ["Name already in use."]})


def create_file_list(company_id: int, data: dict[str, Any]) -> FileList:
    """Create a list and its options (files come later, by upload); emits create."""
    _check_name(company_id, data["name"])
    record = FileList(company_id=company_id, name=data["name"], message=data.get("message") or "")
    db.session.add(record)
    db.session.flush()
    for entry in data.get("options") or []:
        db.session.add(
            FileListOption(company_id=company_id, file_id=record.id, name=entry["name"].strip())
        )
    db.session.flush()
    db.session.refresh(record, ["options"])
    _emit(company_id, {"action": "create", "fileList": payload(record)})
    return record


def _sync_options(record: FileList, entries: list[dict[str, Any]]) -> list[str]:
    """Upsert options by id (unknown ids become new ones); delete the rest.

    Returns the stored paths of the deleted options, for removal after the commit.
    """
    existing = {o.id: o for o in record.options}
    kept: set[int] = set()
    for entry in entries:
        option = existing.get(entry.get("id") or 0)
        if option is None or option.id in kept:
            db.session.add(
                FileListOption(
                    company_id=record.company_id, file_id=record.id, name=entry["name"].strip()
                )
            )
            continue
        kept.add(option.id)
        option.name = entry["name"].strip()
    dropped = [o for oid, o in existing.items() if oid not in kept]
    paths = [o.path for o in dropped if o.path]
    for option in dropped:
        db.session.delete(option)
    return paths


def update_file_list(company_id: int, list_id: int, data: dict[str, Any]) -> FileList:
    """Update name, message and (when sent) the complete set of options; emits update."""
    record = get_file_list(company_id, list_id)
    if data.get("name") is not None:
        _check_name(company_id, data["name"], exclude_id=record.id)
        record.name = data["name"]
    if "message" in data:
        record.message = data["message"] or ""
    paths: list[str] = []
    if data.get("options") is not None:
        paths = _sync_options(record, data["options"])
    db.session.flush()
    db.session.refresh(record, ["options"])
    _delete_files_after_commit(company_id, paths)
    _emit(company_id, {"action": "update", "fileList": payload(record)})
    return record


def _delete_lists(company_id: int, list_ids: list[int]) -> None:
    """Delete lists with their options; their files go once the deletion commits."""
    if not list_ids:
        return
    paths = list(
        db.session.scalars(
            sa.select(FileListOption.path).where(
                FileListOption.file_id.in_(list_ids), FileListOption.path.is_not(None)
            )
        )
    )
    db.session.execute(sa.delete(FileListOption).where(FileListOption.file_id.in_(list_ids)))
    db.session.execute(
        sa.delete(FileList).where(FileList.company_id == company_id, FileList.id.in_(list_ids))
    )
    db.session.flush()
    # The bulk deletes bypassed the identity map: forget the deleted rows.
    db.session.expire_all()
    _delete_files_after_commit(company_id, paths)
    for list_id in list_ids:
        _emit_delete(company_id, list_id)


def delete_file_list(company_id: int, list_id: int) -> None:
    """Delete one list of the company, its options and their files; emits delete."""
    get_file_list(company_id, list_id)
    _delete_lists(company_id, [list_id])


def delete_all(company_id: int) -> int:
    """Delete every list of the caller's company only (the SaaS wiped every company's)."""
    ids = list(db.session.scalars(sa.select(FileList.id).where(FileList.company_id == company_id)))
    _delete_lists(company_id, ids)
    return len(ids)


# -- uploads ----------------------------------------------------------------------


def _option_ids(record: FileList, raw_ids: list[str], count: int) -> list[FileListOption]:
    """The options the uploaded files are for, aligned with them (400 fields.id otherwise)."""
    if len(raw_ids) != count:
        raise AppError("ERR_VALIDATION", 400, {"id": ["One option id per file is required."]})
    by_id = {o.id: o for o in record.options}
    options: list[FileListOption] = []
    for raw in raw_ids:
        try:
            option = by_id.get(int(str(raw).strip()))
        except ValueError:
            option = None
        if option is None:
            raise AppError("ERR_VALIDATION", 400, {"id": [f"Unknown option {raw!r} of this list."]})
        if option in options:
            raise AppError("ERR_VALIDATION", 400, {"id": [f"Option {raw!r} given twice."]})
        options.append(option)
    return options


def upload_files(
    company_id: int,
    list_id: int,
    files: list[tuple[bytes, str, str]],
    option_ids: list[str],
    media_types: list[str] | None = None,
) -> FileList:
    """Store one file per option (multipart `files` aligned with `id` and `mediaType`).

    Every file is checked against the message-upload limits before any is stored: a
    refused file is a 400 and nothing changes. Replaced files go after the commit.
    """
    record = get_file_list(company_id, list_id)
    if not files:
        raise AppError("ERR_VALIDATION", 400, {"files": ["Missing data for required field."]})
    options = _option_ids(record, option_ids, len(files))
    media_types = media_types or []
    declared: list[str] = []
    for index, (data, name, mimetype) in enumerate(files):
        # The part's own type first; the form's mediaType when the browser sent none.
        kind = mimetype if mimetype and mimetype != "application/octet-stream" else ""
        kind = kind or (media_types[index] if index < len(media_types) else "") or mimetype
        try:
            media.validate(data, kind)
        except AppError as exc:
            raise AppError(exc.code, 400, {"files": [f"{name}: {exc.code}"]}) from exc
        declared.append(kind)
    stored: list[media.StoredMedia] = []
    try:
        for (data, name, _), kind in zip(files, declared, strict=True):
            stored.append(media.save(company_id, data, name, kind, subdir=media_subdir(list_id)))
    except BaseException:
        # A disk error half-way: remove what was written, the rows stay as they were.
        for done in stored:
            media.delete(company_id, done.path)
        raise
    old_paths: list[str] = []
    for option, saved, (_, name, _) in zip(options, stored, files, strict=True):
        if option.path:
            old_paths.append(option.path)
        option.path = saved.path
        option.media_type = media.base_type(saved.mimetype)
        if not (option.name or "").strip():
            # A row saved without a label (the SaaS modal allows it): name it after its file.
            option.name = (name or "").strip()[:255]
    db.session.flush()
    _delete_files_after_commit(company_id, old_paths)
    _emit(company_id, {"action": "update", "fileList": payload(record)})
    return record
