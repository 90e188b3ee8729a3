"""Media storage (layout, sniffing, limits, names) and `GET /public/...` (signed URL or
the company's token; everything else, traversal included, is the same 404)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from whaticket.errors import AppError
from whaticket.services.platform import media
from whaticket.utils import media_urls
from whaticket.utils.urls import backend_base_url

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.4\n" + b"0" * 64


@pytest.fixture(autouse=True)
def media_root(app, tmp_path) -> Path:
    root = tmp_path / "media"
    app.config["MEDIA_ROOT"] = str(root)
    return root


def _path_of(url: str) -> str:
    """The path and query of a public URL (the test client talks to the app directly)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _get(client, url: str, **kwargs):
    """GET and read the body, closing the file send_file opened."""
    resp = client.get(url, **kwargs)
    resp.get_data()
    resp.close()
    return resp


# -- storage -------------------------------------------------------------------------


def test_save_layout_and_sniffed_type(company, media_root):
    stored = media.save(company.id, JPEG, "My Photo.JPG", "application/octet-stream")
    assert re.fullmatch(r"messages/\d{4}/\d{2}/[0-9a-f]{32}-My_Photo\.JPG", stored.path)
    assert stored.name == "My_Photo.JPG" and stored.size == len(JPEG)
    assert stored.mimetype == "image/jpeg" and stored.media_type == "image"
    on_disk = media_root / str(company.id) / stored.path
    assert on_disk.read_bytes() == JPEG
    assert media.absolute_path(company.id, stored.path) == on_disk.resolve()


@pytest.mark.parametrize(
    ("data", "declared", "mimetype", "media_type"),
    [
        (PNG, "image/jpeg", "image/png", "image"),
        (b"GIF89a" + b"\0" * 10, "", "image/gif", "image"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "", "image/webp", "image"),
        (PDF, "application/octet-stream", "application/pdf", "application"),
        (b"OggS\0" + b"\0" * 20, "audio/ogg; codecs=opus", "audio/ogg; codecs=opus", "audio"),
        (b"ID3\x03" + b"\0" * 20, "", "audio/mpeg", "audio"),
        (b"\xff\xfb\x90\x00" + b"\0" * 20, "", "audio/mpeg", "audio"),
        (b"\0\0\0\x18ftypisom" + b"\0" * 20, "", "video/mp4", "video"),
        (b"\0\0\0\x18ftypisom" + b"\0" * 20, "audio/mp4", "audio/mp4", "audio"),
        (b"\0\0\0\x18ftypM4A " + b"\0" * 20, "", "audio/mp4", "audio"),
        (b"name,number\nAna,5511\n", "text/csv", "text/csv", "application"),
    ],
)
def test_type_comes_from_content_then_declaration(company, data, declared, mimetype, media_type):
    stored = media.save(company.id, data, "f", declared)
    assert stored.mimetype == mimetype and stored.media_type == media_type


def test_names_are_sanitised_and_stay_in_the_company_folder(company, media_root):
    for name in ("../../etc/passwd", "/abs/evil.png", "..", "", None, "a\\..\\b.txt"):
        stored = media.save(company.id, PNG, name, "image/png")
        assert "/" not in stored.name and "\\" not in stored.name
        assert stored.name not in (".", "..") and not stored.name.startswith(".")
        target = media.absolute_path(company.id, stored.path)
        assert target.is_relative_to((media_root / str(company.id)).resolve())
    assert media.save(company.id, PNG, "", "image/png").name == "file.png"
    long = media.save(company.id, PNG, "x" * 500 + ".png", "image/png")
    assert len(long.name) <= media.MAX_NAME_LENGTH and long.name.endswith(".png")


def test_subdir_must_be_plain(company):
    assert media.save(company.id, PNG, "q.png", "image/png", subdir="quickMessage").path.startswith(
        "quickMessage/"
    )
    for bad in ("../x", "/abs", "a/../b", ""):
        with pytest.raises(ValueError):
            media.save(company.id, PNG, "q.png", "image/png", subdir=bad)


def test_size_limit_is_413(app, company, media_root):
    app.config["MEDIA_MAX_BYTES"] = len(JPEG) - 1
    with pytest.raises(AppError) as exc:
        media.save(company.id, JPEG, "p.jpg", "image/jpeg")
    assert exc.value.status == 413 and exc.value.code == "ERR_FILE_TOO_LARGE"
    assert not (media_root / str(company.id)).exists()


@pytest.mark.parametrize(
    ("data", "declared"),
    [
        (b"MZ\x90\x00", "application/x-msdownload"),
        (b"<html><script>x</script>", "text/html"),
        (b"<svg/>", "application/octet-stream"),
        (b"whatever", ""),
    ],
)
def test_type_limit_is_415(company, data, declared):
    with pytest.raises(AppError) as exc:
        media.save(company.id, data, "f", declared)
    assert exc.value.status == 415 and exc.value.code == "ERR_UNSUPPORTED_MEDIA_TYPE"


def test_allowed_types_come_from_config(app, company):
    app.config["MEDIA_ALLOWED_TYPES"] = ["image/png"]
    assert media.save(company.id, PNG, "a.png", "image/png").mimetype == "image/png"
    with pytest.raises(AppError):
        media.save(company.id, JPEG, "a.jpg", "image/jpeg")


def test_absolute_path_refuses_what_is_outside_or_missing(company, other_company, media_root):
    theirs = media.save(other_company.id, PNG, "t.png", "image/png")
    bad = [
        f"../{other_company.id}/{theirs.path}",
        f"messages/../../{other_company.id}/{theirs.path}",
        "/etc/passwd",
        "messages/nope.png",
        "",
        "messages\\..\\x",
        "a\x00b",
        ".",
    ]
    for rel in bad:
        with pytest.raises(AppError) as exc:
            media.absolute_path(company.id, rel)
        assert exc.value.status == 404


