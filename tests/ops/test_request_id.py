"""Request ids: accepted or made, answered, on the request's log lines and in its jobs'."""

from __future__ import annotations

import logging

import pytest

from tests.ops.capture import all_logs
from whaticket import db as dbmod
from whaticket import jobs
from whaticket.ops import context
from whaticket.ops.logs import JsonFormatter
from whaticket.security import auth_required

job_log = logging.getLogger("tests.ops.job")


def log_from_job(text: str) -> None:
    """A job that writes one log line."""
    job_log.info("job says %s", text)


@pytest.fixture
def json_app(app):
    """The app logging as with LOG_FORMAT=json (access lines on); the fixture restores it."""
    app.config.update(LOG_FORMAT="json", ACCESS_LOG=True)
    return app


@pytest.mark.parametrize(
    "sent, kept",
    [
        ("abcDEF12-3456.7890:x_y", True),
        ("short", False),
        ("x" * 129, False),
        ("has space in it", False),
        ('inject"{"level":"ERROR"}', False),
        ("", False),
    ],
)
def test_a_client_id_is_kept_only_when_acceptable(client, prefix, sent, kept):
    resp = client.get(f"{prefix}/version", headers={"X-Request-ID": sent} if sent else {})
    answered = resp.headers["X-Request-ID"]
    assert (answered == sent) is kept
    if not kept:
        assert len(answered) == 32 and int(answered, 16) >= 0


def test_every_answer_has_an_id_errors_too(client, prefix):
    for path in ("/tickets", "/no-such-route"):
        resp = client.get(prefix + path)
        assert resp.status_code in (401, 404)
        assert len(resp.headers["X-Request-ID"]) == 32
        resp.close()  # what a server does once the body is sent
        # Its context ends with it (the test client leaves earlier unclosed ones behind).
        assert context.request_id() != resp.headers["X-Request-ID"]


@pytest.mark.own_app
def test_the_id_travels_into_the_job_and_both_lines(app, client, company, admin, auth):
    app.config.update(LOG_FORMAT="json", ACCESS_LOG=True, JOBS_BACKEND="inline")

    @app.post("/queue-a-job")
    @auth_required
    def queue_a_job():
        job_log.info("request says hello")
        jobs.enqueue(log_from_job, "hi")
        dbmod.commit()
        return {}

    with all_logs() as logs:
        resp = client.post("/queue-a-job", headers={**auth(admin), "X-Request-ID": "req-12345678"})
        resp.close()  # the access line is written when the server closes the body
    assert resp.status_code == 200 and resp.headers["X-Request-ID"] == "req-12345678"
    lines = logs.lines()
    request_line = next(line for line in lines if line["message"] == "request says hello")
    job_line = next(line for line in lines if line["message"] == "job says hi")
    access = next(line for line in lines if line["logger"] == "whaticket.access")
    assert request_line["request_id"] == job_line["request_id"] == "req-12345678"
    assert access["request_id"] == "req-12345678"
    assert job_line["job"] == "tests.ops.test_request_id.log_from_job"
    assert request_line["company_id"] == company.id and request_line["user_id"] == admin.id
    assert access["company_id"] == company.id and access["user_id"] == admin.id
    assert access["status"] == 200 and access["method"] == "POST"
    assert access["route"] == "/queue-a-job" and access["duration_ms"] >= 0


def test_the_id_travels_through_redis_into_the_worker(app, client, prefix, admin, auth):
    """RQ: the id rides in the job's meta; the worker logs the job's lines with it."""
    if not app.config.get("REDIS_URL"):
        pytest.skip("needs Redis (TEST_REDIS_URL)")
    from tests.outages import app_on_redis

    with app_on_redis(app, app.config["REDIS_URL"]):
        with context.bound(request_id="from-a-request-1"), app.test_request_context():
            jobs.enqueue(log_from_job, "through redis")
            dbmod.commit()
        with all_logs() as logs:
            result = app.test_cli_runner().invoke(args=["worker", "--burst", "--no-cron"])
        assert result.exit_code == 0, result.output
    line = next(line for line in logs.lines() if line["message"] == "job says through redis")
    assert line["request_id"] == "from-a-request-1"
    assert line["job"] == "tests.ops.test_request_id.log_from_job" and line["job_id"]


def test_json_lines_carry_the_exception_text_scrubbed():
    try:
        raise RuntimeError("failed with Authorization: Bearer abc.def.ghi")
    except RuntimeError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "it broke", (), __import__("sys").exc_info()
        )
    import json

    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "ERROR" and line["message"] == "it broke"
    assert "RuntimeError" in line["exc"] and "abc.def.ghi" not in line["exc"]
