"""Files and FilesOptions: the file lists campaigns send, with their files copied.

A list of the same name (case-insensitive) in the company is it (merged). The old
backend keeps a list's files in `public/fileList/<old list id>/<path>`; each is copied
under `MEDIA_ROOT/<company>/imported/file_lists/`. A file of a list that already has
one of the same name and the same copied file is that file (merged).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.importer import media
from whaticket.importer.chatbot import _company, _keep_media, _same_name
from whaticket.importer.companies import _assign, _stamps
from whaticket.importer.context import Context, Step
from whaticket.importer.mapping import Mapped
from whaticket.importer.source import opt_text, text
from whaticket.models import FileList, FileListOption


class Files(Step):
    """Named file lists with their message."""

    table = "Files"

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write or merge by (company, name)."""
        for row in rows:
            company_id = _company(ctx, self, row)
            if company_id is None:
                continue
            name = text(row.get("name"), 255).strip() or f"Files {row['id']}"
            existing = _same_name(FileList, company_id, name)
            if existing is not None:
                ctx.merged(self, row, existing, "file list of the same name already here")
                continue
            file_list = FileList(
                company_id=company_id,
                name=name,
                message=opt_text(row.get("message")),
                **_stamps(row),
            )
            db.session.add(file_list)
            db.session.flush()
            ctx.written(self, row, file_list.id)

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """Take the changed message."""
        file_list = db.session.get(FileList, mapped.new_id) if mapped.action == "written" else None
        changed = file_list is not None and _assign(
            file_list, {"message": opt_text(row.get("message"))}
        )
        db.session.flush()
        return changed


def _folders(row: dict[str, Any]) -> tuple[str, ...]:
    """Where the old backend keeps a list's file besides the public folder itself."""
    return (f"fileList/{row.get('fileId')}",)


class FilesOptions(Step):
    """The files of each list: label, media type and the file itself."""

    table = "FilesOptions"
    company_via = ("Files", "fileId")

    def __init__(self) -> None:
        #: Old list id -> old company id (the old public folder may hold `company<id>/`).
        self.old_companies: dict[Any, Any] = {}

    def old_company(self, ctx: Context, rows: list[dict[str, Any]], old_file_id: Any) -> Any:
        """The old company of an old list (read per batch for the lists it names)."""
        wanted = {r.get("fileId") for r in rows} - set(self.old_companies)
        if wanted:
            t = ctx.source.table("Files")
            with ctx.source.engine.connect() as conn:
                found = conn.execute(sa.select(t.c.id, t.c.companyId).where(t.c.id.in_(wanted)))
                self.old_companies.update(dict(found.all()))
            self.old_companies.update({w: None for w in wanted if w not in self.old_companies})
        return self.old_companies.get(old_file_id)

    def values(
        self, ctx: Context, rows: list[dict[str, Any]], row: dict[str, Any], file_list: FileList
    ) -> dict[str, Any]:
        """Label, media type and the copied file of an old row ("" path: never uploaded)."""
        old_file = row.get("fileId")
        path, _, _ = media.copy(
            ctx,
            file_list.company_id,
            self.old_company(ctx, rows, old_file),
            row.get("path"),
            "file_lists",
            extra=_folders(row),
        )
        return {
            "name": text(row.get("name"), 255),
            "path": path,
            "media_type": opt_text(row.get("mediaType"), 50) or None,
        }

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write each file of an imported list; one already there is merged."""
        for row in rows:
            file_id = ctx.maps.new_id("Files", row.get("fileId"))
            file_list = db.session.get(FileList, file_id) if file_id is not None else None
            if file_list is None:
                ctx.skipped(self, row, "file list missing (orphan)")
                continue
            values = self.values(ctx, rows, row, file_list)
            same = db.session.scalar(
                sa.select(FileListOption.id).where(
                    FileListOption.file_id == file_list.id,
                    FileListOption.name == values["name"],
                    FileListOption.path.is_(None)
                    if values["path"] is None
                    else FileListOption.path == values["path"],
                )
            )
            if same is not None:
                ctx.merged(self, row, same, "same file of the same name in the list")
                continue
            option = FileListOption(
                company_id=file_list.company_id, file_id=file_list.id, **values, **_stamps(row)
            )
            db.session.add(option)
            db.session.flush()
            ctx.written(self, row, option.id, media.pending(row.get("path"), values["path"]))

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """Take the changed label, media type and file (an upload made since)."""
        if mapped.action != "written":
            return False
        option = db.session.get(FileListOption, mapped.new_id)
        if option is None:
            return False
        file_list = db.session.get(FileList, option.file_id)
        values = _keep_media(self.values(ctx, [row], row, file_list), row.get("path"), "path")
        changed = _assign(option, values)
        db.session.flush()
        return changed

    def attach_media(self, ctx: Context, seen: list[tuple[dict[str, Any], Mapped]]) -> None:
        """Files of list entries imported before without them (a first run without --media)."""
        rows = [row for row, _ in seen]
        media.attach(
            ctx,
            self,
            seen,
            FileListOption,
            "path",
            "file_lists",
            _folders,
            old_company=lambda row: self.old_company(ctx, rows, row.get("fileId")),
            path_attr="path",
            name_attr=None,  # `name` is the entry's label, not the file's
        )
