"""One step down through each door. `python manage.py db downgrade -1` takes
-1 as the revision. `flask db downgrade -1` cannot: click reads -1 as an
option, and Flask resolves the `db` group of Flask-Migrate's entry point
before it loads the app, so nothing of the app runs before that refusal;
`flask db downgrade` (its default is -1) and `flask db downgrade -- -1` go
one step down."""
import pytest

from tests.support import assert_ok, committed_revisions

REVISIONS = [revision for revision, _ in committed_revisions()]


@pytest.mark.backends("sqlite", "postgresql")
def test_one_step_down_through_each_door(project):
    assert_ok(project.flask("db", "upgrade", REVISIONS[-2]))
    assert_ok(project.flask("db", "upgrade"))
    assert project.version() == [REVISIONS[-1]]

    assert_ok(project.flask("db", "downgrade", "--", "-1"))
    assert project.version() == [REVISIONS[-2]]
    assert REVISIONS[-2] in assert_ok(project.flask("db", "current")).stdout

    assert_ok(project.flask("db", "downgrade"))
    assert project.version() == [REVISIONS[-3]]

    assert_ok(project.manage("db", "downgrade", "-1"))
    assert project.version() == [REVISIONS[-4]]


@pytest.mark.backends("sqlite")
def test_flask_db_downgrade_minus_one_is_refused_by_click_and_changes_nothing(project):
    assert_ok(project.flask("db", "upgrade"))
    result = project.flask("db", "downgrade", "-1")
    assert result.returncode == 2
    assert "no such option: -1" in result.stderr.lower()
    assert project.version() == [REVISIONS[-1]]
