"""File list modal (`src/components/FileModal`): its empty option rows and its uploads."""

from __future__ import annotations

import io

import pytest

from whaticket.extensions import db
from whaticket.models import FileList, FileListOption

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
#: The modal's first row, and each row its "+" button adds.
DEFAULT_ROW = {"name": "", "path": "", "mediaType": ""}
PLUS_ROW = {"name": "", "path": ""}


def _with_file(name: str = "", **row) -> dict:
    """A row the user picked a file for: axios serialises the File object as {}."""
    return {"name": name, "path": "", "mediaType": "", "file": {}, **row}


def _save(client, prefix, auth, user, rows: list[dict], list_id: int | None = None, **extra):
    """What handleSaveFileList sends: the form values plus userId."""
    body = {"name": "Catálogo", "message": "Veja:", "options": rows, "userId": user.id, **extra}
    if list_id is None:
        return client.post(f"{prefix}/files", json=body, headers=auth(user))
    return client.put(f"{prefix}/files/{list_id}", json=body, headers=auth(user))


def _upload_like_the_modal(client, prefix, auth, user, answer: dict, rows: list[dict]):
    """uploadFiles(data.options, values.options, id): the i-th form row's file goes with the
    i-th option of the answer (its id and name)."""
    form: dict = {"fileId": str(answer["id"]), "typeArch": "fileList"}
    files, ids, names, types = [], [], [], []
    for index, row in enumerate(rows):
        if "file" in row:
            option = answer["options"][index]
            files.append((io.BytesIO(PNG), row.get("upload", f"file{index}.png")))
            types.append("image/png")
            names.append(option["name"])
            ids.append(str(option["id"]))
    form.update(files=files, mediaType=types, name=names, id=ids)
    return client.post(
        f"{prefix}/files/uploadList/{answer['id']}",
        data=form,
        headers=auth(user),
        content_type="multipart/form-data",
    )


def _stored(list_id: int) -> list[FileListOption]:
    db.session.expire_all()
    return db.session.get(FileList, list_id).options


def test_the_default_empty_row_is_ignored_on_create(client, prefix, auth, admin):
    """src/components/FileModal/index.js posts options [{name: "", path: "", mediaType: ""}]
    when the user only names the list; it then reads data.options.length."""
    resp = _save(client, prefix, auth, admin, [DEFAULT_ROW, PLUS_ROW])
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["options"] == [] and body["name"] == "Catálogo"
    assert _stored(body["id"]) == []


def test_trailing_empty_rows_are_ignored_and_files_reach_their_rows(client, prefix, auth, admin):
    """Rows with a name (and a picked file) are kept in order; the upload pairs by position."""
    rows = [_with_file("Foto"), {"name": "Tabela", "path": ""}, PLUS_ROW]
    resp = _save(client, prefix, auth, admin, rows)
    assert resp.status_code == 200, resp.get_json()
    answer = resp.get_json()
    assert [o["name"] for o in answer["options"]] == ["Foto", "Tabela"]
    resp = _upload_like_the_modal(client, prefix, auth, admin, answer, rows)
    assert resp.status_code == 200, resp.get_json()
    foto, tabela = _stored(answer["id"])
    assert foto.path and foto.media_type.startswith("image") and tabela.path is None


def test_an_empty_row_before_a_file_keeps_its_place(client, prefix, auth, admin):
    """A blank row above a row with a file is kept (unnamed, no file) so that file is given to
    its own option and not to the one before it; the next save without files drops it."""
    rows = [DEFAULT_ROW, _with_file("Foto", upload="foto.png")]
    resp = _save(client, prefix, auth, admin, rows)
    assert resp.status_code == 200, resp.get_json()
    answer = resp.get_json()
    assert [o["name"] for o in answer["options"]] == ["", "Foto"]
    assert _upload_like_the_modal(client, prefix, auth, admin, answer, rows).status_code == 200
    placeholder, foto = _stored(answer["id"])
    assert placeholder.path is None and foto.name == "Foto" and foto.path

    # Opened again and saved: the modal sends back what GET answered.
    shown = client.get(f"{prefix}/files/{answer['id']}", headers=auth(admin)).get_json()
    resp = _save(client, prefix, auth, admin, shown["options"], list_id=answer["id"])
    assert resp.status_code == 200, resp.get_json()
    assert [o["name"] for o in resp.get_json()["options"]] == ["Foto"]


def test_a_file_without_a_name_is_named_after_it(client, prefix, auth, admin):
    """A row with a picked file but no typed name is kept and labelled with the file's name."""
    rows = [_with_file(upload="promo-natal.png")]
    answer = _save(client, prefix, auth, admin, rows).get_json()
    assert [o["name"] for o in answer["options"]] == [""]
    resp = _upload_like_the_modal(client, prefix, auth, admin, answer, rows)
    assert resp.status_code == 200, resp.get_json()
    assert [o["name"] for o in resp.get_json()["options"]] == ["promo-natal.png"]


def test_empty_rows_added_while_editing_are_ignored(client, prefix, auth, admin):
    """On edit the modal PUTs GET's answer (ids, stored paths, mediaUrl...) plus any "+" rows."""
    created = _save(client, prefix, auth, admin, [{"name": "Foto", "path": ""}]).get_json()
    shown = client.get(f"{prefix}/files/{created['id']}", headers=auth(admin)).get_json()
    rows = [*shown["options"], PLUS_ROW, DEFAULT_ROW]
    resp = _save(client, prefix, auth, admin, rows, list_id=created["id"])
    assert resp.status_code == 200, resp.get_json()
    [option] = resp.get_json()["options"]
    assert option["id"] == created["options"][0]["id"] and option["name"] == "Foto"


@pytest.mark.parametrize(
    "row",
    [{"name": "", "path": "x"}, {"name": " ", "mediaType": "image/png"}, {"id": 999999}],
)
def test_a_row_with_content_still_needs_a_name(client, prefix, auth, admin, row):
    """Only untouched rows are ignored: a row with something in it but no name is a 400."""
    resp = _save(client, prefix, auth, admin, [row])
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "ERR_VALIDATION" and "options" in resp.get_json()["fields"]
    assert db.session.query(FileList).count() == 0
