"""App-wide behaviour: error bodies, CORS, OpenAPI, production secrets, CLI."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from openapi_spec_validator import validate

from whaticket import create_app
from whaticket.config import ProductionConfig, TestingConfig
from whaticket.extensions import db
from whaticket.models import Company, Plan, Setting, User


def test_unknown_route_and_wrong_method_use_the_error_contract(client, prefix):
    resp = client.get(f"{prefix}/no-such-thing")
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NOT_FOUND"}
    resp = client.patch(f"{prefix}/auth/login")
    assert resp.status_code == 405 and resp.get_json() == {"error": "ERR_METHOD_NOT_ALLOWED"}


def test_malformed_json_is_a_400(client, prefix):
    resp = client.post(
        f"{prefix}/auth/login", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 400
    assert resp.get_json() == {"error": "ERR_INVALID_JSON"}


@pytest.mark.own_app
def test_unexpected_error_is_a_logged_500_without_details(app, client, caplog):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    resp = client.get("/boom")
    assert resp.status_code == 500
    assert resp.get_json() == {"error": "ERR_INTERNAL"}
    assert "secret internals" not in resp.get_data(as_text=True)
    assert "secret internals" in caplog.text


@pytest.mark.own_app
def test_integrity_error_is_a_409_and_rolls_back(app, client, company):
    @app.post("/dupe")
    def dupe():
        db.session.add(Setting(company_id=company.id, key="userRating", value="x"))
        db.session.flush()
        return {}

    resp = client.post("/dupe")
    assert resp.status_code == 409 and resp.get_json() == {"error": "ERR_CONFLICT"}
    values = db.session.scalars(
        sa.select(Setting.value).where(
            Setting.company_id == company.id, Setting.key == "userRating"
        )
    ).all()
    assert values == ["disabled"]


def test_cors_echoes_the_frontend_origin_with_credentials(client, prefix, app):
    origin = app.config["FRONTEND_URL"].split(",")[0]
    resp = client.options(
        f"{prefix}/auth/login",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,authorization",
        },
    )
    assert resp.headers["Access-Control-Allow-Origin"] == origin
    assert resp.headers["Access-Control-Allow-Credentials"] == "true"
    other = client.get(f"{prefix}/plans/list", headers={"Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_openapi_document_is_valid_and_lists_every_route(app, client, prefix):
    resp = client.get(f"{prefix}/openapi.json")
    assert resp.status_code == 200
    spec = resp.get_json()
    validate(spec)
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in {"auth", "users", "companies", "plans", "settings"}:
            continue
        path = rule.rule
        for conv in ("int:", "string:"):
            path = path.replace(f"<{conv}", "{")
        path = path.replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, (path, method)
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["paths"][f"{prefix}/plans/list"]["get"]["security"] == []


def test_docs_page_is_served(client, prefix):
    resp = client.get(f"{prefix}/docs")
    assert resp.status_code == 200 and b"swagger" in resp.data.lower()


def test_empty_prefix_serves_routes_at_the_root():
    class RootConfig(TestingConfig):
        API_PREFIX = ""

    app = create_app(RootConfig)
    with app.app_context():
        db.create_all()
        assert app.test_client().get("/plans/list").status_code == 200
        # The tables may be the suite's shared ones (MariaDB): leave them.
        db.session.remove()
        db.engine.dispose()


def test_production_refuses_default_secrets():
    with pytest.raises(RuntimeError, match="JWT_SECRET_KEY"):
        create_app(ProductionConfig)


def test_production_starts_with_real_secrets():
    class Prod(ProductionConfig):
        SECRET_KEY = "s" * 40
        JWT_SECRET_KEY = "j" * 40
        JWT_REFRESH_SECRET = "r" * 40
        SQLALCHEMY_DATABASE_URI = "sqlite://"

    app = create_app(Prod)
    assert app.config["REFRESH_COOKIE_SECURE"] in (True, False)


def test_seed_is_idempotent_and_creates_a_working_super_admin(app, client, prefix):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0 and "super admin" in first.output
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0 and "nothing to do" in second.output
    assert db.session.scalar(sa.select(sa.func.count(Plan.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Company.id))) == 1
    admin = db.session.scalar(sa.select(User).where(User.email == "admin@admin.com"))
    assert admin.super is True and admin.profile == "admin"
    resp = client.post(
        f"{prefix}/auth/login", json={"email": "admin@admin.com", "password": "123456"}
    )
    assert resp.status_code == 200


def test_create_superuser_command(app, client, prefix):
    runner = app.test_cli_runner()
    runner.invoke(args=["seed"])
    result = runner.invoke(
        args=["create-superuser", "--email", "Boss@Example.com", "--password", "s3cret!"]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "boss@example.com"))
    assert user.super is True
    resp = client.post(
        f"{prefix}/auth/login", json={"email": "boss@example.com", "password": "s3cret!"}
    )
    assert resp.status_code == 200


def test_worker_command_needs_redis(app):
    app.config["REDIS_URL"] = None
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code != 0 and "REDIS_URL" in result.output


def test_seed_gives_the_company_a_default_fake_connection_once(app, client, prefix):
    from whaticket.models import Whatsapp

    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0 and "fake connection" in first.output
    assert "nothing to do" in runner.invoke(args=["seed"]).output
    [conn] = db.session.scalars(sa.select(Whatsapp)).all()
    company = db.session.scalar(sa.select(Company))
    assert conn.company_id == company.id and conn.name == "WhatsApp"
    assert conn.provider == "fake" and conn.is_default is True and conn.status == "CONNECTED"
    token = client.post(
        f"{prefix}/auth/login", json={"email": "admin@admin.com", "password": "123456"}
    ).get_json()["token"]
    rows = client.get(f"{prefix}/whatsapp", headers={"Authorization": f"Bearer {token}"})
    assert [(r["name"], r["isDefault"]) for r in rows.get_json()] == [("WhatsApp", True)]


def test_seed_leaves_a_company_with_connections_alone(app):
    from tests import factories
    from whaticket.cli import seed_database
    from whaticket.models import Whatsapp

    company = factories.CompanyFactory()
    factories.WhatsappFactory(company=company, name="Mine", provider="cloud")
    assert not any("connection" in item for item in seed_database())
    names = db.session.scalars(sa.select(Whatsapp.name)).all()
    assert names == ["Mine"]


def test_lists_answer_with_a_trailing_slash_as_the_spa_asks(client, prefix, admin, auth):
    """The SaaS frontend calls "/whatsapp/?session=0" and "/chats/" on its first screen."""
    from tests import factories

    factories.WhatsappFactory(company=admin.company, name="Main")
    headers = auth(admin)
    with_slash = client.get(f"{prefix}/whatsapp/?session=0", headers=headers)
    without = client.get(f"{prefix}/whatsapp?session=0", headers=headers)
    assert with_slash.status_code == without.status_code == 200
    assert with_slash.get_json() == without.get_json()
    assert [w["name"] for w in with_slash.get_json()] == ["Main"]
    assert client.get(f"{prefix}/chats/", headers=headers).status_code == 200
    assert client.get(f"{prefix}/no-such-list/", headers=headers).status_code == 404


@pytest.mark.shared_db
def test_a_burst_of_requests_keeps_its_connections_open(app):
    """16 requests at once (the workspace bench's concurrency) each hold a connection; all
    16 stay pooled when returned, not closed as overflow (SQLAlchemy's default keeps 5,
    and the rest would reconnect, TCP and login, on every request)."""
    assert app.config["DATABASE_POOL_SIZE"] >= 16
    # An engine made with the app's own options (the test harness binds `db` to one
    # connection).
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], **options)
    held = [engine.connect() for _ in range(16)]
    for conn in held:
        conn.close()
    assert engine.pool.checkedin() == 16
    engine.dispose()


@pytest.mark.shared_db
def test_mariadb_connections_do_not_intersect_indexes(app):
    """The ticket list's visibility filter and count read the (company, status, updated_at)
    index, not an intersection of user_id and company_id that reads every ticket the
    agent ever had (the optimizer's choice with it on: 10 ms per count at bench size)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith(("mysql", "mariadb")):
        pytest.skip("a MariaDB/MySQL optimizer switch")
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    engine = sa.create_engine(url, **options)
    try:
        with engine.connect() as conn:
            switches = conn.scalar(sa.text("SELECT @@optimizer_switch"))
        assert "index_merge_intersection=off" in switches.split(",")
    finally:
        engine.dispose()
