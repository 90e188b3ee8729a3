"""Bad input is a 400 or a 404, never a 500: ids and integers past what an INT column holds
(in every path, query and JSON body of the OpenAPI document), bodies too deep or with lone
surrogates, tokens whose subject is no id, oversized CSV fields, malformed webhooks."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask_jwt_extended import create_access_token

from tests import factories
from whaticket.schemas.base import INT_MAX

#: Past a 64-bit integer (SQLite's overflow), and past INT (MariaDB's, PostgreSQL's).
HUGE = [2**65 + 1, 2**31]


def _resolve(spec: dict, schema: dict) -> dict:
    """A schema with its $ref followed (components of the same document)."""
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _operations(spec: dict) -> Iterator[tuple[str, str, dict, list[dict]]]:
    """(method, path, operation, parameters) of every documented operation."""
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield method, path, op, shared + op.get("parameters", [])


def _url(path: str, params: list[dict], huge: int | None = None) -> str:
    """The path with every integer path parameter set to `huge` (or 1) and strings to "x"."""
    for p in params:
        if p["in"] == "path":
            is_int = p["schema"].get("type") == "integer"
            value = (huge if huge is not None else 1) if is_int else "x"
            path = path.replace("{" + p["name"] + "}", str(value))
    return path


def _integer_properties(spec: dict, op: dict) -> Iterator[tuple[str, bool]]:
    """(name, is a list) of the integer properties of the operation's JSON body."""
    content = (op.get("requestBody") or {}).get("content", {})
    if "application/json" not in content:
        return
    schema = _resolve(spec, content["application/json"]["schema"])
    for name, prop in (schema.get("properties") or {}).items():
        prop = _resolve(spec, prop)
        if prop.get("readOnly"):
            continue  # a dump-only field: never read from the body
        if prop.get("type") == "integer":
            yield name, False
        elif prop.get("type") == "array" and _resolve(spec, prop["items"]).get("type") == "integer":
            yield name, True


@pytest.fixture
def spec(app, client, prefix) -> dict:
    """The served OpenAPI document (its v1 operations refuse a user's JWT as a wrong API
    token: so many from one address that the guessing limit is raised for the walk)."""
    app.config["EXTERNAL_API_MAX_FAILURES_PER_IP"] = 100000
    return client.get(f"{prefix}/openapi.json").get_json()


def _call(client, method: str, url: str, headers: dict, body: Any = None) -> Any:
    return client.open(url, method=method.upper(), json=body, headers=headers)


def test_every_integer_path_parameter_past_int_is_404(client, spec, auth, superuser):
    """`DELETE /prompt/36893488147419103233` and its 45 siblings answered 500 on SQLite."""
    headers = auth(superuser)
    tried = []
    for method, path, _op, params in _operations(spec):
        if not any(p["in"] == "path" and p["schema"].get("type") == "integer" for p in params):
            continue
        for huge in HUGE:
            resp = _call(client, method, _url(path, params, huge), headers, {})
            tried.append(path)
            assert resp.status_code == 404, (method, path, huge, resp.get_json())
    assert len(tried) > 50
    # The documented bound is what the converter enforces.
    (param,) = [
        p for p in spec["paths"]["/api/prompt/{prompt_id}"]["parameters"] if p["in"] == "path"
    ]
    assert param["schema"]["maximum"] == INT_MAX


def test_every_integer_body_field_past_int_is_a_400_naming_it(client, spec, auth, superuser):
    """`PUT /users/2 {"queueIds": [72088842560321996800]}`, `POST /subscription
    {"invoiceId": 8455230968422540843822350336}`: 400 ERR_VALIDATION with the field."""
    headers = auth(superuser)
    checked = 0
    for method, path, op, params in _operations(spec):
        url = _url(path, params)
        for name, is_list in _integer_properties(spec, op):
            for huge in HUGE:
                resp = _call(client, method, url, headers, {name: [huge] if is_list else huge})
                body = resp.get_json() or {}
                if resp.status_code in (401, 403, 404):
                    continue  # not this caller's, or gone: nothing was parsed into a query
                assert resp.status_code == 400, (method, path, name, huge, body)
                assert name in body.get("fields", {}), (method, path, name, body)
                checked += 1
    assert checked > 50