def test_symlinks_out_of_the_folder_are_refused(company, media_root, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    folder = media_root / str(company.id) / "messages"
    folder.mkdir(parents=True)
    (folder / "link.txt").symlink_to(secret)
    with pytest.raises(AppError):
        media.absolute_path(company.id, "messages/link.txt")


def test_public_url_shape(app, company):
    stored = media.save(company.id, PNG, "a.png", "image/png")
    url = media_urls.public_url(company.id, stored.path)
    # Outside a request, with BACKEND_URL unset: HOST:PORT (tests/contract/test_links.py).
    base = backend_base_url() + app.config["API_PREFIX"]
    assert url.startswith(f"{base}/public/{company.id}/{stored.path}?exp=")
    exp, sig = re.fullmatch(r".*\?exp=(\d+)&sig=([0-9a-f]{64})", url).groups()
    assert media_urls.signature_valid(company.id, stored.path, exp, sig)
    assert not media_urls.signature_valid(other := company.id + 1, stored.path, exp, sig), other
    # The expiry is signed too: a later one does not keep the link alive.
    assert not media_urls.signature_valid(company.id, stored.path, str(int(exp) + 1), sig)


def test_delete(company):
    stored = media.save(company.id, PNG, "a.png", "image/png")
    assert media.delete(company.id, stored.path) is True
    assert media.delete(company.id, stored.path) is False


# -- GET /public ---------------------------------------------------------------------


def test_signed_url_serves_inline_without_a_token(client, company):
    stored = media.save(company.id, JPEG, "p.jpg", "image/jpeg")
    resp = _get(client, _path_of(media_urls.public_url(company.id, stored.path)))
    assert resp.status_code == 200 and resp.data == JPEG
    assert resp.mimetype == "image/jpeg"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Disposition"].startswith("inline")
    assert "p.jpg" in resp.headers["Content-Disposition"]
    assert "private" in resp.headers["Cache-Control"]


def test_documents_download_as_attachments(client, company):
    stored = media.save(company.id, PDF, "doc.pdf", "application/pdf")
    resp = _get(client, _path_of(media_urls.public_url(company.id, stored.path)))
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.headers["Content-Disposition"].startswith("attachment")


def test_a_renamed_html_file_never_renders_as_html(client, company):
    stored = media.save(company.id, b"<script>alert(1)</script>", "x.html", "text/plain")
    resp = _get(client, _path_of(media_urls.public_url(company.id, stored.path)))
    assert resp.status_code == 200
    assert resp.mimetype == "application/octet-stream"
    assert resp.headers["Content-Disposition"].startswith("attachment")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_tampered_or_missing_signature_is_404(client, prefix, company, other_company):
    stored = media.save(company.id, JPEG, "p.jpg", "image/jpeg")
    url = _path_of(media_urls.public_url(company.id, stored.path))
    sig = url.rsplit("sig=", 1)[1]
    flipped = ("0" if sig[0] != "0" else "1") + sig[1:]
    theirs = media.save(other_company.id, JPEG, "t.jpg", "image/jpeg")
    for bad in (
        url.replace(sig, flipped),
        url.split("?")[0],
        url.split("?")[0] + "?sig=",
        # A valid signature of one file does not open another.
        f"{prefix}/public/{other_company.id}/{theirs.path}?sig={sig}",
        f"{prefix}/public/{other_company.id}/{stored.path}?sig={sig}",
    ):
        resp = _get(client, bad)
        assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NOT_FOUND"}, bad


def test_the_company_token_opens_files_without_a_signature(
    client, prefix, auth, agent, other_admin, company
):
    stored = media.save(company.id, JPEG, "p.jpg", "image/jpeg")
    url = f"{prefix}/public/{company.id}/{stored.path}"
    assert _get(client, url, headers=auth(agent)).status_code == 200
    # Another company's token, a bad token, no token: the same 404 (never 401/403).
    for headers in (auth(other_admin), {"Authorization": "Bearer junk"}, {}):
        resp = _get(client, url, headers=headers)
        assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NOT_FOUND"}


def test_missing_files_are_404_even_when_signed(client, company):
    rel = "messages/2024/01/nothing.jpg"
    resp = _get(client, _path_of(media_urls.public_url(company.id, rel)))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NOT_FOUND"}


def test_path_traversal_is_404(client, prefix, auth, admin, company, other_company, media_root):
    theirs = media.save(other_company.id, JPEG, "t.jpg", "image/jpeg")
    (media_root / "top.jpg").write_bytes(JPEG)
    attempts = [
        f"../{other_company.id}/{theirs.path}",
        f"messages/../../{other_company.id}/{theirs.path}",
        "../top.jpg",
        "%2e%2e/top.jpg",
        "%2E%2E%2Ftop.jpg",
        "..%2ftop.jpg",
        "messages/..%5c..%5ctop.jpg",
        "/etc/passwd",
        "%2fetc%2fpasswd",
    ]
    for rel in attempts:
        # Signed (as if the signer had been fooled) and with a valid company token.
        exp = media_urls.expiry()
        sig = media_urls.signature(company.id, rel, exp)
        signed = f"{prefix}/public/{company.id}/{rel}?exp={exp}&sig={sig}"
        for url, headers in ((signed, {}), (f"{prefix}/public/{company.id}/{rel}", auth(admin))):
            # "//etc" is first redirected by routing (merge_slashes): follow it to the 404.
            resp = _get(client, url, headers=headers, follow_redirects=True)
            assert resp.status_code == 404, (url, resp.status_code)
            assert resp.data != JPEG
