"""GET /healthz: the database's revision against the migrations' head."""
from alembic import command

from app import create_app
from app.extensions import db, migrate
from tests.support import committed_revisions

REVISIONS = [revision for revision, _ in committed_revisions()]


def test_healthz_is_200_at_head(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok", "current": [REVISIONS[-1]], "heads": [REVISIONS[-1]], "pending": []
    }


def test_healthz_is_503_and_lists_pending_revisions_when_behind(migrated_app):
    command.downgrade(migrate.get_config(), REVISIONS[1])
    response = migrated_app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "behind"
    assert body["current"] == [REVISIONS[1]]
    assert body["pending"] == REVISIONS[:1:-1]  # the ones after it, newest first
    assert body["fix"] == "python manage.py db upgrade"


def test_healthz_on_an_empty_database_lists_every_revision(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["current"] == []
    assert sorted(response.get_json()["pending"]) == sorted(REVISIONS)


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path):
    (tmp_path / "file").write_text("")
    app = create_app("testing", settings={
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "file" / "app.db")})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "error": "database unavailable"}


def test_healthz_is_503_when_the_database_names_an_unknown_revision(migrated_app):
    with db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'abcdef123456'")
    response = migrated_app.test_client().get("/healthz")
    assert response.status_code == 503
    assert "abcdef123456" in response.get_json()["error"]