def test_every_integer_query_parameter_past_int_is_a_400(client, spec, auth, superuser):
    headers = auth(superuser)
    checked = 0
    for method, path, _op, params in _operations(spec):
        url = _url(path, params)
        for p in params:
            if p["in"] != "query" or p["schema"].get("type") != "integer":
                continue
            resp = _call(client, method, f"{url}?{p['name']}={2**65}", headers)
            if resp.status_code in (401, 403, 404):
                continue
            assert resp.status_code == 400, (method, path, p["name"], resp.get_json())
            checked += 1
    assert checked > 5


def test_queue_option_id_past_int_is_400_on_every_database(client, prefix, auth, admin, company):
    """MariaDB answered 500 to a `queueOptionId` of 2^31 (SQLite stored it)."""
    ticket = factories.TicketFactory(company=company)
    for huge in HUGE:
        resp = client.put(
            f"{prefix}/tickets/{ticket.id}", json={"queueOptionId": huge}, headers=auth(admin)
        )
        assert resp.status_code == 400, resp.get_json()
        assert "queueOptionId" in resp.get_json()["fields"]


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b'{"email": "a@b.c", "password": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
        b'{"email": "\\ud800@x.com", "password": "secret"}',
        b'{"email": "a@b.c", "password": "\\udfff"}',
        b'{"email": "a@b.c", "password": NaN}',
        b'{"email": "a@b.c", "password": Infinity}',
        b"\xed\xa0\x80",
    ],
)
def test_unparsable_json_is_400_even_unauthenticated(client, prefix, body):
    resp = client.post(f"{prefix}/auth/login", data=body, content_type="application/json")
    assert (resp.status_code, resp.get_json()) == (400, {"error": "ERR_INVALID_JSON"})


def test_paired_surrogates_and_moderate_nesting_still_parse(client, prefix):
    """An emoji written as an escaped surrogate pair is valid JSON: it reaches validation."""
    body = b'{"email": "\\ud83d\\ude00@x.com", "password": "secret"}'
    resp = client.post(f"{prefix}/auth/login", data=body, content_type="application/json")
    assert resp.status_code in (400, 401) and resp.get_json()["error"] != "ERR_INVALID_JSON"
    nested = json.dumps({"email": "a@b.c", "password": "x", "extra": [[[[[[[[1]]]]]]]]})
    resp = client.post(f"{prefix}/auth/login", data=nested, content_type="application/json")
    assert resp.get_json()["error"] != "ERR_INVALID_JSON"


@pytest.mark.parametrize("sub", ["abc", "1.5", "-1", "", str(2**65), "²", "9" * 5000])
def test_token_whose_subject_is_no_id_is_403(app, client, prefix, sub):
    with app.app_context():
        token = create_access_token(identity=sub)
    resp = client.get(f"{prefix}/users", headers={"Authorization": f"Bearer {token}"})
    assert (resp.status_code, resp.get_json()) == (403, {"error": "ERR_INVALID_TOKEN"})


def test_csv_field_over_128_kib_is_400(client, prefix, auth, admin):
    csv = b"name;number\n" + b'"' + b"x" * (200 * 1024) + b'";5511999990000\n'
    resp = client.post(
        f"{prefix}/contacts/upload",
        data={"file": (io.BytesIO(csv), "contacts.csv")},
        headers=auth(admin),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400, resp.get_json()
    assert "file" in resp.get_json()["fields"]


def test_cloud_webhook_with_a_lone_surrogate_is_400_before_routing(client, prefix):
    body = b'{"entry": [{"changes": [{"value": {"metadata": {"phone_number_id": "\\ud800"}}}]}]}'
    for url in (f"{prefix}/webhooks/cloud", f"{prefix}/webhooks/cloud/1"):
        resp = client.post(url, data=body, content_type="application/json")
        assert (resp.status_code, resp.get_json()) == (400, {"error": "ERR_INVALID_JSON"})


@pytest.mark.parametrize(
    "payload",
    [
        {
            "object": "whatsapp_business_account",
            "entry": [{"changes": [{"value": {"metadata": "x"}}]}],
        },
        {"entry": 5},
        {"entry": [{"changes": 7}]},
        {
            "entry": [
                {"changes": [{"value": {"metadata": {"phone_number_id": "1"}, "messages": 3}}]}
            ]
        },
        {"entry": "abc"},
    ],
)
def test_malformed_cloud_webhook_before_the_signature_check_is_not_a_500(client, prefix, payload):
    for url in (f"{prefix}/webhooks/cloud", f"{prefix}/webhooks/cloud/1"):
        resp = client.post(url, json=payload, headers={"X-Hub-Signature-256": "sha256=00"})
        assert resp.status_code in (200, 401), (url, resp.get_json())
