"""The Flask CLI on the same app: `flask db ...` (Flask-Migrate's click
commands) and `flask db-check`, for projects moving off Flask-Script."""
from tests.support import assert_ok, committed_revisions

REVISIONS = [revision for revision, _ in committed_revisions()]


def test_flask_db_runs_the_same_history(project):
    assert_ok(project.flask("db", "upgrade"))
    assert project.version() == [REVISIONS[-1]]
    assert assert_ok(project.flask("db", "current")).stdout.strip() == REVISIONS[-1] + " (head)"
    history = assert_ok(project.flask("db", "history")).stdout
    assert all(revision in history for revision in REVISIONS)
    assert_ok(project.flask("db", "downgrade", REVISIONS[1]))
    assert project.version() == [REVISIONS[1]]
    # manage.py and flask see the same database.
    assert assert_ok(project.manage("db", "current")).stdout.strip() == REVISIONS[1]


def test_flask_db_check_and_createdb(project):
    assert_ok(project.flask("db", "upgrade"))
    assert "No changes" in assert_ok(project.flask("db-check")).stdout
    project.add_to_model("    nickname = db.Column(db.String(64))")
    changed = project.flask("db-check")
    assert changed.returncode == 1
    assert "nickname" in changed.stdout
    assert "already exists" in assert_ok(project.flask("db-createdb")).stdout


def test_flask_finds_the_app_without_flask_app(project):
    result = assert_ok(project.flask("db", "heads", env={"FLASK_APP": ""}))
    assert REVISIONS[-1] in result.stdout
