"""Sentry: an unhandled error reaches the ingest endpoint (a local stub), with no secret."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from whaticket.ops.sentry import scrub

ROOT = Path(__file__).resolve().parents[2]
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlLXNlY3JldA"
API_TOKEN = "wtk_SecretApiToken0123456789abcdef"
PASSWORD = "Sentry-Pass-w0rd-5150"
BODY = "a message body nobody else may read 6021"

# An app with SENTRY_DSN, a route that fails holding the secrets, one request through it.
SCRIPT = f"""
import sentry_sdk
from whaticket import create_app
app = create_app({{"SENTRY_DSN": __import__("sys").argv[1]}})
@app.post("/boom")
def boom():
    raise RuntimeError("failed for {API_TOKEN} with password={PASSWORD}")
resp = app.test_client().post(
    "/boom",
    json={{"password": "{PASSWORD}", "body": "{BODY}"}},
    headers={{"Authorization": "Bearer {JWT}", "Cookie": "jrt={JWT}"}},
)
assert resp.status_code == 500, resp.status_code
sentry_sdk.flush(timeout=20)
"""


class _Ingest(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        type(self).received.append(raw)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


def test_an_unhandled_error_reaches_sentry_scrubbed(tmp_path):
    _Ingest.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ingest)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    dsn = f"http://publickey@127.0.0.1:{server.server_address[1]}/1"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TEST_")},
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path}/sentry.sqlite3",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    env.pop("REDIS_URL", None)
    try:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, dsn], cwd=ROOT, env=env, capture_output=True, timeout=120
        )
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    envelopes = b"\n".join(_Ingest.received).decode("utf-8", "replace")
    assert "RuntimeError" in envelopes and '"type":"event"' in envelopes.replace(" ", "")
    for secret in (JWT, API_TOKEN, PASSWORD, BODY):
        assert secret not in envelopes, secret


def test_scrub_blanks_credentials_and_bodies_by_name_and_shape():
    event = {
        "request": {"headers": [["Authorization", "Bearer x"], ["Accept", "json"]]},
        "extra": {"apiKey": "k", "note": f"token {API_TOKEN}", "body": BODY},
    }
    out = scrub(event)
    assert out["request"]["headers"] == [["Authorization", "[redacted]"], ["Accept", "json"]]
    assert out["extra"] == {
        "apiKey": "[redacted]",
        "note": "token wtk_[redacted]",
        "body": "[redacted]",
    }
