"""File list endpoints (`/files`): page, picker, CRUD, delete-all (own company), uploads."""

from __future__ import annotations

from typing import Any

from flask import request

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.models import FileList
from whaticket.schemas.base import OkSchema
from whaticket.schemas.file_lists import (
    FileListBriefSchema,
    FileListCreateSchema,
    FileListListArgsSchema,
    FileListPageArgsSchema,
    FileListPageSchema,
    FileListSchema,
    FileListUpdateSchema,
)
from whaticket.security import (
    admin_required,
    auth_required,
    current_company_id,
    require_plan_feature,
)
from whaticket.services.campaigns import file_lists as file_list_service

blp = Blueprint("file_lists", __name__, url_prefix="/files", description="File lists")
# The plan decides whether the company has this feature at all (403 otherwise).
blp.before_request(require_plan_feature("use_campaigns"))

_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    "id": {"type": "array", "items": {"type": "integer"}},
                    "mediaType": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["files", "id"],
            }
        }
    },
}


@blp.get("")
@auth_required
@blp.arguments(FileListPageArgsSchema, location="query")
@blp.response(200, FileListPageSchema)
def list_file_lists(args: dict) -> dict[str, Any]:
    """A page of the company's file lists (20, by name) with their options."""
    rows, count, has_more = file_list_service.list_file_lists(
        current_company_id(), args["search_param"], args["page_number"]
    )
    return {"files": rows, "count": count, "has_more": has_more}


@blp.get("/list")
@auth_required
@blp.arguments(FileListListArgsSchema, location="query")
@blp.response(200, FileListBriefSchema(many=True))
def list_all(args: dict) -> list[FileList]:
    """Every file list of the caller's company, searched on the name."""
    return file_list_service.list_all(current_company_id(), args["search_param"])


@blp.post("")
@auth_required
@blp.arguments(FileListCreateSchema)
@blp.response(200, FileListSchema)
def create_file_list(data: dict) -> FileList:
    """Create a file list with its options (their files are uploaded afterwards)."""
    record = file_list_service.create_file_list(current_company_id(), data)
    dbmod.commit()
    return record


@blp.get("/<int:list_id>")
@auth_required
@blp.response(200, FileListSchema)
def show_file_list(list_id: int) -> FileList:
    """One file list of the caller's company, with its options and their signed URLs."""
    return file_list_service.get_file_list(current_company_id(), list_id)


@blp.put("/<int:list_id>")
@admin_required
@blp.arguments(FileListUpdateSchema)
@blp.response(200, FileListSchema)
def update_file_list(data: dict, list_id: int) -> FileList:
    """Update a file list (admins); options, when sent, are the complete set."""
    record = file_list_service.update_file_list(current_company_id(), list_id, data)
    dbmod.commit()
    return record


@blp.delete("/<int:list_id>")
@auth_required
@blp.response(200, OkSchema)
def delete_file_list(list_id: int) -> dict[str, str]:
    """Delete a file list and its stored files."""
    file_list_service.delete_file_list(current_company_id(), list_id)
    dbmod.commit()
    return {"message": "File list deleted"}


@blp.delete("")
@auth_required
@blp.response(200, OkSchema)
def delete_all() -> dict[str, str]:
    """Delete every file list of the caller's company (never another company's)."""
    file_list_service.delete_all(current_company_id())
    dbmod.commit()
    return {"message": "File lists deleted"}


@blp.post("/uploadList/<int:list_id>")
@auth_required
@blp.doc(requestBody=_UPLOAD_BODY)
@blp.response(200, FileListSchema)
def upload_files(list_id: int) -> FileList:
    """Store files for options: multipart `files` aligned with `id` (and `mediaType`)."""
    files = [
        (f.read(), f.filename or "file", f.mimetype or "")
        for f in request.files.getlist("files")
        if f is not None
    ]
    record = file_list_service.upload_files(
        current_company_id(),
        list_id,
        files,
        request.form.getlist("id"),
        request.form.getlist("mediaType"),
    )
    dbmod.commit()
    return record
