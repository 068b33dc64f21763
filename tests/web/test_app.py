"""App wiring: health, docs, settings rules, CORS, and the built frontend with SPA fallback."""

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from tests.conftest import make_test_settings
from web_server.core.config import Settings
from web_server.main import create_app


def test_health_and_docs(client):
    assert client.get("/api/v1/health").json() == {"status": "ok", "database": "ok"}
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/auth/login", "/api/v1/users", "/api/v1/users/import", "/api/v1/tests/{test_id}",
                 "/api/v1/tests/{test_id}/attempts", "/api/v1/attempts/{attempt_id}/answers/{question_id}",
                 "/api/v1/attempts/{attempt_id}/submit", "/api/v1/results"):  # fmt: skip
        assert path in paths, path


def test_health_reports_a_broken_database(tmp_path):
    settings = make_test_settings(f"sqlite:///{tmp_path}/missing-dir-file.db", tmp_path)
    app = create_app(settings)
    (tmp_path / "missing-dir-file.db").mkdir()  # a folder where the database file should be: cannot open
    with TestClient(app) as client:
        response = client.get("/api/v1/health")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.json() == {"detail": "The database cannot be reached (OperationalError).", "errors": []}


def test_without_a_built_frontend_root_explains_and_api_404s_stay_json(client):
    root = client.get("/")
    assert root.status_code == 200 and "frontend is not built" in root.text
    assert client.get("/tests/12").status_code == 404
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not Found", "errors": []}


def test_built_frontend_is_served_with_spa_fallback(database_url, tmp_path):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><div id=app>FASEL SPA</div>")
    (dist / "assets" / "app.js").write_text("console.log('fasel')")
    (tmp_path / "secret.txt").write_text("outside")
    app = create_app(make_test_settings(database_url, tmp_path, FRONTEND_DIST=dist))
    with TestClient(app) as client:
        assert "FASEL SPA" in client.get("/").text
        assert "FASEL SPA" in client.get("/student/tests/3").text  # client-side route
        assert "FASEL SPA" in client.get("/documents").text  # only /docs itself is reserved
        asset = client.get("/assets/app.js")
        assert asset.status_code == 200 and "fasel" in asset.text
        assert client.get("/assets/missing.js").status_code == 404
        assert client.get("/api/v1/unknown").status_code == 404
        assert "outside" not in client.get("/..%2Fsecret.txt").text
        assert client.get("/api/v1/health").status_code == 200


def test_secret_key_must_be_set_outside_development():
    with pytest.raises(ValidationError, match="SECRET_KEY must be set"):
        Settings(_env_file=None, ENVIRONMENT="production")
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(_env_file=None, ENVIRONMENT="production", SECRET_KEY="short")
    assert Settings(_env_file=None, ENVIRONMENT="development").SECRET_KEY == ""  # generated on start


def test_settings_normalise_postgres_urls_and_parse_cors_lists(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db:5432/fasel")
    monkeypatch.setenv("CORS_ORIGINS", "http://a.example, http://b.example")
    settings = Settings(_env_file=None)
    assert settings.DATABASE_URL == "postgresql+psycopg://u:p@db:5432/fasel"
    assert settings.CORS_ORIGINS == ["http://a.example", "http://b.example"]
    monkeypatch.setenv("CORS_ORIGINS", '["http://c.example"]')
    assert Settings(_env_file=None).CORS_ORIGINS == ["http://c.example"]


def test_cors_allows_configured_origins(database_url, tmp_path):
    app = create_app(make_test_settings(database_url, tmp_path, CORS_ORIGINS=["http://localhost:5173"]))
    with TestClient(app) as client:
        preflight = client.options(
            "/api/v1/tests",
            headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET"},
        )
        assert preflight.headers.get("access-control-allow-origin") == "http://localhost:5173"
        other = client.get("/api/v1/health", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_sqlite_folder_is_created(tmp_path):
    from sqlalchemy import text

    from web_server.core.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path}/nested/deeper/fasel.db")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
    assert (tmp_path / "nested" / "deeper" / "fasel.db").exists()


def test_out_of_range_ids_and_nul_characters_are_4xx_not_500(client, people):
    huge = 2**40
    assert client.get(f"/api/v1/tests/{huge}", headers=people.teacher).status_code == 404
    assert client.get(f"/api/v1/users/{huge}", headers=people.admin).status_code == 404
    assert client.get(f"/api/v1/attempts/{huge}", headers=people.teacher).status_code == 404
    assert client.post(f"/api/v1/tests/{huge}/attempts", headers=people.student).status_code == 404
    assert client.get("/api/v1/results", headers=people.teacher, params={"test_id": huge}).status_code == 422
    assert client.get("/api/v1/attempts", headers=people.teacher, params={"student_id": 0}).status_code == 422
    assert client.get("/api/v1/tests/abc", headers=people.teacher).status_code == 422

    nul_test = {"title": "A\x00B", "kind": "oral", "questions": [{"prompt": "P"}]}
    response = client.post("/api/v1/tests", headers=people.teacher, json=nul_test)
    assert response.status_code == 422 and "NUL" in response.json()["errors"][0]["msg"]
    assert "title: text must not contain NUL" in response.json()["detail"]
    nul_option = {
        "title": "T",
        "kind": "single_choice",
        "questions": [{"prompt": "P", "options": ["a", "\x00"]}],
    }
    nul_option["questions"][0]["correct_option"] = 0
    assert client.post("/api/v1/tests", headers=people.teacher, json=nul_option).status_code == 422
    assert client.get("/api/v1/tests", headers=people.teacher, params={"topic": "x\x00"}).status_code == 422
    assert client.get("/api/v1/users", headers=people.admin, params={"q": "x\x00"}).status_code == 422
    user = {"username": "nul", "password": "password-1", "full_name": "N\x00L"}
    assert client.post("/api/v1/users", headers=people.admin, json=user).status_code == 422
    login = client.post("/api/v1/auth/login", data={"username": "stu\x00dent", "password": "whatever1"})
    assert login.status_code == 401
    csv = b"username,password,full_name,role\nnul1,password-1,A\x00B,student\n"
    report = client.post(
        "/api/v1/users/import", headers=people.admin, files={"file": ("u.csv", csv, "text/csv")}
    )
    assert (
        report.status_code == 200 and report.json()["created"] == 0 and report.json()["errors"][0]["row"] == 2
    )
    assert client.get("/api/v1/health").json()["status"] == "ok"
